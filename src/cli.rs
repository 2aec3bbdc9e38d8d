//! `rl-train`: command-line arguments and the main function.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use burn_lrfree::registry::canonical_names;
use lrfree_runkit::RunError;
use lrfree_runkit::cli::{SeedArgs, at_least_one, cores};
use lrfree_runkit::files::default_out;

use crate::config::{ConfigFile, RunConfig};
use crate::device;
use crate::run::{self, RunPlan};
use crate::tasks;

/// Train SAC with learning-rate-free optimizers over several seeds, and record returns,
/// success rates and the optimizers' estimated learning rates.
#[derive(Debug, Parser)]
#[command(
    name = "rl-train",
    version,
    after_help = "Records: docs/records.md. Defaults per environment: configs/*.toml.",
    // What a run is: a resumed run keeps the one it was started with, so these are refused
    // with --resume rather than silently ignored.
    group(clap::ArgGroup::new("run_shape").multiple(true).args([
        "env", "opt", "seeds", "seed_list", "steps", "learning_starts", "config",
        "eval_every", "eval_episodes", "checkpoint_every", "success_threshold",
        "sps_critics_only", "diagnostics", "agent",
    ]))
)]
pub struct Args {
    /// Environment: Pendulum, MountainCarContinuous (native), Hopper, Humanoid (in any case)
    /// or any Gymnasium id (with --success-threshold, unless a --config gives one).
    #[arg(long)]
    pub env: Option<String>,
    /// Optimizer(s), comma-separated: sgd, sps, dog, ldog, dadapt-sgd, cocob, adam, dadapt-adam, prodigy, ps-sps, ps-da-sgd
    /// [default: ps-da-sgd, or a suite file's list].
    #[arg(long, value_delimiter = ',')]
    pub opt: Option<Vec<String>>,
    /// Which seeds.
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Environment steps per seed (overrides the config).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Random steps before learning starts (overrides the config).
    #[arg(long)]
    pub learning_starts: Option<u64>,
    /// A TOML config (format of configs/*.toml) or a suite file (configs/suite-*.toml: its
    /// optimizers, seeds, steps, jobs and run directory, each overridable by the flags); the
    /// environment's built-in defaults otherwise.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run directory (default: runs/<env>-<optimizers>-<date>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Evaluate every N steps (overrides the config).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation (overrides the config).
    #[arg(long)]
    pub eval_episodes: Option<usize>,
    /// Checkpoint every N steps (overrides the config).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// The final evaluation return that makes a seed a success (overrides the config; needed
    /// for a Gymnasium id without a built-in config).
    #[arg(long)]
    pub success_threshold: Option<f64>,
    /// Seeds trained in parallel, one thread each (default: the number of CPU cores).
    #[arg(long, value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Continue the run in --out (a killed run ends with the same records as an uninterrupted one).
    /// The run keeps its own configuration: options that would change it are refused.
    #[arg(long, requires = "out", conflicts_with = "run_shape")]
    pub resume: bool,
    /// The agent: sac or td3 [default: the config's `agent`, else sac]. Its options: the
    /// config's `[sac]` or `[agents.td3]` table.
    #[arg(long)]
    pub agent: Option<String>,
    /// Run SPS and PS-SPS on SAC's critics only, actor on adam (beyond the paper, which
    /// leaves them out of RL: they need the loss at the optimum). Without it they are refused.
    #[arg(long)]
    pub sps_critics_only: bool,
    /// Record what moves each D-Adaptation-type optimizer's D in each seed's diagnostics.csv
    /// (config key `diagnostics`; drawn by rl-plot as diagnostics.png).
    #[arg(long)]
    pub diagnostics: bool,
    /// Where to train: cpu, cuda, or auto (CUDA if usable, else the CPU, saying so)
    /// [default: the config's `device`, else cuda in a build with the `cuda` feature, else cpu].
    /// A resumed run keeps the device it ran on.
    #[arg(long, conflicts_with = "resume")]
    pub device: Option<String>,
    /// Print the suite's tasks (one optimizer and seed each, optimizer-major) with their
    /// index, and exit; writes nothing. Needs a suite file (--config configs/suite-*.toml).
    #[arg(long, conflicts_with_all = ["resume", "task"])]
    pub list_tasks: bool,
    /// Run only task K of the suite (see --list-tasks) into the suite's run directory, which
    /// tasks on other machines share; a task started again continues from its checkpoint.
    /// `auto` takes K from the job array: LRFREE_TASK_ID, a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX or Slurm's SLURM_ARRAY_TASK_ID (docs/cluster.md).
    #[arg(long, value_name = "K|auto", conflicts_with = "resume", value_parser = tasks::TaskArg::parse)]
    pub task: Option<tasks::TaskArg>,
    /// Do not draw progress bars (one line per evaluation on stderr instead).
    #[arg(long)]
    pub no_progress: bool,
    /// Do not draw the reward and learning-rate figures at the end.
    #[arg(long)]
    pub no_plots: bool,
}

/// A new run as the arguments describe it, with a suite file's run directory and job count
/// where the flags give none.
pub struct Resolved {
    /// What to train.
    pub plan: RunPlan,
    /// Whether --config was a suite file.
    pub suite: bool,
    /// `--out`, else the suite's `out`.
    pub out: Option<PathBuf>,
    /// `--jobs`, else the suite's `jobs`.
    pub jobs: Option<usize>,
}

impl Args {
    /// The plan, run directory and job count these arguments describe (for a new run).
    pub fn resolve(&self) -> Result<Resolved, RunError> {
        let (mut config, suite) = match &self.config {
            Some(path) => match ConfigFile::load(path)? {
                ConfigFile::Run(config) => (config, None),
                ConfigFile::Suite(suite, base) => (base, Some(suite)),
            },
            None => (
                RunConfig::for_env(
                    self.env.as_deref().unwrap_or("Pendulum"),
                    self.success_threshold,
                )?,
                None,
            ),
        };
        if let (Some(env), Some(path)) = (&self.env, &self.config)
            && lrfree_envs::canonical_env(env).unwrap_or(env)
                != lrfree_envs::canonical_env(&config.env).unwrap_or(&config.env)
        {
            return Err(RunError::Usage(format!(
                "--env {env} contradicts env = \"{}\" in {}",
                config.env,
                path.display()
            )));
        }
        if let Some(suite) = &suite {
            config.steps = suite.steps;
        }
        config.steps = self.steps.unwrap_or(config.steps);
        config.learning_starts = self.learning_starts.unwrap_or(config.learning_starts);
        config.eval_every = self.eval_every.unwrap_or(config.eval_every);
        config.eval_episodes = self.eval_episodes.unwrap_or(config.eval_episodes);
        config.checkpoint_every = self.checkpoint_every.unwrap_or(config.checkpoint_every);
        config.success_threshold = self.success_threshold.unwrap_or(config.success_threshold);
        config.sps_critics_only |= self.sps_critics_only;
        if let Some(agent) = &self.agent {
            config.agent = agent.clone();
        }
        config.diagnostics |= self.diagnostics;
        if let Some(device) = &self.device {
            config.device = device.parse()?;
        }
        let seeds = self.seeds.resolve(suite.as_ref().map_or(1, |s| s.seeds));
        let names = match (&self.opt, &suite) {
            (Some(names), _) => names.clone(),
            (None, Some(suite)) => suite.optimizers.clone(),
            (None, None) => vec!["ps-da-sgd".to_string()],
        };
        let optimizers = canonical_names(&names)
            .map_err(|e| RunError::Usage(e.to_string()))?
            .into_iter()
            .map(String::from)
            .collect();
        let plan = RunPlan {
            env: config.env.clone(),
            steps: config.steps,
            optimizers,
            seeds,
            config,
        };
        Ok(Resolved {
            plan,
            suite: suite.is_some(),
            out: self
                .out
                .clone()
                .or_else(|| suite.as_ref().map(|s| s.out.clone())),
            jobs: self.jobs.or(suite.as_ref().map(|s| s.jobs)),
        })
    }
}

/// Parse arguments, run, print the Table-3 lines; exit 2 on usage errors, 1 on I/O errors.
pub fn main() -> ExitCode {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // One thread per seed: a second thread does not speed up batch-256 updates (see
        // shared/spec/burn-notes.md) and --jobs uses the other core for another seed.
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    let args = Args::parse();
    match run_with(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rl-train: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_with(args: &Args) -> Result<(), RunError> {
    if args.list_tasks || args.task.is_some() {
        return run_suite_task(args);
    }
    let (out, plan, jobs, device) = if args.resume {
        let out = args.out.clone().expect("clap requires --out with --resume");
        let plan = run::load(&out)?;
        run::validate(&plan)?;
        let (_, device) = device::open(plan.config.device, "rl-train")?;
        eprintln!(
            "rl-train: resuming {} ({} on {}, seeds {:?}, device {})",
            out.display(),
            plan.optimizers.join(","),
            plan.env,
            plan.seeds,
            plan.config.device
        );
        (out, plan, args.jobs, device)
    } else {
        let Resolved {
            mut plan,
            out,
            jobs,
            ..
        } = args.resolve()?;
        let out = out.unwrap_or_else(|| default_out(&plan.env, &plan.optimizers));
        run::check_fresh_out(&out)?;
        run::validate(&plan)?;
        // Before the run directory exists: a CUDA that cannot run leaves nothing behind.
        let (chosen, device) = device::open(plan.config.device, "rl-train")?;
        plan.config.device = chosen;
        run::create(&out, &plan)?;
        eprintln!(
            "rl-train: {} on {} for {} steps, seeds {:?}, device {} -> {}",
            plan.optimizers.join(","),
            plan.env,
            plan.steps,
            plan.seeds,
            plan.config.device,
            out.display()
        );
        (out, plan, jobs, device)
    };
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let jobs = jobs.unwrap_or_else(cores);
    let (summary, throughput) = run::execute(&out, &plan, jobs, progress, &device)?;
    println!(
        "{} ({} steps, {} seeds): mean final return (successes/seeds)",
        summary.env,
        summary.steps,
        plan.seeds.len()
    );
    for r in &summary.results {
        println!("  {}", r.line());
    }
    println!("{}", throughput.line());
    if !args.no_plots {
        // Figures are a convenience: a failure to draw them does not fail the run.
        match lrfree_plots::write_plots(&out, &lrfree_plots::PlotOptions::default()) {
            Ok(report) => {
                for w in &report.warnings {
                    eprintln!("rl-plot: {w}");
                }
                println!(
                    "figures: {}",
                    report
                        .files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Err(e) => eprintln!(
                "rl-train: could not draw the figures ({e}); run `rl-plot {}` to retry",
                out.display()
            ),
        }
    }
    println!("records: {}", out.display());
    Ok(())
}

/// `--list-tasks` and `--task K` (see [`crate::tasks`]).
fn run_suite_task(args: &Args) -> Result<(), RunError> {
    let Resolved {
        mut plan,
        suite,
        out,
        ..
    } = args.resolve()?;
    let flag = if args.list_tasks {
        "--list-tasks"
    } else {
        "--task"
    };
    if !suite {
        return Err(RunError::Usage(format!(
            "{flag} needs a suite file: --config configs/suite-*.toml (its optimizers × seeds are the tasks)"
        )));
    }
    let out = out.unwrap_or_else(|| default_out(&plan.env, &plan.optimizers));
    if args.list_tasks {
        let all = tasks::tasks(&plan);
        let mut text = format!(
            "# {} tasks of {} steps on {} into {}: index, optimizer, seed\n",
            all.len(),
            plan.steps,
            plan.env,
            out.display()
        );
        for t in all {
            text += &format!("{}\t{}\t{}\n", t.index, t.optimizer, t.seed);
        }
        // A reader that stops early (`| head`) is not an error.
        let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
        return Ok(());
    }
    let task = tasks::task(&plan, args.task.expect("--task").index()?)?;
    run::validate(&plan)?;
    // Before anything is written: a CUDA that cannot run, or a different suite in `out`,
    // leaves the shared directory as it was.
    let (chosen, device) = device::open(plan.config.device, "rl-train")?;
    plan.config.device = chosen;
    tasks::join_run_dir(&out, &plan)?;
    let _lock = tasks::lock_cell(&out, &task)?;
    eprintln!(
        "rl-train: task {} of {}: {} seed {} on {} for {} steps, device {} -> {}",
        task.index,
        tasks::tasks(&plan).len(),
        task.optimizer,
        task.seed,
        plan.env,
        plan.steps,
        plan.config.device,
        out.display()
    );
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let seed = tasks::run_task(&out, &plan, &task, progress, &device)?;
    let result = match (seed.final_eval_return, seed.diverged) {
        (_, true) => "diverged".to_string(),
        (Some(r), _) => format!("final return {r:.1}, success {}", seed.success),
        (None, _) => "no evaluation".to_string(),
    };
    println!(
        "task {} ({} seed {}): {result}",
        task.index, task.optimizer, task.seed
    );
    println!(
        "records: {} (when every task is done: rl-report {})",
        out.display(),
        out.display()
    );
    Ok(())
}
