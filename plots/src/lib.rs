//! Figures and Table-3 style reports from run records: `rl-train`'s (`docs/records.md`) and
//! `sl-train`'s (`docs/sl.md`). No Burn: it reads records through `lrfree-runkit`.
//!
//! For an `rl-train` run, two figures, each written as PNG and SVG into `RUN_DIR/plots/`:
//!
//! - `rewards`: on the left, the evaluation return (deterministic policy) against environment
//!   steps, one line per optimizer (the mean over seeds) with a shaded band (min–max or ±1 std
//!   over seeds, said in the legend) and optionally each seed as a thin line; on the right the
//!   training-episode returns, smoothed by a moving average, drawn the same way.
//! - `learning-rates`: each optimizer's estimated learning rate against steps on a log axis, one
//!   line per seed, in three panels (critic, actor, temperature optimizers). This is the
//!   paper's Figure 1: it shows Prodigy's estimate running away, D-Adapt Adam's sometimes,
//!   PS-DA-SGD's staying bounded. Non-finite and non-positive estimates cannot go on a log
//!   axis and are left out; a diverged seed gets a cross where it stopped.
//!
//! - `diagnostics` (only for runs recorded with `diagnostics = true`): per network, what
//!   moved each D-Adaptation-type optimizer's D — D, d̂, the numerator, ‖s‖, G, the gradient's
//!   norm — beside each seed's evaluation return ([`rl::diagnostics`]).
//!
//! Each optimizer has one colour in every figure ([`palette`]). Text is drawn with the
//! DejaVu Sans file in `fonts/`, so no system font library is needed.
//!
//! The report ([`build_report`]) is the paper's Table 3: optimizers as rows in the paper's
//! order, environments as columns, each cell `mean final return (successes/seeds)` with the
//! number of seeds whose learning-rate estimate diverged and the interquartile mean with its
//! bootstrap confidence interval ([`stats`]), as Markdown and CSV.
//!
//! [`sl`] does the same for `sl-train` runs (`docs/sl.md`): a figure of training loss, test
//! accuracy and estimated learning rate per epoch, and the report in the paper's
//! `accuracy (train loss)` cells.
//!
//! Each side has its reading, figure and report modules ([`rl`], [`sl`]); what they share is
//! the reading of seeds ([`read`]), the drawing frame ([`figure`]), the colours and order
//! ([`palette`]) and the report table ([`table`]). The record types themselves, with their writers, are `lrfree_runkit::records`:
//! one set per format, for the runners and this crate alike.
//!
//! Records may be partial (a run in progress or killed): what cannot be used yet is skipped
//! and named in the warnings; records that are wrong are errors naming the file and line.
//!
//! ```no_run
//! use std::path::Path;
//! let report = lrfree_plots::write_plots(Path::new("runs/pendulum"), &Default::default()).unwrap();
//! for w in &report.warnings { eprintln!("warning: {w}"); }
//! ```

pub mod cli;
pub mod error;
pub mod figure;
pub mod palette;
pub mod read;
pub mod rl;
pub mod sl;
pub mod stats;
pub mod table;

use std::path::{Path, PathBuf};

pub use error::{PlotError, RecordError};
pub use figure::Format;
pub use rl::figure::{LR_SIZE, REWARDS_SIZE};
pub use rl::report::{Cell, Report, ReportRow};
pub use rl::series::Band;

/// How [`write_plots`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Where the figures go; `RUN_DIR/plots` when `None`.
    pub out: Option<PathBuf>,
    /// Moving-average window (in episodes) for the episode returns.
    pub smooth: usize,
    /// What the shaded band shows.
    pub band: Band,
    /// Draw each seed as a thin line under the mean.
    pub per_seed: bool,
    /// Which files to write.
    pub formats: Vec<Format>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            out: None,
            smooth: 10,
            band: Band::MinMax,
            per_seed: false,
            formats: vec![Format::Png, Format::Svg],
        }
    }
}

impl PlotOptions {
    /// How the figures are drawn (all but where they go and in which formats).
    fn style(&self) -> rl::figure::Style {
        rl::figure::Style {
            smooth: self.smooth,
            band: self.band,
            per_seed: self.per_seed,
        }
    }
}

/// What [`write_plots`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotReport {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// One line per skipped or partial seed or file.
    pub warnings: Vec<String>,
    /// Seeds drawn.
    pub seeds: usize,
}

/// Draw the reward and learning-rate figures of one run directory.
pub fn write_plots(run_dir: &Path, options: &PlotOptions) -> Result<PlotReport, PlotError> {
    let run = rl::read::read_run(run_dir)?;
    let out = options.out.clone().unwrap_or_else(|| run_dir.join("plots"));
    let style = options.style();
    let mut files = rl::figure::draw_all(&run, &style, &options.formats, &out)?;
    let mut warnings = run.warnings.clone();
    files.extend(rl::diagnostics::draw_diagnostics(
        &run,
        &options.formats,
        &out,
        &mut warnings,
    )?);
    Ok(PlotReport {
        files,
        warnings,
        seeds: run.seeds.len(),
    })
}

/// Draw the reward and learning-rate figures of several run directories of one environment
/// as one pair of figures in `out` (`rl-plot --together`): each run's optimizers are curves,
/// an optimizer found in several runs is told apart by its run's label (`labels`, one per
/// directory; `None` takes the directories' names), its first curve in the method's colour
/// and the others in colours of their own. Diagnostics are drawn per run only
/// ([`write_plots`]).
pub fn write_plots_together(
    run_dirs: &[PathBuf],
    labels: Option<&[String]>,
    out: &Path,
    options: &PlotOptions,
) -> Result<PlotReport, PlotError> {
    let runs = run_dirs
        .iter()
        .map(|d| rl::read::read_run(d))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = match labels {
        Some(l) => l.to_vec(),
        None => run_dirs
            .iter()
            .map(|d| {
                d.file_name()
                    .unwrap_or(d.as_os_str())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
    };
    let run = rl::read::merge_runs(runs, &names)?;
    let style = options.style();
    let files = rl::figure::draw_all(&run, &style, &options.formats, out)?;
    Ok(PlotReport {
        files,
        warnings: run.warnings,
        seeds: run.seeds.len(),
    })
}

/// Read run directories and build the Table-3 style report (warnings in [`Report::warnings`]).
pub fn build_report(run_dirs: &[PathBuf]) -> Result<Report, PlotError> {
    build_report_with(run_dirs, None)
}

/// [`build_report`] with every seed's success judged against `threshold` instead of the one
/// its run recorded (`rl-report --success-threshold`).
pub fn build_report_with(
    run_dirs: &[PathBuf],
    threshold: Option<f64>,
) -> Result<Report, PlotError> {
    if run_dirs.is_empty() {
        return Err(PlotError::Usage("no run directory given".into()));
    }
    let runs = run_dirs
        .iter()
        .map(|d| rl::read::read_run(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Report::with_threshold(&runs, threshold))
}
