//! Run records: each format's one set of types, with its writer and its reader.
//!
//! - [`rl`]: `rl-train`'s records (`docs/records.md`): `metrics.csv`, the seed's
//!   `summary.json` and `timing.json`, the run's `summary.json` and `run.json`.
//! - [`sl`]: `sl-train`'s records (`docs/sl.md`): `epochs.csv`, the seed's `summary.json`, the
//!   run's `summary.json` and `run.json`.
//!
//! What both share is here: the layout (`RUN_DIR/<optimizer>/seed-<N>/`), CSV cells, and how a
//! CSV that is being written is read. Rows are appended and flushed as training goes, so a run
//! in progress or killed has a last line cut off mid-write; the readers drop it with a
//! warning, because a figure of a running experiment is still useful. Records that are wrong
//! rather than unfinished (an unknown column, a malformed row) are errors naming the file and
//! line: dropping them would change the numbers of a report.

pub mod rl;
pub mod sl;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{RecordError, RunError};

/// Appends rows to a record CSV, flushing each, so a killed run keeps every row written.
pub(crate) struct Appender {
    path: PathBuf,
    file: File,
}

impl Appender {
    /// A new file with the header `columns`.
    pub fn create(path: &Path, columns: &[&str]) -> Result<Self, RunError> {
        let mut file = File::create(path).map_err(|e| RunError::io(path, e))?;
        writeln!(file, "{}", columns.join(",")).map_err(|e| RunError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Reopen an existing file, cut back to `len` bytes.
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

    /// Bytes written so far.
    pub fn len(&self) -> Result<u64, RunError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| RunError::io(&self.path, e))
    }

    /// Append one row and flush it.
    pub fn row(&mut self, cells: &[String]) -> Result<(), RunError> {
        writeln!(self.file, "{}", cells.join(","))
            .and_then(|_| self.file.flush())
            .map_err(|e| RunError::io(&self.path, e))
    }
}

/// The directory of one seed's records.
pub fn seed_dir(run_dir: &Path, optimizer: &str, seed: u64) -> PathBuf {
    run_dir.join(optimizer).join(format!("seed-{seed}"))
}

/// A seed directory found in a run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedDir {
    /// Optimizer registry name (the directory's name).
    pub optimizer: String,
    /// The seed (from `seed-<N>`).
    pub seed: u64,
    /// The directory.
    pub dir: PathBuf,
}

/// The seed directories of `run_dir`, by optimizer name then seed, and a warning for each
/// directory that holds none (`plots/`, the figures, is not an optimizer's).
pub fn seed_dirs(run_dir: &Path) -> Result<(Vec<SeedDir>, Vec<String>), RecordError> {
    if !run_dir.exists() {
        return Err(RecordError::NoSuchDirectory(run_dir.to_path_buf()));
    }
    if !run_dir.is_dir() {
        return Err(RecordError::NotADirectory(run_dir.to_path_buf()));
    }
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for entry in sorted_entries(run_dir)? {
        let Some(optimizer) = entry.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !entry.is_dir() || optimizer == "plots" {
            continue;
        }
        let before = found.len();
        for sub in sorted_entries(&entry)? {
            let seed = sub
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("seed-"))
                .and_then(|n| n.parse::<u64>().ok());
            if let (Some(seed), true) = (seed, sub.is_dir()) {
                found.push(SeedDir {
                    optimizer: optimizer.to_string(),
                    seed,
                    dir: sub,
                });
            }
        }
        if found.len() == before {
            warnings.push(format!(
                "{}: no seed-<N> directories; skipped",
                entry.display()
            ));
        }
    }
    found.sort_by(|a, b| (&a.optimizer, a.seed).cmp(&(&b.optimizer, b.seed)));
    Ok((found, warnings))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| RecordError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| RecordError::io(dir, e)))
        .collect::<Result<_, _>>()?;
    out.sort();
    Ok(out)
}

/// A CSV cell: the number in Rust's shortest round-trip form, `NaN` spelled out.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        v.to_string()
    }
}

/// A CSV cell that may be empty.
pub fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// Mean and population standard deviation; `None` for no values. The runs' summaries and the
/// reports aggregate seeds with this one formula, so their numbers agree to the bit.
pub fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
    (Some(m), Some(std))
}

/// Fold a learning-rate estimate into the largest so far; non-finite and absent ones are
/// left out (they are divergence, recorded elsewhere).
pub fn fold_max(max: &mut Option<f64>, lr: Option<f64>) {
    if let Some(lr) = lr.filter(|v| v.is_finite()) {
        *max = Some(max.map_or(lr, |m: f64| m.max(lr)));
    }
}

/// The complete rows of a record CSV, each with its line number and one trimmed cell per
/// entry of the format's columns (`""` where the file has no such column).
pub(crate) struct CsvRows {
    pub rows: Vec<(u64, Vec<String>)>,
    pub warnings: Vec<String>,
}

/// Read a record CSV whose header names columns of `columns` (in any order), `required` among
/// them; `doc` names the format's description in errors. A last line without its newline is a
/// row cut off mid-write (the writers end every row with one): dropped with a warning. An
/// empty file is a warning too (its header is not written yet).
pub(crate) fn read_csv(
    path: &Path,
    columns: &[&str],
    renamed: &[(&str, &str)],
    required: &[&str],
    doc: &'static str,
) -> Result<CsvRows, RecordError> {
    let bytes = std::fs::read(path).map_err(|e| RecordError::io(path, e))?;
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
        return Ok(CsvRows {
            rows: Vec::new(),
            warnings,
        });
    }
    let malformed = |line: u64, message: String| RecordError::MalformedRow {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(complete);
    let header = reader
        .headers()
        .map_err(|e| malformed(1, e.to_string()))?
        .clone();
    // For each file column, its index in `columns`.
    let mut index = Vec::with_capacity(header.len());
    for name in header.iter().map(str::trim) {
        // A column's earlier name (`renamed`: old → new) reads as the new one.
        let name = renamed
            .iter()
            .find(|(old, _)| *old == name)
            .map_or(name, |(_, new)| *new);
        match columns.iter().position(|c| *c == name) {
            Some(i) => index.push(i),
            None => {
                return Err(RecordError::UnknownColumn {
                    path: path.to_path_buf(),
                    column: name.to_string(),
                    doc,
                });
            }
        }
    }
    for column in required {
        if !header.iter().any(|h| h.trim() == *column) {
            return Err(RecordError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            malformed(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
            continue; // a blank line
        }
        if record.len() != header.len() {
            return Err(malformed(
                line,
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        let mut cells = vec![String::new(); columns.len()];
        for (cell, &i) in record.iter().zip(&index) {
            cells[i] = cell.trim().to_string();
        }
        rows.push((line, cells));
    }
    Ok(CsvRows { rows, warnings })
}

/// A cell as a number: `None` when empty.
pub(crate) fn parse_opt(
    path: &Path,
    line: u64,
    column: &str,
    cell: &str,
) -> Result<Option<f64>, RecordError> {
    if cell.is_empty() {
        return Ok(None);
    }
    cell.parse::<f64>()
        .map(Some)
        .map_err(|_| RecordError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message: format!("{column} `{cell}` is not a number"),
        })
}

/// A cell that must hold a whole number.
pub(crate) fn parse_count(
    path: &Path,
    line: u64,
    column: &str,
    cell: &str,
) -> Result<u64, RecordError> {
    cell.parse::<u64>().map_err(|_| RecordError::MalformedRow {
        path: path.to_path_buf(),
        line,
        message: format!("{column} `{cell}` is not a whole number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [&str; 3] = ["step", "event", "value"];

    fn read(text: &str) -> Result<CsvRows, RecordError> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("rows.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path, &COLUMNS, &[], &["step"], "docs/x.md")
    }

    #[test]
    fn a_torn_last_line_is_dropped_with_a_warning() {
        let r = read("step,event,value\n1,a,0.5\n2,b,0.2").unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0], (2, vec!["1".into(), "a".into(), "0.5".into()]));
        assert!(
            r.warnings[0].contains("line 3: incomplete last row"),
            "{:?}",
            r.warnings
        );
        // A header still being written: nothing yet.
        let r = read("step,ev").unwrap();
        assert!(
            r.rows.is_empty() && r.warnings[0].contains("empty"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn columns_may_come_in_any_order_or_be_absent_but_not_unknown() {
        let r = read("value,step\n0.5,3\n").unwrap();
        assert_eq!(r.rows[0].1, ["3", "", "0.5"]);
        let e = read("step,colour\n1,red\n").err().unwrap().to_string();
        assert!(
            e.contains("unknown column header `colour`") && e.contains("docs/x.md"),
            "{e}"
        );
        let e = read("event\na\n").err().unwrap().to_string();
        assert!(e.contains("missing column `step`"), "{e}");
        let e = read("step,event\n1,a,2\n").err().unwrap().to_string();
        assert!(e.contains("line 2: 3 fields where the header has 2"), "{e}");
    }

    #[test]
    fn cells_and_aggregates() {
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(-0.25), "-0.25");
        assert_eq!(opt(None), "");
        assert_eq!(mean_std(&[]), (None, None));
        assert_eq!(mean_std(&[-300.0, -1200.0]), (Some(-750.0), Some(450.0)));
        let mut max = None;
        for lr in [Some(0.1), None, Some(f64::INFINITY), Some(0.3), Some(0.2)] {
            fold_max(&mut max, lr);
        }
        assert_eq!(max, Some(0.3));
    }

    #[test]
    fn seed_directories_are_listed_by_optimizer_then_seed() {
        let tmp = tempfile::tempdir().unwrap();
        for d in [
            "prodigy/seed-10",
            "prodigy/seed-2",
            "adam/seed-0",
            "plots",
            "empty",
        ] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        std::fs::write(tmp.path().join("adam/seed-1"), "a file, not a seed").unwrap();
        let (seeds, warnings) = seed_dirs(tmp.path()).unwrap();
        let found: Vec<(&str, u64)> = seeds
            .iter()
            .map(|s| (s.optimizer.as_str(), s.seed))
            .collect();
        assert_eq!(found, [("adam", 0), ("prodigy", 2), ("prodigy", 10)]);
        assert_eq!(seeds[0].dir, seed_dir(tmp.path(), "adam", 0));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("empty: no seed-<N>"), "{warnings:?}");
        assert!(matches!(
            seed_dirs(&tmp.path().join("nope")),
            Err(RecordError::NoSuchDirectory(_))
        ));
    }
}
