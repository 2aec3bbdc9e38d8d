//! What can stop `rl-train`: the user's input, or the file system. A diverging seed is not an
//! error (it is a result).

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
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
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
