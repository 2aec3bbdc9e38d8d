//! Reading an `rl-train` run directory for the figures and the report: its `run.json`, and
//! per seed `metrics.csv` and `summary.json` ([`lrfree_runkit::records::rl`]), with the rules
//! of [`crate::read`] for partial records.

use std::path::{Path, PathBuf};

use lrfree_runkit::records::rl::{Event, Row, RunPlan, SeedSummary, read_metrics};
use serde::de::IgnoredAny;

use crate::error::PlotError;
use crate::read::{Seed, read_plan, read_seeds};

/// One seed's records: `metrics.csv` rows and `summary.json`.
pub type SeedRecord = Seed<Row, SeedSummary>;

impl Seed<Row, SeedSummary> {
    /// The last step recorded.
    pub fn last_step(&self) -> Option<u64> {
        self.rows.iter().map(|r| r.step).max()
    }

    /// Where the seed diverged: the summary's `divergence.step`; for a diverged seed without
    /// one, or a seed without a summary whose last update row is non-finite, the last row.
    pub fn divergence_step(&self) -> Option<u64> {
        match &self.summary {
            Some(s) if s.diverged => s.divergence.as_ref().map(|d| d.step).or(self.last_step()),
            Some(_) => None,
            None => {
                let last_update = self.rows.iter().rev().find(|r| r.event == Event::Update)?;
                last_update.non_finite().then(|| self.last_step()).flatten()
            }
        }
    }
}

/// Everything read from one run directory.
#[derive(Debug, Clone)]
pub struct RunRecords {
    /// The run directory.
    pub dir: PathBuf,
    /// Environment name (`run.json`, else a seed summary, else the directory name).
    pub env: String,
    /// Steps per seed, when known.
    pub steps: Option<u64>,
    /// Seeds with records, optimizers in the paper's order, then seeds in order.
    pub seeds: Vec<SeedRecord>,
    /// One line per skipped or partial seed or file.
    pub warnings: Vec<String>,
}

impl RunRecords {
    /// The optimizers present, in the paper's order (unknown names last, alphabetically).
    pub fn optimizers(&self) -> Vec<String> {
        crate::read::optimizers(&self.seeds)
    }

    /// The seeds of `optimizer`.
    pub fn seeds_of<'a>(&'a self, optimizer: &'a str) -> impl Iterator<Item = &'a SeedRecord> + 'a {
        self.seeds.iter().filter(move |s| s.optimizer == optimizer)
    }
}

/// Read a run directory. Partial records give warnings; malformed ones errors.
pub fn read_run(dir: &Path) -> Result<RunRecords, PlotError> {
    let (plan, mut warnings) =
        read_plan::<RunPlan<IgnoredAny>>(dir, "environment taken from the seed summaries")?;
    let planned = plan.as_ref().map(|p| (&p.optimizers[..], &p.seeds[..]));
    let (seeds, mut w): (Vec<SeedRecord>, _) =
        read_seeds(dir, "metrics.csv", read_metrics, planned)?;
    warnings.append(&mut w);
    let env = plan
        .as_ref()
        .map(|p| p.env.clone())
        .or_else(|| {
            seeds
                .iter()
                .find_map(|s| s.summary.as_ref().map(|m| m.env.clone()))
        })
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into())
        });
    let steps = plan.as_ref().map(|p| p.steps).or_else(|| {
        seeds
            .iter()
            .find_map(|s| s.summary.as_ref().map(|m| m.steps))
    });
    Ok(RunRecords {
        dir: dir.to_path_buf(),
        env,
        steps,
        seeds,
        warnings,
    })
}

/// Several runs of one environment as one, for one figure (`rl-plot --together`): an
/// optimizer found in more than one run is named `optimizer [label]` with its run's label
/// (`labels[i]` for `runs[i]`), the others keep their names. Runs of different environments,
/// or labels that would give two curves one name, are usage errors.
pub fn merge_runs(runs: Vec<RunRecords>, labels: &[String]) -> Result<RunRecords, PlotError> {
    let Some(first) = runs.first() else {
        return Err(PlotError::Usage("no run directory given".into()));
    };
    if labels.len() != runs.len() {
        return Err(PlotError::Usage(format!(
            "{} labels for {} run directories: give one --label per RUN_DIR, in order",
            labels.len(),
            runs.len()
        )));
    }
    for (i, label) in labels.iter().enumerate() {
        if label.trim().is_empty() || label.contains(['[', ']']) {
            return Err(PlotError::Usage(format!(
                "label {label:?} of {}: a label must be non-empty and without brackets",
                runs[i].dir.display()
            )));
        }
        if labels[..i].contains(label) {
            return Err(PlotError::Usage(format!(
                "label {label:?} is given to two runs; each run needs its own"
            )));
        }
    }
    if let Some(other) = runs.iter().find(|r| r.env != first.env) {
        return Err(PlotError::Usage(format!(
            "{} is {} but {} is {}: --together draws runs of one environment",
            first.dir.display(),
            first.env,
            other.dir.display(),
            other.env
        )));
    }
    let in_runs = |name: &str| {
        runs.iter()
            .filter(|r| r.seeds_of(name).next().is_some())
            .count()
    };
    let shared: Vec<String> = runs
        .iter()
        .flat_map(|r| r.optimizers())
        .filter(|name| in_runs(name) > 1)
        .collect();
    let mut merged = RunRecords {
        dir: first.dir.clone(),
        env: first.env.clone(),
        steps: runs.iter().filter_map(|r| r.steps).max(),
        seeds: Vec::new(),
        warnings: Vec::new(),
    };
    for (run, label) in runs.into_iter().zip(labels) {
        merged.warnings.extend(run.warnings);
        merged.seeds.extend(run.seeds.into_iter().map(|mut seed| {
            if shared.contains(&seed.optimizer) {
                seed.optimizer = format!("{} [{label}]", seed.optimizer);
            }
            seed
        }));
    }
    // Paper order; one method's labelled curves stay in the order of their runs.
    merged
        .seeds
        .sort_by_key(|s| crate::palette::order_key(&s.optimizer));
    Ok(merged)
}
