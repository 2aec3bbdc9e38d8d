//! `sl-train`'s records (`docs/sl.md`): the types that write and read them.
//!
//! - `epochs.csv`: [`EpochsWriter`] appends one [`EpochRow`] per epoch; [`read_epochs`]
//!   gives them back.
//! - `<optimizer>/seed-<N>/summary.json`: [`SlSeedSummary`].
//! - The run's `summary.json`: [`SlRunSummary`] of [`SlOptimizerResult`]s; `run.json`:
//!   [`SlPlan`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Appender, mean_std, num, opt, parse_count, parse_opt, read_csv};
use crate::{RecordError, RunError};

/// The columns of `epochs.csv`, in order.
pub const COLUMNS: [&str; 11] = [
    "epoch",
    "phase",
    "steps",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "test_miou",
    "lr",
    "d",
    "wall_s",
];

const DOC: &str = "docs/sl.md";

/// What an epoch trained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Supervised training (classification, segmentation).
    #[default]
    Train,
    /// SimCLR's contrastive pre-training.
    Pretrain,
    /// SimCLR's linear evaluation on the frozen encoder.
    Linear,
}

impl Phase {
    /// The `phase` cell.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::Pretrain => "pretrain",
            Phase::Linear => "linear",
        }
    }

    fn parse(cell: &str) -> Option<Self> {
        [Phase::Train, Phase::Pretrain, Phase::Linear]
            .into_iter()
            .find(|p| p.as_str() == cell)
    }
}

/// One row of `epochs.csv`; empty cells are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochRow {
    /// Epoch number (SimCLR's linear-evaluation epochs continue after pre-training).
    pub epoch: u64,
    /// What the epoch trained.
    pub phase: Phase,
    /// Optimizer steps so far (of this phase's optimizer).
    pub steps: u64,
    /// Mean training loss over the epoch's batches; NaN in the row of an epoch cut short by
    /// divergence.
    pub train_loss: f64,
    /// Accuracy on the epoch's training batches (%), for classification.
    pub train_accuracy: Option<f64>,
    /// Test loss.
    pub test_loss: Option<f64>,
    /// Test accuracy (%).
    pub test_accuracy: Option<f64>,
    /// Test mean IoU (%, segmentation).
    pub test_miou: Option<f64>,
    /// Estimated learning rate after the epoch's last step.
    pub lr: Option<f64>,
    /// Its D, for methods with one.
    pub d: Option<f64>,
    /// Seconds since the seed started (written to the millisecond).
    pub wall_s: f64,
}

impl EpochRow {
    /// The test metric: accuracy, or mIoU for segmentation.
    pub fn metric(&self) -> Option<f64> {
        self.test_accuracy.or(self.test_miou)
    }
}

/// Appends rows to one seed's `epochs.csv`, flushing each.
pub struct EpochsWriter(Appender);

impl EpochsWriter {
    /// A new file with the header.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        Appender::create(path, &COLUMNS).map(Self)
    }

    /// Append one row.
    pub fn write(&mut self, r: &EpochRow) -> Result<(), RunError> {
        self.0.row(&[
            r.epoch.to_string(),
            r.phase.as_str().to_string(),
            r.steps.to_string(),
            num(r.train_loss),
            opt(r.train_accuracy),
            opt(r.test_loss),
            opt(r.test_accuracy),
            opt(r.test_miou),
            opt(r.lr),
            opt(r.d),
            format!("{:.3}", r.wall_s),
        ])
    }
}

/// Read one `epochs.csv`: its rows and warnings (a last row cut off mid-write, an empty
/// file). Columns may be reordered; all but the optional metrics must be there.
pub fn read_epochs(path: &Path) -> Result<(Vec<EpochRow>, Vec<String>), RecordError> {
    let required = ["epoch", "phase", "steps", "train_loss", "wall_s"];
    let table = read_csv(path, &COLUMNS, &[], &required, DOC)?;
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, c) in table.rows {
        let float = |k: usize| parse_opt(path, line, COLUMNS[k], &c[k]);
        let needed = |k: usize| {
            float(k)?.ok_or_else(|| RecordError::MalformedRow {
                path: path.to_path_buf(),
                line,
                message: format!("{} is empty", COLUMNS[k]),
            })
        };
        let phase = Phase::parse(&c[1]).ok_or_else(|| RecordError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message: format!(
                "unknown phase `{}` (expected train, pretrain or linear)",
                c[1]
            ),
        })?;
        rows.push(EpochRow {
            epoch: parse_count(path, line, "epoch", &c[0])?,
            phase,
            steps: parse_count(path, line, "steps", &c[2])?,
            train_loss: needed(3)?,
            train_accuracy: float(4)?,
            test_loss: float(5)?,
            test_accuracy: float(6)?,
            test_miou: float(7)?,
            lr: float(8)?,
            d: float(9)?,
            wall_s: needed(10)?,
        });
    }
    Ok((rows, table.warnings))
}

/// Where and why a seed diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlDivergence {
    /// Epoch in which it happened.
    pub epoch: u64,
    /// Optimizer step.
    pub step: u64,
    /// What went non-finite or out of bounds.
    pub reason: String,
}

/// One seed's outcome (`<optimizer>/seed-<N>/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlSeedSummary {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// Task.
    pub task: String,
    /// Model.
    pub model: String,
    /// Configured epochs of the main phase.
    pub epochs: u64,
    /// Epochs done (all phases).
    pub epochs_done: u64,
    /// The seed ended (finished or diverged).
    pub complete: bool,
    /// Last epoch's mean training loss of the main phase (SimCLR: the contrastive loss).
    pub final_train_loss: Option<f64>,
    /// Last test accuracy (%), classification and SimCLR's linear evaluation.
    pub final_test_accuracy: Option<f64>,
    /// Last test mIoU (%), segmentation.
    pub final_test_miou: Option<f64>,
    /// Best test accuracy or mIoU of any epoch (%).
    pub best_test_metric: Option<f64>,
    /// Training or the learning-rate estimate diverged.
    pub diverged: bool,
    /// Where.
    pub divergence: Option<SlDivergence>,
    /// Largest finite learning-rate estimate.
    pub max_lr: Option<f64>,
    /// Seconds the seed took.
    pub wall_s: f64,
}

impl SlSeedSummary {
    /// The final test metric: accuracy, or mIoU for segmentation.
    pub fn metric(&self) -> Option<f64> {
        self.final_test_accuracy.or(self.final_test_miou)
    }
}

/// One optimizer's line of the run summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlOptimizerResult {
    /// Optimizer registry name.
    pub optimizer: String,
    /// Seeds run.
    pub seeds: usize,
    /// Seeds that diverged.
    pub diverged: usize,
    /// Mean final test metric (accuracy or mIoU, %).
    pub mean_test_metric: Option<f64>,
    /// Its population standard deviation.
    pub std_test_metric: Option<f64>,
    /// Mean final training loss.
    pub mean_train_loss: Option<f64>,
    /// Per seed, in seed order.
    pub test_metrics: Vec<Option<f64>>,
    /// Per seed, in seed order.
    pub train_losses: Vec<Option<f64>>,
}

impl SlOptimizerResult {
    /// Aggregate one optimizer's seeds.
    pub fn from_seeds(optimizer: &str, seeds: &[SlSeedSummary]) -> Self {
        let metrics: Vec<Option<f64>> = seeds.iter().map(SlSeedSummary::metric).collect();
        let losses: Vec<Option<f64>> = seeds.iter().map(|s| s.final_train_loss).collect();
        let present = |v: &[Option<f64>]| v.iter().flatten().copied().collect::<Vec<f64>>();
        let (mean_test_metric, std_test_metric) = mean_std(&present(&metrics));
        Self {
            optimizer: optimizer.to_string(),
            seeds: seeds.len(),
            diverged: seeds.iter().filter(|s| s.diverged).count(),
            mean_test_metric,
            std_test_metric,
            mean_train_loss: mean_std(&present(&losses)).0,
            test_metrics: metrics,
            train_losses: losses,
        }
    }

    /// The Table-3 cell as a line: `accuracy (train loss)`, seeds and divergences.
    pub fn line(&self) -> String {
        let m = self
            .mean_test_metric
            .map_or("n/a".into(), |v| format!("{v:.2}"));
        let l = self
            .mean_train_loss
            .map_or("n/a".into(), |v| format!("{v:.4}"));
        format!(
            "{:<12} {m} ({l})  {} seeds, diverged {}/{}",
            self.optimizer, self.seeds, self.diverged, self.seeds
        )
    }
}

/// The run summary (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlRunSummary {
    /// Task.
    pub task: String,
    /// Model.
    pub model: String,
    /// Epochs.
    pub epochs: u64,
    /// `test_accuracy` or `test_miou`.
    pub metric: String,
    /// One entry per optimizer, in the order given.
    pub results: Vec<SlOptimizerResult>,
}

impl SlRunSummary {
    /// Aggregate `seeds` per optimizer, in the order of `optimizers`; the metric is mIoU when
    /// any seed has one.
    pub fn from_seeds(
        task: &str,
        model: &str,
        epochs: u64,
        optimizers: &[String],
        seeds: &[SlSeedSummary],
    ) -> Self {
        let segmentation = seeds.iter().any(|s| s.final_test_miou.is_some());
        Self {
            task: task.to_string(),
            model: model.to_string(),
            epochs,
            metric: if segmentation {
                "test_miou"
            } else {
                "test_accuracy"
            }
            .into(),
            results: optimizers
                .iter()
                .map(|o| {
                    let mine: Vec<SlSeedSummary> = seeds
                        .iter()
                        .filter(|s| &s.optimizer == o)
                        .cloned()
                        .collect();
                    SlOptimizerResult::from_seeds(o, &mine)
                })
                .collect(),
        }
    }

    /// `result.txt`: one [`SlOptimizerResult::line`] per optimizer.
    pub fn lines(&self) -> Vec<String> {
        self.results.iter().map(SlOptimizerResult::line).collect()
    }
}

/// What a run does (`run.json`): `C` is `sl-train`'s resolved configuration when it writes
/// the file; readers that do not need it read `SlPlan<serde::de::IgnoredAny>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlPlan<C> {
    /// Task name.
    pub task: String,
    /// Model name.
    pub model: String,
    /// Epochs of the main phase.
    pub epochs: u64,
    /// Optimizer registry names, in the order given.
    pub optimizers: Vec<String>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The resolved configuration.
    pub config: C,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: u64, phase: Phase, loss: f64) -> EpochRow {
        EpochRow {
            epoch,
            phase,
            steps: epoch * 22,
            train_loss: loss,
            train_accuracy: Some(91.5),
            test_accuracy: Some(90.25),
            lr: Some(1e-3),
            wall_s: 1.23456,
            ..EpochRow::default()
        }
    }

    #[test]
    fn rows_written_are_the_rows_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("epochs.csv");
        let mut w = EpochsWriter::create(&path).unwrap();
        let rows = [
            row(1, Phase::Pretrain, 2.5),
            row(2, Phase::Linear, f64::NAN),
        ];
        for r in &rows {
            w.write(r).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "1,pretrain,22,2.5,91.5,,90.25,,0.001,,1.235"
        );
        let (read, warnings) = read_epochs(&path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            read[0],
            EpochRow {
                wall_s: 1.235,
                ..rows[0].clone()
            }
        );
        assert_eq!(read[1].phase, Phase::Linear);
        assert!(read[1].train_loss.is_nan());
    }

    /// A killed `sl-train` leaves its last row half-written: it is dropped with a warning, as
    /// for `metrics.csv` (the reader used to fail on it).
    #[test]
    fn a_row_cut_off_mid_write_is_dropped_with_a_warning() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("epochs.csv");
        let header = COLUMNS.join(",");
        std::fs::write(
            &path,
            format!("{header}\n1,train,22,0.5,80,0.4,85,,0.001,,1.000\n2,train,44,0.3"),
        )
        .unwrap();
        let (rows, warnings) = read_epochs(&path).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(
            warnings[0].contains("line 3: incomplete last row"),
            "{warnings:?}"
        );
    }

    #[test]
    fn bad_rows_are_errors_naming_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("epochs.csv");
        let header = COLUMNS.join(",");
        for (row, message) in [
            (
                "1,warmup,22,0.5,,,,,,,1.0",
                "line 2: unknown phase `warmup`",
            ),
            ("1,train,22,,,,,,,,1.0", "train_loss is empty"),
            (
                "one,train,22,0.5,,,,,,,1.0",
                "epoch `one` is not a whole number",
            ),
            (
                "1,train,22,0.5,,,x,,,,1.0",
                "test_accuracy `x` is not a number",
            ),
        ] {
            std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
            let e = read_epochs(&path).unwrap_err().to_string();
            assert!(e.contains(message), "{e}");
        }
        std::fs::write(&path, "epoch,phase,steps,loss\n").unwrap();
        let e = read_epochs(&path).unwrap_err().to_string();
        assert!(
            e.contains("unknown column header `loss`") && e.contains("docs/sl.md"),
            "{e}"
        );
    }

    #[test]
    fn the_run_summary_aggregates_each_optimizer_in_the_order_given() {
        let seed = |optimizer: &str, seed, acc: Option<f64>, loss| SlSeedSummary {
            optimizer: optimizer.into(),
            seed,
            task: "digits".into(),
            model: "cnn".into(),
            epochs: 2,
            epochs_done: 2,
            complete: true,
            final_train_loss: Some(loss),
            final_test_accuracy: acc,
            final_test_miou: None,
            best_test_metric: acc,
            diverged: acc.is_none(),
            divergence: None,
            max_lr: Some(0.1),
            wall_s: 1.0,
        };
        let seeds = [
            seed("adam", 0, Some(96.0), 0.1),
            seed("adam", 1, Some(98.0), 0.3),
            seed("dog", 0, None, f64::NAN),
        ];
        let names = ["adam".to_string(), "dog".to_string()];
        let s = SlRunSummary::from_seeds("digits", "cnn", 2, &names, &seeds);
        assert_eq!(s.metric, "test_accuracy");
        assert_eq!(
            s.lines()[0],
            "adam         97.00 (0.2000)  2 seeds, diverged 0/2"
        );
        assert_eq!(s.results[0].std_test_metric, Some(1.0));
        assert_eq!(s.results[1].mean_test_metric, None);
        assert_eq!(s.results[1].diverged, 1);
        let json = serde_json::to_string(&seeds[0]).unwrap();
        assert_eq!(
            serde_json::from_str::<SlSeedSummary>(&json).unwrap(),
            seeds[0]
        );
    }
}
