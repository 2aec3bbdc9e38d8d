//! One error type for reading records and drawing; every message is one line that names the
//! file and the problem, so a failed `rl-plot`/`rl-report` says what to fix.

use std::path::{Path, PathBuf};

/// Why plotting or reporting failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A bad command line (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A path given as a run directory is missing or not a directory.
    #[error("{}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A path given as a run directory does not exist.
    #[error("{}: no such directory", .0.display())]
    NoSuchDirectory(PathBuf),
    /// A seed directory without its `metrics.csv`.
    #[error("{}: missing (no metrics.csv for this seed)", .0.display())]
    MissingMetrics(PathBuf),
    /// `metrics.csv` has a header cell that is not a known column.
    #[error("{}: unknown column header `{column}` (expected the columns of docs/records.md)", .path.display())]
    UnknownColumn { path: PathBuf, column: String },
    /// `metrics.csv` lacks a column every row needs.
    #[error("{}: missing column `{column}` in the header", .path.display())]
    MissingColumn { path: PathBuf, column: String },
    /// A row that cannot be read.
    #[error("{}: line {line}: {message}", .path.display())]
    MalformedRow {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A JSON summary that cannot be read.
    #[error("{}: {message}", .path.display())]
    BadJson { path: PathBuf, message: String },
    /// A run directory with nothing to plot or report.
    #[error("{}: no usable seed records ({detail})", .path.display())]
    NoRecords { path: PathBuf, detail: String },
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Drawing a figure failed.
    #[error("{}: cannot draw: {message}", .path.display())]
    Draw { path: PathBuf, message: String },
}

impl PlotError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code: 2 for usage errors, 1 for I/O and record errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }
}
