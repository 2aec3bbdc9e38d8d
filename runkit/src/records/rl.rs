//! `rl-train`'s records (`docs/records.md`): the types that write and read them.
//!
//! - `metrics.csv`: [`MetricsWriter`] appends [`COLUMNS`] rows as training goes;
//!   [`read_metrics`] gives them back as [`Row`]s.
//! - `diagnostics.csv` (runs with `diagnostics = true`): [`DiagnosticsWriter`] and
//!   [`read_diagnostics`], [`DIAGNOSTIC_COLUMNS`].
//! - `<optimizer>/seed-<N>/summary.json`: [`SeedSummary`]; `timing.json`: [`SeedTiming`].
//! - The run's `summary.json`: [`RunSummary`] of [`OptimizerResult`]s; `run.json`: [`RunPlan`].
//!
//! JSON records are written with [`crate::files::write_json_atomic`] and read with
//! [`crate::files::read_json`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Appender, mean_std, num, opt, parse_count, parse_opt, read_csv};
use crate::{RecordError, RunError};

/// The columns of `metrics.csv`, in order.
pub const COLUMNS: [&str; 16] = [
    "step",
    "event",
    "episode_return",
    "episode_length",
    "eval_mean",
    "eval_std",
    "critic_loss",
    "actor_loss",
    "temperature_loss",
    "temperature",
    "critic_lr",
    "critic_d",
    "actor_lr",
    "actor_d",
    "temperature_lr",
    "temperature_d",
];

/// Columns of `metrics.csv` under their names before 2026-12-07 (`alpha` for SAC's
/// temperature), read as today's: every older record stays readable.
pub const RENAMED_COLUMNS: [(&str, &str); 4] = [
    ("alpha_loss", "temperature_loss"),
    ("alpha", "temperature"),
    ("alpha_lr", "temperature_lr"),
    ("alpha_d", "temperature_d"),
];

const DOC: &str = "docs/records.md";

/// What a `metrics.csv` row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A training episode ended.
    Episode,
    /// An evaluation of the deterministic policy.
    Eval,
    /// The last update's losses and learning-rate estimates.
    Update,
}

impl Event {
    /// The `event` cell.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Episode => "episode",
            Event::Eval => "eval",
            Event::Update => "update",
        }
    }
}

/// The three optimized parts of SAC, each with its own optimizer and estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// The Q networks.
    Critic,
    /// The policy.
    Actor,
    /// The entropy temperature.
    Temperature,
}

impl Net {
    /// All three, in column (and panel) order.
    pub const ALL: [Net; 3] = [Net::Critic, Net::Actor, Net::Temperature];

    /// The column prefix (`critic`, `actor`, `temperature`).
    pub fn name(self) -> &'static str {
        match self {
            Net::Critic => "critic",
            Net::Actor => "actor",
            Net::Temperature => "temperature",
        }
    }

    /// A panel title.
    pub fn title(self) -> &'static str {
        match self {
            Net::Critic => "critic optimizer",
            Net::Actor => "actor optimizer",
            Net::Temperature => "temperature optimizer",
        }
    }

    /// The index of its `<net>_lr` column (`<net>_d` follows).
    fn lr_column(self) -> usize {
        match self {
            Net::Critic => 10,
            Net::Actor => 12,
            Net::Temperature => 14,
        }
    }
}

/// One optimizer's estimate as `metrics.csv` records it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetEstimate {
    /// The learning rate the last step used (`<net>_lr`).
    pub lr: Option<f64>,
    /// The D the last step used, for methods with one (`<net>_d`).
    pub d: Option<f64>,
}

/// One update's numbers: an `update` row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateRow {
    /// Twin-critic loss.
    pub critic_loss: f64,
    /// Actor loss.
    pub actor_loss: f64,
    /// Temperature loss (agents with an entropy temperature; empty cell otherwise).
    pub temperature_loss: Option<f64>,
    /// The temperature α (agents with one; empty cell otherwise).
    pub temperature: Option<f64>,
    /// The critics' optimizer, the actor's and the temperature's, in [`Net::ALL`] order.
    pub estimates: [NetEstimate; 3],
}

/// One `metrics.csv` row as read; empty cells are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Environment steps done when the row was written.
    pub step: u64,
    /// What the row records.
    pub event: Event,
    /// The numeric cells, indexed like [`COLUMNS`] (entries 0 and 1 are always `None`).
    pub values: [Option<f64>; 16],
}

impl Row {
    /// The value of column `name` (`None` when empty or not a column).
    pub fn get(&self, name: &str) -> Option<f64> {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.values[i])
    }

    /// The learning-rate estimate of `net`.
    pub fn lr(&self, net: Net) -> Option<f64> {
        self.values[net.lr_column()]
    }

    /// Whether any loss or estimate of this row is non-finite (a diverging seed).
    pub fn non_finite(&self) -> bool {
        self.event == Event::Update && self.values[6..].iter().flatten().any(|v| !v.is_finite())
    }
}

/// Appends rows to one seed's `metrics.csv`, flushing each.
pub struct MetricsWriter(Appender);

impl MetricsWriter {
    /// Start a new file with the header.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        Appender::create(path, &COLUMNS).map(Self)
    }

    /// Reopen an existing file for a resumed run, cut back to `len` bytes (its length at the
    /// checkpoint), so rows written after the checkpoint are not repeated.
    pub fn resume(path: &Path, len: u64) -> Result<Self, RunError> {
        Appender::resume(path, len).map(Self)
    }

    /// Bytes written so far (recorded in checkpoints).
    #[allow(clippy::len_without_is_empty)] // a byte offset, not a collection
    pub fn len(&self) -> Result<u64, RunError> {
        self.0.len()
    }

    fn row(
        &mut self,
        step: u64,
        event: Event,
        set: impl FnOnce(&mut [String; 16]),
    ) -> Result<(), RunError> {
        let mut cells: [String; 16] = Default::default();
        cells[0] = step.to_string();
        cells[1] = event.as_str().into();
        set(&mut cells);
        self.0.row(&cells)
    }

    /// A training episode ended.
    pub fn episode(&mut self, step: u64, ret: f64, len: u64) -> Result<(), RunError> {
        self.row(step, Event::Episode, |c| {
            c[2] = num(ret);
            c[3] = len.to_string();
        })
    }

    /// An evaluation.
    pub fn eval(&mut self, step: u64, mean: f64, std: f64) -> Result<(), RunError> {
        self.row(step, Event::Eval, |c| {
            c[4] = num(mean);
            c[5] = num(std);
        })
    }

    /// The last update's losses and estimates.
    pub fn update(&mut self, step: u64, u: &UpdateRow) -> Result<(), RunError> {
        self.row(step, Event::Update, |c| {
            c[6] = num(u.critic_loss);
            c[7] = num(u.actor_loss);
            c[8] = opt(u.temperature_loss);
            c[9] = opt(u.temperature);
            for (net, e) in Net::ALL.iter().zip(&u.estimates) {
                c[net.lr_column()] = opt(e.lr);
                c[net.lr_column() + 1] = opt(e.d);
            }
        })
    }
}

/// Read one `metrics.csv`: its rows and warnings (a last row cut off mid-write, an empty
/// file). Columns may be missing (but `step` and `event`) or reordered, not unknown.
pub fn read_metrics(path: &Path) -> Result<(Vec<Row>, Vec<String>), RecordError> {
    let table = read_csv(path, &COLUMNS, &RENAMED_COLUMNS, &["step", "event"], DOC)?;
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in table.rows {
        let bad = |message: String| RecordError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message,
        };
        let step = parse_count(path, line, "step", &cells[0])?;
        let event = match cells[1].as_str() {
            "episode" => Event::Episode,
            "eval" => Event::Eval,
            "update" => Event::Update,
            other => {
                return Err(bad(format!(
                    "unknown event `{other}` (expected episode, eval or update)"
                )));
            }
        };
        let mut values = [None; 16];
        for i in 2..COLUMNS.len() {
            values[i] = parse_opt(path, line, COLUMNS[i], &cells[i])?;
        }
        let row = Row {
            step,
            event,
            values,
        };
        match event {
            Event::Episode if row.get("episode_return").is_none() => {
                return Err(bad("episode row without episode_return".into()));
            }
            Event::Eval if row.get("eval_mean").is_none() => {
                return Err(bad("eval row without eval_mean".into()));
            }
            _ => {}
        }
        rows.push(row);
    }
    Ok((rows, table.warnings))
}

/// The columns of `diagnostics.csv` (written when a run sets `diagnostics = true`): one row per
/// logged update and network, with what moved that optimizer's D (`burn_lrfree::Diagnostics`).
pub const DIAGNOSTIC_COLUMNS: [&str; 10] = [
    "step",
    "network",
    "lr",
    "d",
    "d_next",
    "d_hat",
    "numerator",
    "s_norm",
    "g0_norm",
    "grad_norm",
];

/// One network's row of `diagnostics.csv`: its estimate and the quantities behind it, each
/// empty when the method has none. The numbers follow [`DIAGNOSTIC_COLUMNS`] from `lr` on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DiagnosticRow {
    /// `lr`, `d`, `d_next`, `d_hat`, `numerator`, `s_norm`, `g0_norm`, `grad_norm`.
    pub values: [Option<f64>; 8],
}

impl DiagnosticRow {
    /// The value of column `name` (`None` when empty or not a numeric column).
    pub fn get(&self, name: &str) -> Option<f64> {
        DIAGNOSTIC_COLUMNS[2..]
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.values[i])
    }
}

/// Appends rows to one seed's `diagnostics.csv`, flushing each; resumed like [`MetricsWriter`].
pub struct DiagnosticsWriter(Appender);

impl DiagnosticsWriter {
    /// Start a new file with the header.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        Appender::create(path, &DIAGNOSTIC_COLUMNS).map(Self)
    }

    /// Reopen an existing file for a resumed run, cut back to `len` bytes.
    pub fn resume(path: &Path, len: u64) -> Result<Self, RunError> {
        Appender::resume(path, len).map(Self)
    }

    /// Bytes written so far (recorded in checkpoints).
    #[allow(clippy::len_without_is_empty)] // a byte offset, not a collection
    pub fn len(&self) -> Result<u64, RunError> {
        self.0.len()
    }

    /// One network's diagnostics at `step`.
    pub fn row(&mut self, step: u64, net: Net, row: &DiagnosticRow) -> Result<(), RunError> {
        let mut cells = vec![step.to_string(), net.name().to_string()];
        cells.extend(row.values.iter().map(|v| opt(*v)));
        self.0.row(&cells)
    }
}

/// One `diagnostics.csv` row as read: the step, the network and its numbers.
pub type DiagnosticRecord = (u64, Net, DiagnosticRow);

/// Read one `diagnostics.csv`: its rows and warnings (as [`read_metrics`]).
pub fn read_diagnostics(path: &Path) -> Result<(Vec<DiagnosticRecord>, Vec<String>), RecordError> {
    let table = read_csv(path, &DIAGNOSTIC_COLUMNS, &[], &["step", "network"], DOC)?;
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in table.rows {
        let step = parse_count(path, line, "step", &cells[0])?;
        // `alpha`: the temperature's name in records before 2026-12-07.
        let name = if cells[1] == "alpha" {
            "temperature"
        } else {
            cells[1].as_str()
        };
        let Some(net) = Net::ALL.into_iter().find(|n| n.name() == name) else {
            return Err(RecordError::MalformedRow {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "unknown network `{}` (expected critic, actor or temperature)",
                    cells[1]
                ),
            });
        };
        let mut row = DiagnosticRow::default();
        for (i, value) in row.values.iter_mut().enumerate() {
            *value = parse_opt(path, line, DIAGNOSTIC_COLUMNS[i + 2], &cells[i + 2])?;
        }
        rows.push((step, net, row));
    }
    Ok((rows, table.warnings))
}

/// Where and why a seed diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// Environment step of the divergence.
    pub step: u64,
    /// What went non-finite or out of bounds.
    pub reason: String,
}

/// Largest finite learning-rate estimate seen per part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaxLr {
    /// Critic optimizer.
    pub critic: Option<f64>,
    /// Actor optimizer.
    pub actor: Option<f64>,
    /// Temperature optimizer (`alpha` in summary.json files before 2026-12-07).
    #[serde(alias = "alpha")]
    pub temperature: Option<f64>,
}

impl MaxLr {
    /// Fold in one update's estimates.
    pub fn observe(&mut self, u: &UpdateRow) {
        for (max, e) in [&mut self.critic, &mut self.actor, &mut self.temperature]
            .into_iter()
            .zip(&u.estimates)
        {
            super::fold_max(max, e.lr);
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
    /// Not diverged and the final return reached the run's success threshold
    /// (`src/outcome.rs`).
    pub success: bool,
    /// A loss, the temperature or an estimate diverged (`src/outcome.rs`).
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
    /// The agent, where it is not SAC (`td3`); absent for SAC, as in every record written
    /// before agents could be chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl SeedSummary {
    /// Whether the seed's agent learns an entropy temperature (SAC's records have no `agent`).
    pub fn has_temperature(&self) -> bool {
        self.agent.as_deref().is_none_or(|a| a == "sac")
    }
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
    /// The console line: `adam seed 0: 3000 steps in 21.4 s (140.2 steps/s; …)`.
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
        let (mean, std) = mean_std(&finals);
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

impl RunSummary {
    /// Aggregate `seeds` per optimizer, in the order of `optimizers`.
    pub fn from_seeds(env: &str, steps: u64, optimizers: &[String], seeds: &[SeedSummary]) -> Self {
        Self {
            env: env.to_string(),
            steps,
            results: optimizers
                .iter()
                .map(|o| {
                    let mine: Vec<SeedSummary> = seeds
                        .iter()
                        .filter(|s| &s.optimizer == o)
                        .cloned()
                        .collect();
                    OptimizerResult::from_seeds(o, &mine)
                })
                .collect(),
        }
    }

    /// `result.txt`: one [`OptimizerResult::line`] per optimizer.
    pub fn lines(&self) -> Vec<String> {
        self.results.iter().map(OptimizerResult::line).collect()
    }
}

/// What a run does (`run.json`): `C` is `rl-train`'s resolved configuration when it writes
/// the file; readers that do not need it read `RunPlan<serde::de::IgnoredAny>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPlan<C> {
    /// Environment name.
    pub env: String,
    /// Steps per seed.
    pub steps: u64,
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

    #[test]
    fn rows_written_are_the_rows_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let mut w = MetricsWriter::create(&path).unwrap();
        w.episode(200, -1234.5, 200).unwrap();
        w.eval(500, -150.25, 10.5).unwrap();
        let u = UpdateRow {
            critic_loss: 1.5,
            actor_loss: f64::NAN,
            temperature_loss: Some(0.1),
            temperature: Some(0.2),
            estimates: [
                NetEstimate {
                    lr: Some(0.8),
                    d: Some(1e-6),
                },
                NetEstimate {
                    lr: Some(f64::INFINITY),
                    d: None,
                },
                NetEstimate::default(),
            ],
        };
        w.update(600, &u).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                COLUMNS.join(",").as_str(),
                "200,episode,-1234.5,200,,,,,,,,,,,,",
                "500,eval,,,-150.25,10.5,,,,,,,,,,",
                "600,update,,,,,1.5,NaN,0.1,0.2,0.8,0.000001,inf,,,",
            ]
        );
        let (rows, warnings) = read_metrics(&path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            (rows[0].event, rows[0].get("episode_length")),
            (Event::Episode, Some(200.0))
        );
        assert_eq!(rows[2].lr(Net::Critic), Some(0.8));
        assert_eq!(rows[2].lr(Net::Actor), Some(f64::INFINITY));
        assert!(rows[2].non_finite() && !rows[1].non_finite());
        // Resuming cuts the rows after the checkpoint.
        let len = {
            let w = MetricsWriter::resume(&path, text.find("600,update").unwrap() as u64).unwrap();
            w.len().unwrap()
        };
        assert_eq!(read_metrics(&path).unwrap().0.len(), 2);
        assert_eq!(len as usize, text.find("600,update").unwrap());
        let mut max = MaxLr::default();
        max.observe(&u);
        assert_eq!(
            (max.critic, max.actor, max.temperature),
            (Some(0.8), None, None)
        );
    }

    /// Records written before the temperature's columns were renamed (`alpha*`) read as
    /// today's; so do their diagnostics rows and summaries.
    #[test]
    fn records_with_the_temperature_named_alpha_read_as_today() {
        let tmp = tempfile::tempdir().unwrap();
        let row = "600,update,,,,,1.5,-2,0.1,0.2,0.8,,3e-4,,3e-4,";
        let old_header = COLUMNS.join(",").replace("temperature", "alpha");
        assert!(
            old_header.contains("alpha_loss,alpha,") && old_header.ends_with("alpha_lr,alpha_d")
        );
        let (old, new) = (tmp.path().join("old.csv"), tmp.path().join("new.csv"));
        std::fs::write(&old, format!("{old_header}\n{row}\n")).unwrap();
        std::fs::write(&new, format!("{}\n{row}\n", COLUMNS.join(","))).unwrap();
        let (old_rows, new_rows) = (read_metrics(&old).unwrap().0, read_metrics(&new).unwrap().0);
        assert_eq!(old_rows, new_rows);
        assert_eq!(old_rows[0].get("temperature"), Some(0.2));
        assert_eq!(old_rows[0].lr(Net::Temperature), Some(3e-4));

        let diagnostics = tmp.path().join("diagnostics.csv");
        let line = "100,alpha,3e-4,1e-6,1e-6,0,0,0,0,0";
        let text = format!("{}\n{line}\n", DIAGNOSTIC_COLUMNS.join(","));
        std::fs::write(&diagnostics, text).unwrap();
        assert_eq!(
            read_diagnostics(&diagnostics).unwrap().0[0].1,
            Net::Temperature
        );

        let max: MaxLr = serde_json::from_str(r#"{"critic": 1, "actor": 2, "alpha": 3}"#).unwrap();
        assert_eq!(max.temperature, Some(3.0));
        let written = serde_json::to_string(&max).unwrap();
        assert!(written.contains("\"temperature\":3"), "{written}");
    }

    #[test]
    fn bad_rows_are_errors_naming_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let header = COLUMNS.join(",");
        for (row, message) in [
            (
                "x,eval,,,1,1,,,,,,,,,,",
                "line 2: step `x` is not a whole number",
            ),
            ("5,jump,,,1,1,,,,,,,,,,", "unknown event `jump`"),
            ("5,eval,,,,1,,,,,,,,,,", "eval row without eval_mean"),
            ("5,update,,,,,a,,,,,,,,,", "critic_loss `a` is not a number"),
        ] {
            std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
            let e = read_metrics(&path).unwrap_err().to_string();
            assert!(e.contains(message), "{e}");
        }
    }

    #[test]
    fn the_run_summary_aggregates_each_optimizer_in_the_order_given() {
        let seed = |optimizer: &str, seed, ret: Option<f64>, diverged: bool| SeedSummary {
            optimizer: optimizer.into(),
            seed,
            env: "Pendulum".into(),
            steps: 100,
            steps_done: 100,
            complete: true,
            final_eval_return: ret,
            success: ret.is_some_and(|r| r > -200.0) && !diverged,
            diverged,
            divergence: None,
            max_lr: MaxLr::default(),
            actor_optimizer: None,
            temperature_optimizer: Some("adam".into()),
            agent: None,
        };
        let seeds = [
            seed("adam", 0, Some(-300.0), false),
            seed("dog", 0, None, true),
            seed("adam", 1, Some(-150.0), false),
        ];
        let names = ["dog".to_string(), "adam".to_string()];
        let s = RunSummary::from_seeds("Pendulum", 100, &names, &seeds);
        assert_eq!(
            s.lines(),
            [
                "dog          n/a (0/1)  lr diverged 1/1",
                "adam         -225.0 (1/2)  lr diverged 0/2"
            ]
        );
        assert_eq!(s.results[1].std_final_return, Some(75.0));
        assert_eq!(s.results[1].final_returns, [Some(-300.0), Some(-150.0)]);
        // A summary reads back as written; one from before `temperature_optimizer` reads too.
        let json = serde_json::to_string(&seeds[0]).unwrap();
        assert_eq!(
            serde_json::from_str::<SeedSummary>(&json).unwrap(),
            seeds[0]
        );
        let old = json.replace(r#","temperature_optimizer":"adam""#, "");
        assert_eq!(
            serde_json::from_str::<SeedSummary>(&old)
                .unwrap()
                .temperature_optimizer,
            None
        );
    }
}
