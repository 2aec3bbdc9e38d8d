//! The two ways things fail: a run cannot go on ([`RunError`], the runners' exit status), or a
//! record cannot be read ([`RecordError`], naming the file and line). A diverging seed is
//! neither: it is a result.

use std::path::{Path, PathBuf};

/// Errors that end a run, each printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad arguments or configuration (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing records failed (exit status 1).
    #[error("{0}")]
    Io(String),
}

impl RunError {
    /// An I/O error with the path it concerns.
    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        RunError::Io(format!("{}: {e}", path.display()))
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Usage(_) => 2,
            RunError::Io(_) => 1,
        }
    }
}

/// A record a runner reads back (a seed's summary on resume) is an I/O failure of the run.
impl From<RecordError> for RunError {
    fn from(e: RecordError) -> Self {
        RunError::Io(e.to_string())
    }
}

/// Why a record file or run directory cannot be read; one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A path given as a run directory is not a directory.
    #[error("{}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A path given as a run directory does not exist.
    #[error("{}: no such directory", .0.display())]
    NoSuchDirectory(PathBuf),
    /// A CSV header cell that is not a column of the format.
    #[error("{}: unknown column header `{column}` (expected the columns of {doc})", .path.display())]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The header cell.
        column: String,
        /// Where the format is described.
        doc: &'static str,
    },
    /// A CSV header without a column every row needs.
    #[error("{}: missing column `{column}` in the header", .path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// A row that cannot be read.
    #[error("{}: line {line}: {message}", .path.display())]
    MalformedRow {
        /// The file.
        path: PathBuf,
        /// Its line (1 is the header).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A JSON record that cannot be read.
    #[error("{}: {message}", .path.display())]
    BadJson {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// Reading a file or directory failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl RecordError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
