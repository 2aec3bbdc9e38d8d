//! Writing supervised run records (format: `docs/sl.md`): `epochs.csv` appended and flushed
//! each epoch, summaries written atomically (the helpers of `crate::records`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::RunError;
use crate::records::{num, opt};

/// The columns of `epochs.csv`, in order (shared with the reader in `lrfree_plots::sl`).
pub use lrfree_plots::sl::COLUMNS;

/// One epoch's row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochRow {
    /// Epoch number (SimCLR's linear-evaluation epochs continue after pre-training).
    pub epoch: usize,
    /// `train`, `pretrain` or `linear`.
    pub phase: &'static str,
    /// Optimizer steps so far (of this phase's optimizer).
    pub steps: u64,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Accuracy on the epoch's training batches (%), for classification.
    pub train_accuracy: Option<f64>,
    /// Test loss.
    pub test_loss: Option<f64>,
    /// Test accuracy (%).
    pub test_accuracy: Option<f64>,
    /// Test mean IoU (%).
    pub test_miou: Option<f64>,
    /// Estimated learning rate after the epoch's last step.
    pub lr: Option<f64>,
    /// Its D.
    pub d: Option<f64>,
    /// Seconds since the seed started.
    pub wall_s: f64,
}

/// Appends rows to one seed's `epochs.csv`, flushing each.
pub struct EpochsWriter {
    path: PathBuf,
    file: File,
}

impl EpochsWriter {
    /// A new file with the header.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        let mut file = File::create(path).map_err(|e| RunError::io(path, e))?;
        writeln!(file, "{}", COLUMNS.join(",")).map_err(|e| RunError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Append one row.
    pub fn write(&mut self, r: &EpochRow) -> Result<(), RunError> {
        let cells = [
            r.epoch.to_string(),
            r.phase.to_string(),
            r.steps.to_string(),
            num(r.train_loss),
            opt(r.train_accuracy),
            opt(r.test_loss),
            opt(r.test_accuracy),
            opt(r.test_miou),
            opt(r.lr),
            opt(r.d),
            format!("{:.3}", r.wall_s),
        ];
        writeln!(self.file, "{}", cells.join(","))
            .and_then(|_| self.file.flush())
            .map_err(|e| RunError::io(&self.path, e))
    }
}

/// Where and why a seed diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlDivergence {
    /// Epoch in which it happened.
    pub epoch: usize,
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
    pub epochs: usize,
    /// Epochs done (all phases).
    pub epochs_done: usize,
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
        let metrics: Vec<Option<f64>> = seeds
            .iter()
            .map(|s| s.final_test_accuracy.or(s.final_test_miou))
            .collect();
        let losses: Vec<Option<f64>> = seeds.iter().map(|s| s.final_train_loss).collect();
        let mean = |v: &[Option<f64>]| {
            let v: Vec<f64> = v.iter().flatten().copied().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let m = mean(&metrics);
        let std = m.map(|m| {
            let v: Vec<f64> = metrics.iter().flatten().copied().collect();
            (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
        });
        Self {
            optimizer: optimizer.to_string(),
            seeds: seeds.len(),
            diverged: seeds.iter().filter(|s| s.diverged).count(),
            mean_test_metric: m,
            std_test_metric: std,
            mean_train_loss: mean(&losses),
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
    pub epochs: usize,
    /// `test_accuracy` or `test_miou`.
    pub metric: String,
    /// One entry per optimizer, in the order given.
    pub results: Vec<SlOptimizerResult>,
}
