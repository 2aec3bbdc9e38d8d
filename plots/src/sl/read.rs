//! Reading an `sl-train` run directory for the figure and the report: `run.json` (task,
//! model, epochs) and per seed `epochs.csv` and `summary.json`
//! ([`lrfree_runkit::records::sl`]), with the rules of [`crate::read`] for partial records.

use std::path::{Path, PathBuf};

use lrfree_runkit::records::sl::{EpochRow, SlPlan, SlSeedSummary, read_epochs};
use serde::de::IgnoredAny;

use crate::error::PlotError;
use crate::read::{Seed, read_plan, read_seeds};

/// One seed's records: `epochs.csv` rows and `summary.json`.
pub type SlSeed = Seed<EpochRow, SlSeedSummary>;

/// A run directory's records.
#[derive(Debug, Clone, PartialEq)]
pub struct SlRun {
    /// The directory.
    pub dir: PathBuf,
    /// Task name (`run.json`).
    pub task: String,
    /// Model name (`run.json`).
    pub model: String,
    /// Configured epochs (`run.json`).
    pub epochs: Option<u64>,
    /// Seeds, optimizers in the paper's order, then seeds in order.
    pub seeds: Vec<SlSeed>,
    /// One line per skipped or partial file.
    pub warnings: Vec<String>,
}

impl SlRun {
    /// Optimizers present, in the paper's order.
    pub fn optimizers(&self) -> Vec<String> {
        crate::read::optimizers(&self.seeds)
    }

    /// `task / model`, the report's column header.
    pub fn label(&self) -> String {
        format!("{} / {}", self.task, self.model)
    }

    /// Whether the test metric is mIoU.
    pub fn is_segmentation(&self) -> bool {
        self.seeds
            .iter()
            .flat_map(|s| &s.rows)
            .any(|r| r.test_miou.is_some())
    }
}

/// Read an `sl-train` run directory.
pub fn read_sl_run(dir: &Path) -> Result<SlRun, PlotError> {
    let (plan, mut warnings) = read_plan::<SlPlan<IgnoredAny>>(dir, "task and model unknown")?;
    let planned = plan.as_ref().map(|p| (&p.optimizers[..], &p.seeds[..]));
    let (seeds, mut w): (Vec<SlSeed>, _) = read_seeds(dir, "epochs.csv", read_epochs, planned)?;
    warnings.append(&mut w);
    let (task, model, epochs) = match plan {
        Some(p) => (p.task, p.model, Some(p.epochs)),
        None => (String::new(), String::new(), None),
    };
    Ok(SlRun {
        dir: dir.to_path_buf(),
        task,
        model,
        epochs,
        seeds,
        warnings,
    })
}
