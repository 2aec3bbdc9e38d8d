//! `sl-train`: command-line arguments and the main function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use burn_lrfree::registry::canonical_names;
use lrfree_runkit::RunError;
use lrfree_runkit::cli::{SeedArgs, at_least_one, cores};
use lrfree_runkit::files::{check_empty_out, default_out};

use crate::config::SlConfig;
use crate::device;
use crate::run::{self, SlPlan};

/// Train image models with learning-rate-free optimizers over several seeds, and record
/// training loss, test accuracy (or mIoU) and the optimizers' estimated learning rates.
/// Without arguments: the shipped 8×8 digits, a small convnet, adam and ps-da-sgd.
#[derive(Debug, Parser)]
#[command(
    name = "sl-train",
    version,
    after_help = "Records and options: docs/sl.md. Defaults per task: configs/sl-*.toml."
)]
pub struct Args {
    /// Task: digits (shipped), cifar100, imagefolder, ade20k, stl10.
    #[arg(long)]
    pub task: Option<String>,
    /// Model: mlp, cnn, resnet32, vgg19, vit-tiny, segnet (ade20k), simclr.
    #[arg(long)]
    pub model: Option<String>,
    /// Optimizer(s), comma-separated: sgd, sps, dog, ldog, dadapt-sgd, cocob, adam, dadapt-adam, prodigy, ps-sps, ps-da-sgd.
    #[arg(long, value_delimiter = ',', default_value = "adam,ps-da-sgd")]
    pub opt: Vec<String>,
    /// Which seeds.
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Epochs (overrides the config; SimCLR: pre-training epochs).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Training batch size (overrides the config).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Dataset directory (a digits CSV file for --task digits; overrides the config).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// A TOML config (format of configs/sl-*.toml); the task's built-in defaults otherwise.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run directory (default: runs/sl-<task>-<model>-<optimizers>-<date>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seeds trained in parallel, one thread each (default: the number of CPU cores).
    #[arg(long, value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Where to train: cpu, cuda, or auto (CUDA if usable, else the CPU, saying so)
    /// [default: the config's `device`, else cuda in a build with the `cuda` feature, else cpu].
    #[arg(long)]
    pub device: Option<String>,
    /// Do not draw the figures at the end.
    #[arg(long)]
    pub no_plots: bool,
    /// Train nothing: print the Table-3 report of these run directories (and write
    /// sl-report.md/.csv into --out when given).
    #[arg(long, num_args = 1.., value_name = "RUN_DIR", conflicts_with_all = ["task", "model", "config", "epochs", "data", "device"])]
    pub report: Vec<PathBuf>,
    /// rl-train's opt-in for SPS-type methods on SAC's critics; refused here with the reason.
    #[arg(long, hide = true)]
    pub sps_critics_only: bool,
}

impl Args {
    /// The plan these arguments describe.
    pub fn plan(&self) -> Result<SlPlan, RunError> {
        if self.sps_critics_only {
            return Err(RunError::Usage(SPS_OPT_IN_IS_RL.into()));
        }
        let mut config = match &self.config {
            Some(path) => SlConfig::load(path)?,
            None => SlConfig::builtin(self.task.as_deref().unwrap_or("digits"))?,
        };
        if let (Some(task), Some(path)) = (&self.task, &self.config)
            && !task.eq_ignore_ascii_case(&config.task)
        {
            return Err(RunError::Usage(format!(
                "--task {task} contradicts task = \"{}\" in {}",
                config.task,
                path.display()
            )));
        }
        if let Some(model) = &self.model {
            config.model = model.clone();
        }
        config.model = config.model_kind()?.name().to_string();
        config.epochs = self.epochs.unwrap_or(config.epochs);
        config.batch_size = self.batch_size.unwrap_or(config.batch_size);
        if let Some(data) = &self.data {
            config.data = Some(data.clone());
        }
        if let Some(device) = &self.device {
            config.device = device.parse()?;
        }
        let seeds = self.seeds.resolve(1);
        let optimizers = canonical_names(&self.opt)
            .map_err(|e| RunError::Usage(e.to_string()))?
            .into_iter()
            .map(String::from)
            .collect();
        Ok(SlPlan {
            task: config.task.clone(),
            model: config.model.clone(),
            epochs: config.epochs as u64,
            optimizers,
            seeds,
            config,
        })
    }
}

/// Why `sps_critics_only` (flag or config key) is refused by `sl-train`.
pub const SPS_OPT_IN_IS_RL: &str = "sps_critics_only is for RL runs (rl-train), where SAC's actor and temperature losses have no \
     optimal value; supervised losses are bounded below by 0, so SPS and PS-SPS run on the whole network here";

/// Parse arguments, run, print the Table-3 lines and draw; exit 2 on usage errors, 1 on I/O.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let jobs = args.jobs.unwrap_or_else(cores);
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // The cores are shared out between the seeds trained in parallel.
        // SAFETY: no other thread exists yet.
        unsafe {
            std::env::set_var(
                "RAYON_NUM_THREADS",
                (cores() / jobs.max(1)).max(1).to_string(),
            )
        };
    }
    match run_with(&args, jobs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sl-train: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--report`: the table of existing runs.
fn report_only(args: &Args) -> Result<(), RunError> {
    let report =
        lrfree_plots::sl::build_sl_report(&args.report).map_err(|e| match e.exit_code() {
            2 => RunError::Usage(e.to_string()),
            _ => RunError::Io(e.to_string()),
        })?;
    for w in &report.warnings {
        eprintln!("sl-train: {w}");
    }
    print!("{}", report.to_markdown());
    if let Some(out) = &args.out {
        let files = report.write(out).map_err(|e| RunError::Io(e.to_string()))?;
        println!(
            "report: {}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

fn run_with(args: &Args, jobs: usize) -> Result<(), RunError> {
    if !args.report.is_empty() {
        return report_only(args);
    }
    let mut plan = args.plan()?;
    let out = args.out.clone().unwrap_or_else(|| {
        default_out(
            &format!("sl-{}-{}", plan.task, plan.model),
            &plan.optimizers,
        )
    });
    check_empty_out(&out)?;
    if plan.config.flush_denormals {
        // Burn's CPU ops may run on rayon's workers: they flush subnormals too. Fails only when
        // the pool already exists (a second run in one process), which leaves it as it was.
        let _ = rayon::ThreadPoolBuilder::new()
            .start_handler(|_| {
                burn_lrfree::internals::flush_denormals(true);
            })
            .build_global();
    }
    let (data, norm) = run::prepare(&plan)?;
    // Before the run directory exists: a CUDA that cannot run leaves nothing behind.
    let (chosen, device) = device::open(plan.config.device, "sl-train")?;
    plan.config.device = chosen;
    run::create(&out, &plan)?;
    eprintln!(
        "sl-train: {} on {} ({}) with {} for {} epochs, seeds {:?}, device {} -> {}",
        plan.model,
        plan.task,
        data.describe(),
        plan.optimizers.join(","),
        plan.epochs,
        plan.seeds,
        plan.config.device,
        out.display()
    );
    let (summary, throughput) = run::execute(&out, &plan, &data, &norm, jobs, &device)?;
    let metric = if summary.metric == "test_miou" {
        "test mIoU %"
    } else {
        "test accuracy %"
    };
    println!(
        "{} / {} ({} epochs, {} seeds): {metric} (final train loss)",
        summary.task,
        summary.model,
        summary.epochs,
        plan.seeds.len()
    );
    for r in &summary.results {
        println!("  {}", r.line());
    }
    println!("{}", throughput.line());
    match lrfree_plots::sl::build_sl_report(std::slice::from_ref(&out)) {
        Ok(report) => {
            if let Err(e) = report.write(&out) {
                eprintln!("sl-train: could not write the report ({e})");
            }
            println!("\n{}", report.to_markdown());
        }
        Err(e) => eprintln!("sl-train: could not build the report ({e})"),
    }
    if !args.no_plots {
        // Figures are a convenience: a failure to draw them does not fail the run.
        let formats = [lrfree_plots::Format::Png, lrfree_plots::Format::Svg];
        match lrfree_plots::sl::write_sl_plots(&out, &formats, None) {
            Ok((files, _)) => println!(
                "figures: {}",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => eprintln!("sl-train: could not draw the figures ({e})"),
        }
    }
    println!("records: {}", out.display());
    Ok(())
}
