//! Reading run records (`docs/records.md`): `run.json`, `<optimizer>/seed-<N>/metrics.csv` and
//! each seed's `summary.json`.
//!
//! Records may be partial: a run still in progress or killed has seeds without `summary.json`,
//! seed directories without `metrics.csv` yet, and a last `metrics.csv` line cut off mid-write.
//! Those are skipped with a warning (collected in [`RunRecords::warnings`]), because a figure of
//! a running experiment is still useful. Records that are wrong rather than unfinished (an
//! unknown column, a malformed row, a summary that is not valid JSON) are errors naming the file
//! and line: silently dropping them would change the numbers of the report.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::PlotError;
use crate::palette::paper_rank;

/// The columns of `metrics.csv` (the writer is `lrfree_rl::records::COLUMNS`).
pub const COLUMNS: [&str; 16] = [
    "step",
    "event",
    "episode_return",
    "episode_length",
    "eval_mean",
    "eval_std",
    "critic_loss",
    "actor_loss",
    "alpha_loss",
    "alpha",
    "critic_lr",
    "critic_d",
    "actor_lr",
    "actor_d",
    "alpha_lr",
    "alpha_d",
];

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

/// The three optimized networks of SAC, each with its own optimizer and estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// The Q networks.
    Critic,
    /// The policy.
    Actor,
    /// The entropy temperature.
    Alpha,
}

impl Net {
    /// All three, in panel order.
    pub const ALL: [Net; 3] = [Net::Critic, Net::Actor, Net::Alpha];

    /// The column prefix (`critic`, `actor`, `alpha`).
    pub fn name(self) -> &'static str {
        match self {
            Net::Critic => "critic",
            Net::Actor => "actor",
            Net::Alpha => "alpha",
        }
    }

    /// A panel title.
    pub fn title(self) -> &'static str {
        match self {
            Net::Critic => "critic optimizer",
            Net::Actor => "actor optimizer",
            Net::Alpha => "temperature optimizer",
        }
    }
}

/// One `metrics.csv` row; empty cells are `None`.
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
        self.values[match net {
            Net::Critic => 10,
            Net::Actor => 12,
            Net::Alpha => 14,
        }]
    }

    /// Whether any loss or estimate of this row is non-finite (a diverging seed).
    pub fn non_finite(&self) -> bool {
        self.event == Event::Update && self.values[6..].iter().flatten().any(|v| !v.is_finite())
    }
}

/// Where and why a seed diverged (`summary.json` `divergence`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Divergence {
    /// Environment step of the divergence.
    pub step: u64,
    /// What went non-finite or out of bounds.
    #[serde(default)]
    pub reason: String,
}

/// A seed's outcome (`summary.json`); only the fields the figures and report use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SeedSummary {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// Environment name.
    #[serde(default)]
    pub env: Option<String>,
    /// Steps the run was configured for.
    #[serde(default)]
    pub steps: Option<u64>,
    /// Steps actually done.
    #[serde(default)]
    pub steps_done: Option<u64>,
    /// Whether the seed ended (finished or diverged).
    #[serde(default = "yes")]
    pub complete: bool,
    /// Mean return of the last evaluation.
    pub final_eval_return: Option<f64>,
    /// Whether the seed reached the environment's success threshold.
    pub success: bool,
    /// Whether a learning-rate estimate (or training) diverged.
    pub diverged: bool,
    /// Where it diverged.
    #[serde(default)]
    pub divergence: Option<Divergence>,
    /// The actor's optimizer where it is not `optimizer` (SPS-type methods on the critics
    /// only: `adam`, beyond the paper).
    #[serde(default)]
    pub actor_optimizer: Option<String>,
    /// The temperature's optimizer (absent in records from before 2026-12).
    #[serde(default)]
    pub temperature_optimizer: Option<String>,
}

fn yes() -> bool {
    true
}

/// One seed's records.
#[derive(Debug, Clone)]
pub struct SeedRecord {
    /// Optimizer registry name (the directory name).
    pub optimizer: String,
    /// The seed (from `seed-<N>`).
    pub seed: u64,
    /// The seed directory.
    pub dir: PathBuf,
    /// `metrics.csv` rows, in file order.
    pub rows: Vec<Row>,
    /// `summary.json`, absent while the seed runs (or when it was killed).
    pub summary: Option<SeedSummary>,
}

impl SeedRecord {
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
        let mut names: Vec<String> = Vec::new();
        for s in &self.seeds {
            if !names.contains(&s.optimizer) {
                names.push(s.optimizer.clone());
            }
        }
        names
    }

    /// The seeds of `optimizer`.
    pub fn seeds_of<'a>(&'a self, optimizer: &'a str) -> impl Iterator<Item = &'a SeedRecord> + 'a {
        self.seeds.iter().filter(move |s| s.optimizer == optimizer)
    }
}

#[derive(Deserialize)]
struct RunJson {
    env: Option<String>,
    steps: Option<u64>,
    #[serde(default)]
    optimizers: Vec<String>,
    #[serde(default)]
    seeds: Vec<u64>,
}

/// Read a run directory. Partial records give warnings; malformed ones errors.
pub fn read_run(dir: &Path) -> Result<RunRecords, PlotError> {
    if !dir.exists() {
        return Err(PlotError::NoSuchDirectory(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(PlotError::NotADirectory(dir.to_path_buf()));
    }
    let mut warnings = Vec::new();
    let run_json = dir.join("run.json");
    let plan: Option<RunJson> = if run_json.is_file() {
        Some(read_json(&run_json)?)
    } else {
        warnings.push(format!(
            "{}: missing; environment taken from the seed summaries",
            run_json.display()
        ));
        None
    };

    let mut seed_dirs: Vec<(String, u64, PathBuf)> = Vec::new();
    for entry in read_dir_sorted(dir)? {
        let Some(name) = entry
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if !entry.is_dir() || name == "plots" {
            continue;
        }
        let before = seed_dirs.len();
        for sub in read_dir_sorted(&entry)? {
            let seed = sub
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("seed-"))
                .and_then(|n| n.parse::<u64>().ok());
            if let (Some(seed), true) = (seed, sub.is_dir()) {
                seed_dirs.push((name.clone(), seed, sub));
            }
        }
        if seed_dirs.len() == before && paper_rank(&name).is_some() {
            warnings.push(format!(
                "{}: no seed-<N> directories; skipped",
                entry.display()
            ));
        }
    }
    seed_dirs.sort_by(|a, b| {
        (paper_rank(&a.0).unwrap_or(usize::MAX), &a.0, a.1).cmp(&(
            paper_rank(&b.0).unwrap_or(usize::MAX),
            &b.0,
            b.1,
        ))
    });

    if let Some(plan) = &plan {
        for opt in &plan.optimizers {
            for seed in &plan.seeds {
                if !seed_dirs.iter().any(|(o, s, _)| o == opt && s == seed) {
                    warnings.push(format!(
                        "{}: {opt} seed {seed} not started (no {opt}/seed-{seed}); skipped",
                        dir.display()
                    ));
                }
            }
        }
    }

    let mut seeds = Vec::new();
    for (optimizer, seed, path) in seed_dirs {
        let metrics = path.join("metrics.csv");
        if !metrics.is_file() {
            warnings.push(format!(
                "{}; seed skipped",
                PlotError::MissingMetrics(metrics)
            ));
            continue;
        }
        let (rows, mut w) = read_metrics(&metrics)?;
        warnings.append(&mut w);
        let summary_path = path.join("summary.json");
        let summary: Option<SeedSummary> = if summary_path.is_file() {
            Some(read_json(&summary_path)?)
        } else {
            warnings.push(format!(
                "{}: missing (seed still running or killed); plotted up to step {}, left out of the report",
                summary_path.display(),
                rows.iter().map(|r| r.step).max().unwrap_or(0)
            ));
            None
        };
        if rows.is_empty() {
            warnings.push(format!("{}: no rows yet", metrics.display()));
        }
        seeds.push(SeedRecord {
            optimizer,
            seed,
            dir: path,
            rows,
            summary,
        });
    }

    if seeds.is_empty() {
        let detail = warnings
            .iter()
            .find(|w| !w.contains("run.json"))
            .cloned()
            .unwrap_or_else(|| "no <optimizer>/seed-<N>/ directories".into());
        return Err(PlotError::NoRecords {
            path: dir.to_path_buf(),
            detail,
        });
    }

    let env = plan
        .as_ref()
        .and_then(|p| p.env.clone())
        .or_else(|| {
            seeds
                .iter()
                .find_map(|s| s.summary.as_ref().and_then(|m| m.env.clone()))
        })
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into())
        });
    let steps = plan.as_ref().and_then(|p| p.steps).or_else(|| {
        seeds
            .iter()
            .find_map(|s| s.summary.as_ref().and_then(|m| m.steps))
    });
    Ok(RunRecords {
        dir: dir.to_path_buf(),
        env,
        steps,
        seeds,
        warnings,
    })
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PlotError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| PlotError::io(dir, e)))
        .collect::<Result<_, _>>()?;
    out.sort();
    Ok(out)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| PlotError::BadJson {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Read one `metrics.csv`. A last line without its newline is a row cut off mid-write (the
/// writer ends every row with one): it is dropped with a warning.
pub fn read_metrics(path: &Path) -> Result<(Vec<Row>, Vec<String>), PlotError> {
    let bytes = std::fs::read(path).map_err(|e| PlotError::io(path, e))?;
    let mut warnings = Vec::new();
    let mut complete: &[u8] = &bytes;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let line = bytes[..cut].iter().filter(|b| **b == b'\n').count() + 1;
        if cut > 0 {
            warnings.push(format!(
                "{}: line {line}: incomplete last row (cut off mid-write); skipped",
                path.display()
            ));
        }
        // Without any newline the file holds at most a header being written: nothing to read.
        complete = &bytes[..cut];
    }
    if complete.is_empty() {
        warnings.push(format!("{}: empty (no header yet)", path.display()));
        return Ok((Vec::new(), warnings));
    }

    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(complete);
    let header = reader
        .headers()
        .map_err(|e| malformed(path, 1, &e))?
        .clone();
    let mut index = Vec::with_capacity(header.len());
    for name in header.iter() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(i) => index.push(i),
            None => {
                return Err(PlotError::UnknownColumn {
                    path: path.to_path_buf(),
                    column: name.to_string(),
                });
            }
        }
    }
    for required in ["step", "event"] {
        if !header.iter().any(|h| h.trim() == required) {
            return Err(PlotError::MissingColumn {
                path: path.to_path_buf(),
                column: required.into(),
            });
        }
    }

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            malformed(path, line, &e)
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
            continue; // a blank line
        }
        if record.len() != header.len() {
            return Err(PlotError::MalformedRow {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            });
        }
        let bad = |message: String| PlotError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut step = None;
        let mut event = None;
        let mut values = [None; 16];
        for (cell, &column) in record.iter().zip(&index) {
            let cell = cell.trim();
            match column {
                0 => {
                    step = Some(
                        cell.parse::<u64>()
                            .map_err(|_| bad(format!("step `{cell}` is not a whole number")))?,
                    )
                }
                1 => {
                    event = Some(match cell {
                        "episode" => Event::Episode,
                        "eval" => Event::Eval,
                        "update" => Event::Update,
                        other => {
                            return Err(bad(format!(
                                "unknown event `{other}` (expected episode, eval or update)"
                            )));
                        }
                    })
                }
                i if cell.is_empty() => values[i] = None,
                i => {
                    values[i] = Some(
                        cell.parse::<f64>()
                            .map_err(|_| bad(format!("{} `{cell}` is not a number", COLUMNS[i])))?,
                    )
                }
            }
        }
        let (step, event) = (
            step.expect("required column"),
            event.expect("required column"),
        );
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
    Ok((rows, warnings))
}

fn malformed(path: &Path, line: u64, e: &csv::Error) -> PlotError {
    PlotError::MalformedRow {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}
