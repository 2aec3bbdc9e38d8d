//! The `rl-plot` and `rl-report` command lines; the binaries only call [`plot_main`] and
//! [`report_main`]. Exit codes: 0 done, 1 a record or I/O error, 2 a usage error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use crate::{
    Band, Format, PlotError, PlotOptions, PlotReport, build_report_with, write_plots,
    write_plots_together,
};

/// Draw reward and learning-rate curves from rl-train run directories.
#[derive(Debug, Parser)]
#[command(
    name = "rl-plot",
    version,
    about,
    long_about = "Draw reward and learning-rate curves from rl-train run directories.\n\nWrites rewards.{png,svg} (evaluation and smoothed episode returns, mean over seeds with a band) and learning-rates.{png,svg} (each seed's estimated learning rate, log axis, critic/actor/temperature panels) into RUN_DIR/plots/."
)]
pub struct PlotArgs {
    /// Run directories written by rl-train (partial runs are fine).
    #[arg(value_name = "RUN_DIR", required = true)]
    pub run_dirs: Vec<PathBuf>,
    /// Output directory [default: RUN_DIR/plots; with several runs, DIR/<run name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Moving-average window for the episode returns, in episodes.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub smooth: u32,
    /// What the shaded band around each mean shows.
    #[arg(long, value_enum, default_value_t = BandArg::Minmax)]
    pub band: BandArg,
    /// Also draw each seed's curve as a thin line.
    #[arg(long)]
    pub per_seed: bool,
    /// Image formats, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<FormatArg>,
    /// Draw all RUN_DIRs (one environment) in one pair of figures in --out, instead of a pair
    /// per run; an optimizer found in several runs is named `optimizer [label]`.
    #[arg(long, requires = "out")]
    pub together: bool,
    /// With --together: each run's label, one per RUN_DIR in order [default: the directory names].
    #[arg(long, value_name = "LABEL", requires = "together")]
    pub label: Vec<String>,
}

/// `--band`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BandArg {
    /// Smallest to largest seed.
    Minmax,
    /// Mean ± one standard deviation.
    Std,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// PNG raster.
    Png,
    /// SVG vector.
    Svg,
}

/// Build a Table-3 style report (optimizers × environments) from rl-train run directories.
#[derive(Debug, Parser)]
#[command(name = "rl-report", version)]
pub struct ReportArgs {
    /// Run directories written by rl-train, one or more per environment.
    #[arg(value_name = "RUN_DIR", required = true)]
    pub run_dirs: Vec<PathBuf>,
    /// Where report.md and report.csv go [default: the run directory; with several runs, the current directory].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Count a seed as a success when it did not diverge and its final return reaches this,
    /// instead of the threshold its run's config recorded (for a shorter budget than the config's).
    #[arg(long, value_name = "RETURN", allow_negative_numbers = true, value_parser = finite)]
    pub success_threshold: Option<f64>,
}

fn finite(arg: &str) -> Result<f64, String> {
    match arg.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(format!("must be finite, got {v}")),
        Err(e) => Err(e.to_string()),
    }
}

fn parse<T: Parser, I: IntoIterator<Item = OsString>>(args: I) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    })
}

fn fail(e: &PlotError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.exit_code())
}

/// `rl-plot` with the process arguments.
pub fn plot_main() -> ExitCode {
    plot_with(std::env::args_os())
}

/// `rl-plot` with `args` (the first is the program name).
pub fn plot_with<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let args: PlotArgs = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let several = args.run_dirs.len() > 1;
    let options = |out: Option<PathBuf>| PlotOptions {
        out,
        smooth: args.smooth as usize,
        band: match args.band {
            BandArg::Minmax => Band::MinMax,
            BandArg::Std => Band::Std,
        },
        per_seed: args.per_seed,
        formats: dedup(args.format.iter().map(|f| match f {
            FormatArg::Png => Format::Png,
            FormatArg::Svg => Format::Svg,
        })),
    };
    if args.together {
        let Some(out) = args.out.clone() else {
            return fail(&PlotError::Usage("--together needs --out DIR".into()));
        };
        let labels = (!args.label.is_empty()).then_some(args.label.as_slice());
        let result = write_plots_together(&args.run_dirs, labels, &out, &options(None));
        return match result {
            Ok(report) => {
                print_plotted(&report);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let mut code = ExitCode::SUCCESS;
    for dir in &args.run_dirs {
        let out = args.out.as_ref().map(|o| {
            if several {
                o.join(dir.file_name().unwrap_or(dir.as_os_str()))
            } else {
                o.clone()
            }
        });
        match write_plots(dir, &options(out)) {
            Ok(report) => print_plotted(&report),
            Err(e) => code = fail(&e),
        }
    }
    code
}

fn print_plotted(report: &PlotReport) {
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for f in &report.files {
        println!("{}", f.display());
    }
}

fn dedup(formats: impl Iterator<Item = Format>) -> Vec<Format> {
    let mut out = Vec::new();
    for f in formats {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// `rl-report` with the process arguments.
pub fn report_main() -> ExitCode {
    report_with(std::env::args_os())
}

/// `rl-report` with `args` (the first is the program name).
pub fn report_with<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let args: ReportArgs = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let report = match build_report_with(&args.run_dirs, args.success_threshold) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    print!("{report}");
    let out = args.out.clone().unwrap_or_else(|| {
        if args.run_dirs.len() == 1 {
            args.run_dirs[0].clone()
        } else {
            PathBuf::from(".")
        }
    });
    match report.write(&out) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
