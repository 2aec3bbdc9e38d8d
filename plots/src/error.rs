//! One error type for reading records and drawing; every message is one line that names the
//! file and the problem, so a failed `rl-plot`/`rl-report`/`sl-train --report` says what to fix.

use std::path::{Path, PathBuf};

pub use lrfree_runkit::RecordError;

/// Why plotting or reporting failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A bad command line (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A record file or run directory that cannot be read (`lrfree_runkit::records`).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A run directory with nothing to plot or report.
    #[error("{}: no usable seed records ({detail})", .path.display())]
    NoRecords { path: PathBuf, detail: String },
    /// Writing a figure or report failed.
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
