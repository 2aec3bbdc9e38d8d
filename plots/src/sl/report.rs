//! The Table-3 report of `sl-train` runs: optimizers as rows (the paper's order), one column
//! per `task / model` ([`Table`]), each cell `test accuracy (final train loss)` (mIoU for
//! segmentation), with the seeds that diverged. Numbers come from the seeds' `summary.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lrfree_runkit::records::{mean_std, opt};

use super::read::{SlRun, read_sl_run};
use crate::error::PlotError;
use crate::table::{self, SeedCell, Table};

/// One finished seed's `(seed, final test metric, final train loss)`.
pub type PerSeed = (u64, Option<f64>, Option<f64>);

/// One optimizer on one run: the Table-3 cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlCell {
    /// Finished seeds.
    pub seeds: usize,
    /// Seeds that diverged.
    pub diverged: usize,
    /// Mean final test metric (accuracy or mIoU, %) over seeds that have one.
    pub mean_metric: Option<f64>,
    /// Its population standard deviation.
    pub std_metric: Option<f64>,
    /// Mean final training loss over seeds that have one.
    pub mean_train_loss: Option<f64>,
    /// Each finished seed's `(seed, metric, train loss)`.
    pub per_seed: Vec<PerSeed>,
    /// Seeds without a summary yet (left out).
    pub unfinished: usize,
    /// The metric is mIoU (a segmentation run).
    pub segmentation: bool,
}

impl SlCell {
    /// `accuracy (train loss)`, the paper's Table-3 format; divergences after it.
    pub fn text(&self) -> String {
        let metric = self.mean_metric.map_or("n/a".into(), |m| format!("{m:.2}"));
        let loss = self
            .mean_train_loss
            .map_or("n/a".into(), |l| format!("{l:.4}"));
        let mut s = format!("{metric} ({loss})");
        if self.diverged > 0 {
            let _ = write!(s, " {}/{} diverged", self.diverged, self.seeds);
        }
        s
    }
}

impl SeedCell for SlCell {
    fn has_seed(&self, seed: u64) -> bool {
        self.per_seed.iter().any(|p| p.0 == seed)
    }

    fn unfinished_mut(&mut self) -> &mut usize {
        &mut self.unfinished
    }
}

/// One optimizer's row.
pub type SlReportRow = table::TableRow<SlCell>;

/// The comparison table: `task / model` as columns.
pub type SlReport = Table<SlCell>;

impl Table<SlCell> {
    /// From runs already read (numbers from the seeds' `summary.json`).
    pub fn from_runs(runs: &[SlRun]) -> SlReport {
        let mut report: Self = Table::new();
        for run in runs {
            report.warnings.extend(run.warnings.iter().cloned());
            let col = report.column(&run.label());
            let segmentation = run.is_segmentation();
            for seed in &run.seeds {
                report.cell_mut(col, &seed.optimizer).segmentation |= segmentation;
                let Some((cell, summary)) = report.take_seed(col, seed) else {
                    continue;
                };
                cell.seeds += 1;
                cell.diverged += usize::from(summary.diverged);
                cell.per_seed
                    .push((seed.seed, summary.metric(), summary.final_train_loss));
            }
        }
        for cell in report
            .rows
            .iter_mut()
            .flat_map(|r| r.cells.iter_mut().flatten())
        {
            cell.per_seed.sort_by_key(|p| p.0);
            let metrics: Vec<f64> = cell.per_seed.iter().filter_map(|p| p.1).collect();
            let losses: Vec<f64> = cell.per_seed.iter().filter_map(|p| p.2).collect();
            (cell.mean_metric, cell.std_metric) = mean_std(&metrics);
            cell.mean_train_loss = mean_std(&losses).0;
        }
        report.sort();
        report
    }

    /// Whether each column's metric is mIoU (segmentation).
    pub fn segmentation(&self) -> Vec<bool> {
        (0..self.columns.len())
            .map(|col| {
                self.rows
                    .iter()
                    .any(|r| r.cells[col].as_ref().is_some_and(|c| c.segmentation))
            })
            .collect()
    }

    /// A Markdown table (padded to read as plain text).
    pub fn to_markdown(&self) -> String {
        let mut rows = vec![
            std::iter::once("optimizer".to_string())
                .chain(self.columns.iter().cloned())
                .collect::<Vec<_>>(),
        ];
        for row in &self.rows {
            rows.push(
                std::iter::once(row.optimizer.clone())
                    .chain(
                        row.cells
                            .iter()
                            .map(|c| c.as_ref().map_or("–".into(), SlCell::text)),
                    )
                    .collect(),
            );
        }
        let segmentation = self.segmentation();
        let metric = match (
            segmentation.iter().any(|s| *s),
            segmentation.iter().all(|s| *s),
        ) {
            (true, true) => "test mIoU %",
            (true, false) => "test accuracy % (mIoU % for segmentation)",
            _ => "test accuracy %",
        };
        let mut out = format!("Final {metric}, mean over seeds (final training loss).\n\n");
        out += &table::markdown(&rows);
        out += &self.unfinished_note(|c| c.unfinished);
        out
    }

    /// One line per optimizer and run, every number in its own column.
    pub fn to_csv(&self) -> String {
        let header = [
            "run",
            "optimizer",
            "group",
            "metric",
            "seeds",
            "diverged",
            "mean_metric",
            "std_metric",
            "mean_train_loss",
            "metrics",
            "train_losses",
            "unfinished",
        ];
        let segmentation = self.segmentation();
        let per_seed = |c: &SlCell, value: fn(&PerSeed) -> Option<f64>| {
            c.per_seed
                .iter()
                .map(|p| opt(value(p)))
                .collect::<Vec<_>>()
                .join(";")
        };
        let records = self.cells_by_row().map(|(col, row, c)| {
            vec![
                self.columns[col].clone(),
                row.optimizer.clone(),
                row.group.to_string(),
                if segmentation[col] {
                    "test_miou"
                } else {
                    "test_accuracy"
                }
                .to_string(),
                c.seeds.to_string(),
                c.diverged.to_string(),
                opt(c.mean_metric),
                opt(c.std_metric),
                opt(c.mean_train_loss),
                per_seed(c, |p| p.1),
                per_seed(c, |p| p.2),
                c.unfinished.to_string(),
            ]
        });
        table::csv_text(&header, records)
    }

    /// Write `sl-report.md` and `sl-report.csv` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        table::write_files(
            dir,
            [
                ("sl-report.md", self.to_markdown()),
                ("sl-report.csv", self.to_csv()),
            ],
        )
    }
}

/// Read `sl-train` run directories and build the report.
pub fn build_sl_report(run_dirs: &[PathBuf]) -> Result<SlReport, PlotError> {
    if run_dirs.is_empty() {
        return Err(PlotError::Usage("no run directory given".into()));
    }
    let runs = run_dirs
        .iter()
        .map(|d| read_sl_run(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SlReport::from_runs(&runs))
}
