//! What reading an `rl-train` run directory and an `sl-train` one share: the seeds, each with
//! the rows of its CSV and, once it ended, its `summary.json`, read with the formats' own
//! types (`lrfree_runkit::records`), under the same rules.
//!
//! Records may be partial: a run still in progress or killed has seeds without a summary
//! (drawn, left out of the report), seed directories without their CSV yet (skipped), and a
//! last CSV line cut off mid-write (dropped). Those are warnings, because a figure of a running
//! experiment is still useful. Records that are wrong rather than unfinished are errors naming
//! the file and line.

use std::path::{Path, PathBuf};

use lrfree_runkit::RecordError;
use lrfree_runkit::files::read_json;
use lrfree_runkit::records::seed_dirs;
use serde::de::DeserializeOwned;

use crate::error::PlotError;
use crate::palette::order_key;

/// One seed's records: rows of type `R`, summary of type `S`.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed<R, S> {
    /// Optimizer registry name (the directory name).
    pub optimizer: String,
    /// The seed (from `seed-<N>`).
    pub seed: u64,
    /// The seed directory.
    pub dir: PathBuf,
    /// The CSV's rows, in file order.
    pub rows: Vec<R>,
    /// `summary.json`, absent while the seed runs (or when it was killed).
    pub summary: Option<S>,
}

/// The optimizers of `seeds`, in the paper's order (unknown names last, alphabetically).
pub fn optimizers<R, S>(seeds: &[Seed<R, S>]) -> Vec<String> {
    let mut names: Vec<String> = seeds.iter().map(|s| s.optimizer.clone()).collect();
    names.sort_by_key(|n| order_key(n));
    names.dedup();
    names
}

/// What was read, and one warning per partial or skipped file.
pub(crate) type WithWarnings<T> = (Vec<T>, Vec<String>);

/// The seeds of run directory `dir`, optimizers in the paper's order then seeds, and the
/// warnings: per seed the rows of `rows_file` (by `read_rows`) and `summary.json`. `planned`
/// (`run.json`'s optimizers and seeds) names the seeds not started yet.
pub(crate) fn read_seeds<R, S: DeserializeOwned>(
    dir: &Path,
    rows_file: &str,
    read_rows: impl Fn(&Path) -> Result<WithWarnings<R>, RecordError>,
    planned: Option<(&[String], &[u64])>,
) -> Result<WithWarnings<Seed<R, S>>, PlotError> {
    let (found, mut warnings) = seed_dirs(dir)?;
    for (opt, seed) in planned.into_iter().flat_map(|(opts, seeds)| {
        opts.iter()
            .flat_map(move |o| seeds.iter().map(move |s| (o, *s)))
    }) {
        if !found.iter().any(|s| &s.optimizer == opt && s.seed == seed) {
            warnings.push(format!(
                "{}: {opt} seed {seed} not started (no {opt}/seed-{seed}); skipped",
                dir.display()
            ));
        }
    }
    let mut seeds = Vec::new();
    for s in found {
        let rows_path = s.dir.join(rows_file);
        if !rows_path.is_file() {
            warnings.push(format!(
                "{}: missing (no {rows_file} for this seed); seed skipped",
                rows_path.display()
            ));
            continue;
        }
        let (rows, mut w) = read_rows(&rows_path)?;
        warnings.append(&mut w);
        if rows.is_empty() {
            warnings.push(format!("{}: no rows yet", rows_path.display()));
        }
        let summary_path = s.dir.join("summary.json");
        let summary = if summary_path.is_file() {
            Some(read_json(&summary_path)?)
        } else {
            warnings.push(format!(
                "{}: missing (seed still running or killed); drawn up to its last row, left out of the report",
                summary_path.display()
            ));
            None
        };
        seeds.push(Seed {
            optimizer: s.optimizer,
            seed: s.seed,
            dir: s.dir,
            rows,
            summary,
        });
    }
    if seeds.is_empty() {
        let detail = warnings
            .iter()
            .find(|w| !w.contains("run.json"))
            .cloned()
            .unwrap_or_else(|| format!("no <optimizer>/seed-<N>/{rows_file}"));
        return Err(PlotError::NoRecords {
            path: dir.to_path_buf(),
            detail,
        });
    }
    seeds.sort_by_key(|s| (order_key(&s.optimizer), s.seed));
    Ok((seeds, warnings))
}

/// `run.json` of `dir`, or `None` with a warning (`missing` says what is then unknown).
pub(crate) fn read_plan<P: DeserializeOwned>(
    dir: &Path,
    missing: &str,
) -> Result<(Option<P>, Vec<String>), PlotError> {
    let path = dir.join("run.json");
    if path.is_file() {
        Ok((Some(read_json(&path)?), Vec::new()))
    } else {
        Ok((
            None,
            vec![format!("{}: missing; {missing}", path.display())],
        ))
    }
}
