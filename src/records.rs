//! Writing run records (format: `docs/records.md`): `metrics.csv` appended and flushed as
//! training goes, summaries written atomically.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn_lrfree::Estimate;
use lrfree_agents::UpdateStats;
use serde::{Deserialize, Serialize};

use crate::error::RunError;

/// The columns of `metrics.csv`, in order: one list for writer and readers (`rl-plot`).
pub use lrfree_plots::records::COLUMNS;

/// Appends rows to one seed's `metrics.csv`, flushing each.
pub struct MetricsWriter {
    path: PathBuf,
    file: File,
}

/// A CSV cell: the number, `NaN` spelled out (shared with `sl-train`'s records).
pub(crate) fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        v.to_string()
    }
}

/// A CSV cell that may be empty.
pub(crate) fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

impl MetricsWriter {
    /// Start a new file with the header.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        let mut file = File::create(path).map_err(|e| RunError::io(path, e))?;
        writeln!(file, "{}", COLUMNS.join(",")).map_err(|e| RunError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Reopen an existing file for a resumed run, cut back to `len` bytes (its length at the
    /// checkpoint), so rows written after the checkpoint are not repeated.
    pub fn resume(path: &Path, len: u64) -> Result<Self, RunError> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| RunError::io(path, e))?;
        file.set_len(len).map_err(|e| RunError::io(path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| RunError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Bytes written so far (recorded in checkpoints).
    #[allow(clippy::len_without_is_empty)] // a byte offset, not a collection
    pub fn len(&self) -> Result<u64, RunError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| RunError::io(&self.path, e))
    }

    fn row(&mut self, cells: [String; 16]) -> Result<(), RunError> {
        writeln!(self.file, "{}", cells.join(","))
            .and_then(|_| self.file.flush())
            .map_err(|e| RunError::io(&self.path, e))
    }

    /// A training episode ended.
    pub fn episode(&mut self, step: u64, ret: f64, len: u64) -> Result<(), RunError> {
        let mut cells: [String; 16] = Default::default();
        cells[0] = step.to_string();
        cells[1] = "episode".into();
        cells[2] = num(ret);
        cells[3] = len.to_string();
        self.row(cells)
    }

    /// An evaluation.
    pub fn eval(&mut self, step: u64, mean: f64, std: f64) -> Result<(), RunError> {
        let mut cells: [String; 16] = Default::default();
        cells[0] = step.to_string();
        cells[1] = "eval".into();
        cells[4] = num(mean);
        cells[5] = num(std);
        self.row(cells)
    }

    /// The last update's losses and estimates.
    pub fn update(&mut self, step: u64, s: &UpdateStats) -> Result<(), RunError> {
        let est = |e: &Estimate| (opt(e.lr), opt(e.d));
        let (critic_lr, critic_d) = est(&s.critic);
        let (actor_lr, actor_d) = est(&s.actor);
        let (alpha_lr, alpha_d) = est(&s.alpha_est);
        self.row([
            step.to_string(),
            "update".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            num(s.critic_loss),
            num(s.actor_loss),
            num(s.alpha_loss),
            num(s.alpha),
            critic_lr,
            critic_d,
            actor_lr,
            actor_d,
            alpha_lr,
            alpha_d,
        ])
    }
}

/// Where and why a seed diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// Environment step of the divergence.
    pub step: u64,
    /// What went non-finite or out of bounds.
    pub reason: String,
}

/// Largest finite learning-rate estimate seen per network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaxLr {
    /// Critic optimizer.
    pub critic: Option<f64>,
    /// Actor optimizer.
    pub actor: Option<f64>,
    /// Temperature optimizer.
    pub alpha: Option<f64>,
}

impl MaxLr {
    /// Fold in one update's estimates.
    pub fn observe(&mut self, s: &UpdateStats) {
        for (slot, est) in [
            (&mut self.critic, &s.critic),
            (&mut self.actor, &s.actor),
            (&mut self.alpha, &s.alpha_est),
        ] {
            if let Some(lr) = est.lr.filter(|v| v.is_finite()) {
                *slot = Some(slot.map_or(lr, |m: f64| m.max(lr)));
            }
        }
    }
}

/// One seed's outcome (`<optimizer>/seed-<N>/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// Environment name.
    pub env: String,
    /// Steps the run was configured for.
    pub steps: u64,
    /// Steps actually done.
    pub steps_done: u64,
    /// Whether the seed ended (finished or diverged).
    pub complete: bool,
    /// Mean return of the last evaluation.
    pub final_eval_return: Option<f64>,
    /// See [`crate::outcome::success`].
    pub success: bool,
    /// See [`crate::outcome::divergence`].
    pub diverged: bool,
    /// Where it diverged.
    pub divergence: Option<Divergence>,
    /// Largest learning-rate estimates.
    pub max_lr: MaxLr,
    /// The actor's optimizer where it is not `optimizer`: `adam` for SPS-type methods run on
    /// the critics only (`sps_critics_only`, beyond the paper). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_optimizer: Option<String>,
    /// The temperature's optimizer (`adam` by default; `optimizer` itself under
    /// `temperature_optimizer = "same"`). Absent in records written before 2026-12, whose
    /// temperature used `optimizer` unless their config said otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_optimizer: Option<String>,
}

/// How fast one seed trained in one process (`<optimizer>/seed-<N>/timing.json`). Kept out of
/// `summary.json`, which stays identical between runs of the same seed (the determinism and
/// resume tests compare it byte for byte); timings never are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedTiming {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// Environment name.
    pub env: String,
    /// Step this process started at: 0, or the checkpoint's step for a resumed seed.
    pub start_step: u64,
    /// Environment steps done in this process (a resumed seed counts only its own part).
    pub env_steps: u64,
    /// Wall time of this process's training loop (acting, stepping, updates, evaluations and
    /// checkpoints; not agent/environment construction, the final save or the plots).
    pub wall_seconds: f64,
    /// The part of `wall_seconds` spent in evaluations.
    pub eval_seconds: f64,
    /// `env_steps / wall_seconds`.
    pub steps_per_second: f64,
    /// `env_steps / (wall_seconds - eval_seconds)`: training throughput without evaluations.
    pub train_steps_per_second: f64,
}

impl SeedTiming {
    /// The console line: `adam seed 0: 3000 steps in 21.4 s (140.2 steps/s)`.
    pub fn line(&self) -> String {
        format!(
            "{} seed {}: {} steps in {:.1} s ({:.1} steps/s; {:.1} without {:.1} s of evaluation)",
            self.optimizer,
            self.seed,
            self.env_steps,
            self.wall_seconds,
            self.steps_per_second,
            self.train_steps_per_second,
            self.eval_seconds
        )
    }
}

/// One optimizer's line of the run summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerResult {
    /// Optimizer registry name.
    pub optimizer: String,
    /// Seeds run.
    pub seeds: usize,
    /// Seeds that succeeded.
    pub successes: usize,
    /// Seeds whose learning-rate estimate (or training) diverged.
    pub lr_diverged: usize,
    /// Mean final evaluation return over seeds that have one.
    pub mean_final_return: Option<f64>,
    /// Their population standard deviation.
    pub std_final_return: Option<f64>,
    /// Each seed's final evaluation return (in seed order; `null` for none).
    pub final_returns: Vec<Option<f64>>,
}

impl OptimizerResult {
    /// Aggregate one optimizer's seeds.
    pub fn from_seeds(optimizer: &str, seeds: &[SeedSummary]) -> Self {
        let finals: Vec<f64> = seeds.iter().filter_map(|s| s.final_eval_return).collect();
        let mean = (!finals.is_empty()).then(|| finals.iter().sum::<f64>() / finals.len() as f64);
        let std = mean.map(|m| {
            (finals.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / finals.len() as f64).sqrt()
        });
        Self {
            optimizer: optimizer.to_string(),
            seeds: seeds.len(),
            successes: seeds.iter().filter(|s| s.success).count(),
            lr_diverged: seeds.iter().filter(|s| s.diverged).count(),
            mean_final_return: mean,
            std_final_return: std,
            final_returns: seeds.iter().map(|s| s.final_eval_return).collect(),
        }
    }

    /// The Table-3 style line: `mean (successes/seeds)` and the divergence count.
    pub fn line(&self) -> String {
        let mean = self
            .mean_final_return
            .map_or("n/a".to_string(), |m| format!("{m:.1}"));
        format!(
            "{:<12} {mean} ({}/{})  lr diverged {}/{}",
            self.optimizer, self.successes, self.seeds, self.lr_diverged, self.seeds
        )
    }
}

/// The run summary (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Environment name.
    pub env: String,
    /// Steps per seed.
    pub steps: u64,
    /// One entry per optimizer, in the order they were given.
    pub results: Vec<OptimizerResult>,
}

/// Write `value` as pretty JSON to `path` atomically (temporary file, then rename).
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| RunError::io(path, e))?;
    write_atomic(path, text.as_bytes())
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| RunError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| RunError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, e))
}

/// Read a JSON file written by this module.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| RunError::io(path, e))
}
