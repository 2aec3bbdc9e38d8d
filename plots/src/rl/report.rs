//! The Table-3 style comparison: optimizers as rows (the paper's order), environments as
//! columns, each cell `mean final return (successes/seeds)`, the learning-rate divergences and
//! the interquartile mean with its 95 % confidence interval:
//! `1305.9 (0/2), lr div 0, IQM 1305.9 [910.5, 1701.2]`.
//!
//! At a short budget the spread from seed to seed is often larger than the gaps between
//! methods, so a mean alone decides nothing. Following Agarwal et al. 2021, "Deep
//! Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS), and its
//! `rliable` library, each cell also has:
//!
//! - the **IQM**, the interquartile mean of the seeds' final returns: sorted, `floor(n / 4)`
//!   cut from each end, the mean of the rest (rliable's `aggregate_iqm`,
//!   `scipy.stats.trim_mean(·, 0.25)`; with fewer than four seeds nothing is cut and it is the
//!   mean);
//! - its **95 % confidence interval** by the stratified percentile bootstrap (rliable's
//!   `get_interval_estimates`): the seeds resampled with replacement within the cell (one
//!   environment is one stratum) [`stats::BOOTSTRAP_RESAMPLES`] (50 000) times, the IQM of each resample, and the 2.5th and
//!   97.5th percentiles of those. The RNG is seeded with a constant, so a report is the same
//!   every time it is made. One seed has no interval (`[–]`).
//!
//! Both are computed in [`crate::stats`]. `report.csv` has them too (`iqm`, `iqm_ci_low`,
//! `iqm_ci_high`), beside each seed's final return (`final_returns`) to recompute them from.
//!
//! Numbers come from the seeds' `summary.json` files, not from the run's `summary.json`, so a
//! report can combine several runs of one environment and still be computed while a run is
//! going (its unfinished seeds are left out, with a warning and a footnote).

use std::fmt;
use std::path::{Path, PathBuf};

use lrfree_runkit::records::{mean_std, opt};

use super::read::RunRecords;
use crate::error::PlotError;
use crate::stats::{self, Interval};
use crate::table::{self, SeedCell, Table};

/// One optimizer on one environment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    /// Finished seeds (with a `summary.json`).
    pub seeds: usize,
    /// Seeds that reached the success threshold.
    pub successes: usize,
    /// Seeds whose learning-rate estimate (or training) diverged.
    pub lr_diverged: usize,
    /// Mean final evaluation return over the seeds that have one (a finite one): diverged
    /// seeds included, with the return of their last evaluation.
    pub mean_final_return: Option<f64>,
    /// Its population standard deviation.
    pub std_final_return: Option<f64>,
    /// The interquartile mean ([`stats::iqm`]) of the same returns as the mean.
    pub iqm_final_return: Option<f64>,
    /// Its 95 % stratified-bootstrap confidence interval ([`stats::iqm_ci`]); `None` with
    /// fewer than two returns.
    pub iqm_ci: Option<Interval>,
    /// Each finished seed's `(seed, final return)`, in seed order.
    pub final_returns: Vec<(u64, Option<f64>)>,
    /// Seeds with records but no summary yet (left out of the numbers above).
    pub unfinished: usize,
    /// Seeds that ran the method on the critics only, actor on Adam (beyond the paper).
    pub critics_only: usize,
    /// Seeds whose temperature was not stepped by Adam (the default): by the method itself
    /// (`temperature_optimizer = "same"`, the ablation) or another method (e.g. COCOB).
    pub temperature_not_adam: usize,
    /// Those seeds' temperature optimizers, sorted, each once.
    pub temperature_optimizers: Vec<String>,
}

impl Cell {
    /// `mean (successes/seeds)`, `n/a` for the mean when no seed has a final evaluation;
    /// marked [`CRITICS_ONLY`] and/or [`TEMPERATURE_NOT_ADAM`] where some seed ran that way.
    pub fn text(&self) -> String {
        let mean = self
            .mean_final_return
            .map_or("n/a".to_string(), |m| format!("{m:.1}"));
        let mut marks = String::new();
        if self.critics_only > 0 {
            marks.push_str(CRITICS_ONLY);
        }
        if self.temperature_not_adam > 0 {
            marks.push_str(TEMPERATURE_NOT_ADAM);
        }
        format!("{mean}{marks} ({}/{})", self.successes, self.seeds)
    }

    /// `IQM 455.9 [4.4, 758.1]`: the interquartile mean and its confidence interval, `[–]`
    /// without an interval (one seed), `IQM n/a` when no seed has a final evaluation.
    pub fn iqm_text(&self) -> String {
        let Some(iqm) = self.iqm_final_return else {
            return "IQM n/a".to_string();
        };
        let ci = self.iqm_ci.map_or("–".to_string(), |c| {
            format!("{:.1}, {:.1}", c.low, c.high)
        });
        format!("IQM {iqm:.1} [{ci}]")
    }

    /// The final returns the mean, the standard deviation and the IQM are over: each seed's
    /// that has one, diverged seeds included; a non-finite one (not written by `rl-train`,
    /// whose JSON has no such numbers) is left out of all three alike.
    fn finals(&self) -> Vec<f64> {
        let finals: Vec<f64> = self.final_returns.iter().filter_map(|r| r.1).collect();
        stats::finite(&finals)
    }

    fn finish(&mut self) {
        self.final_returns.sort_by_key(|r| r.0);
        let finals = self.finals();
        (self.mean_final_return, self.std_final_return) = mean_std(&finals);
        self.iqm_final_return = stats::iqm(&finals);
        self.iqm_ci = stats::iqm_ci(&finals);
    }
}

impl SeedCell for Cell {
    fn has_seed(&self, seed: u64) -> bool {
        self.final_returns.iter().any(|r| r.0 == seed)
    }

    fn unfinished_mut(&mut self) -> &mut usize {
        &mut self.unfinished
    }
}

/// Mark of a cell run beyond the paper: an SPS-type method on the critics only.
pub const CRITICS_ONLY: &str = "†";
/// Mark of a cell whose temperature was not on Adam (the method itself, or another one).
pub const TEMPERATURE_NOT_ADAM: &str = "‡";
/// Methods the paper leaves out of RL (they need the loss at the optimum); their rows are
/// always shown, `–` where not run, as in Table 3.
pub const NOT_IN_RL: [&str; 2] = ["sps", "ps-sps"];

/// One optimizer's row.
pub type ReportRow = table::TableRow<Cell>;

/// The comparison table: environments as columns.
pub type Report = Table<Cell>;

impl Table<Cell> {
    /// Build the table from runs already read, each seed's success as recorded.
    pub fn from_runs(runs: &[RunRecords]) -> Report {
        Self::with_threshold(runs, None)
    }

    /// Build the table; with `threshold`, a seed succeeds when it did not diverge and its final
    /// return reaches it (the rule of `src/outcome.rs`, with another bar: for a budget other than
    /// the configs' own).
    pub fn with_threshold(runs: &[RunRecords], threshold: Option<f64>) -> Report {
        let mut report: Self = Table::new();
        for run in runs {
            report.warnings.extend(run.warnings.iter().cloned());
            let col = report.column(&run.env);
            for seed in &run.seeds {
                let Some((cell, summary)) = report.take_seed(col, seed) else {
                    continue;
                };
                cell.seeds += 1;
                cell.successes += match threshold {
                    Some(t) => {
                        !summary.diverged && summary.final_eval_return.is_some_and(|r| r >= t)
                    }
                    None => summary.success,
                } as usize;
                cell.critics_only += summary.actor_optimizer.is_some() as usize;
                // Records from before the key have none: their temperature was the method's own.
                // An agent without a temperature (TD3) has nothing to mark.
                let temperature = summary
                    .temperature_optimizer
                    .as_deref()
                    .unwrap_or(&seed.optimizer);
                if summary.has_temperature() && temperature != "adam" {
                    cell.temperature_not_adam += 1;
                    if !cell.temperature_optimizers.iter().any(|t| t == temperature) {
                        cell.temperature_optimizers.push(temperature.to_string());
                        cell.temperature_optimizers.sort();
                    }
                }
                cell.lr_diverged += summary.diverged as usize;
                cell.final_returns
                    .push((seed.seed, summary.final_eval_return));
            }
        }
        for row in &mut report.rows {
            row.cells.iter_mut().flatten().for_each(Cell::finish);
        }
        for name in NOT_IN_RL {
            report.row(name);
        }
        report.sort();
        report
    }

    fn table(&self) -> Vec<Vec<String>> {
        let mut header = vec!["group".to_string(), "optimizer".to_string()];
        header.extend(self.columns.iter().cloned());
        let mut table = vec![header];
        for row in &self.rows {
            let mut line = vec![row.group.to_string(), row.optimizer.clone()];
            line.extend(row.cells.iter().map(|c| match c {
                Some(c) => format!("{}, lr div {}, {}", c.text(), c.lr_diverged, c.iqm_text()),
                None => "–".to_string(),
            }));
            table.push(line);
        }
        table
    }

    /// A Markdown table (columns padded so it also reads as plain text) and its footnotes.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "Final evaluation return: mean over seeds (successes/seeds), and seeds whose learning-rate estimate diverged; \
             IQM: the interquartile mean over seeds [its {:.0} % confidence interval by the stratified bootstrap, \
             {} resamples; – for one seed] (Agarwal et al. 2021, rliable).\n\n",
            stats::CI_LEVEL * 100.0,
            stats::BOOTSTRAP_RESAMPLES
        );
        out += &table::markdown(&self.table());
        out += &self.unfinished_note(|c| c.unfinished);
        out += &self.notes();
        out
    }

    /// Footnotes for the marks and dashes the table holds.
    fn notes(&self) -> String {
        let cells = || self.rows.iter().flat_map(|r| r.cells.iter());
        let mut notes = String::new();
        if cells().any(|c| c.is_none()) {
            notes += "\n– not run. SPS and PS-SPS are not run in RL, as in the paper's Table 3: they need the loss \
                      value at the optimum, which SAC's actor and temperature losses do not have (rl-train \
                      --sps-critics-only runs them on the critics only).\n";
        }
        if cells().flatten().any(|c| c.critics_only > 0) {
            notes += &format!(
                "\n{CRITICS_ONLY} beyond the paper: the method on the critics only, the actor on Adam (--sps-critics-only).\n"
            );
        }
        let mut not_adam = Vec::new();
        for row in &self.rows {
            for (env, cell) in self.columns.iter().zip(&row.cells) {
                if let Some(c) = cell.as_ref().filter(|c| c.temperature_not_adam > 0) {
                    let on = c.temperature_optimizers.join(", ");
                    not_adam.push(format!(
                        "{} on {env}: {on} ({}/{} seeds)",
                        row.optimizer, c.temperature_not_adam, c.seeds
                    ));
                }
            }
        }
        if !not_adam.is_empty() {
            notes += &format!(
                "\n{TEMPERATURE_NOT_ADAM} the temperature not on Adam (temperature_optimizer; the method itself is the \
                 \"same\" ablation, another method is beyond the paper): {}.\n",
                not_adam.join("; ")
            );
        }
        notes
    }

    /// One line per optimizer and environment, every number in its own column.
    pub fn to_csv(&self) -> String {
        let header = [
            "env",
            "optimizer",
            "group",
            "seeds",
            "successes",
            "lr_diverged",
            "mean_final_return",
            "std_final_return",
            "final_returns",
            "unfinished",
            "critics_only",
            "temperature_not_adam",
            "temperature_optimizers",
            "iqm",
            "iqm_ci_low",
            "iqm_ci_high",
        ];
        let records = self.cells_by_row().map(|(col, row, c)| {
            let finals: Vec<String> = c.final_returns.iter().map(|r| opt(r.1)).collect();
            vec![
                self.columns[col].clone(),
                row.optimizer.clone(),
                row.group.to_string(),
                c.seeds.to_string(),
                c.successes.to_string(),
                c.lr_diverged.to_string(),
                opt(c.mean_final_return),
                opt(c.std_final_return),
                finals.join(";"),
                c.unfinished.to_string(),
                c.critics_only.to_string(),
                c.temperature_not_adam.to_string(),
                c.temperature_optimizers.join(";"),
                opt(c.iqm_final_return),
                opt(c.iqm_ci.map(|i| i.low)),
                opt(c.iqm_ci.map(|i| i.high)),
            ]
        });
        table::csv_text(&header, records)
    }

    /// Write `report.md` and `report.csv` into `dir`; the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        table::write_files(
            dir,
            [
                ("report.md", self.to_markdown()),
                ("report.csv", self.to_csv()),
            ],
        )
    }
}

impl fmt::Display for Table<Cell> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_markdown())
    }
}
