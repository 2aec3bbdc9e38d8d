//! The one error type of the crate.

use burn_lrfree::OptimError;

/// What can go wrong when building, updating, saving or loading an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// An optimizer could not be built or restored.
    #[error("optimizer: {0}")]
    Optim(#[from] OptimError),
    /// An optimizer refused a step (for example a non-finite gradient: the run has diverged).
    /// The refused network is left as it was.
    #[error("{network} optimizer refused a step: {error}")]
    Refused {
        /// `critic`, `actor` or `temperature`.
        network: &'static str,
        /// Why.
        error: OptimError,
    },
    /// Reading or writing a checkpoint failed; the message names the file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A checkpoint exists but does not fit (corrupt, another version, other sizes).
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory or file.
        path: String,
        /// What does not fit.
        message: String,
    },
    /// An argument is out of range or has the wrong length.
    #[error("bad input: {0}")]
    BadInput(String),
}

impl AgentError {
    /// An I/O error with the path it happened on.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        AgentError::Io(std::io::Error::new(
            source.kind(),
            format!("{}: {source}", path.display()),
        ))
    }

    /// A checkpoint error of a file inside a record loaded from `dir`, named by its place in
    /// `dir`; other errors unchanged.
    pub(crate) fn in_dir(self, dir: &std::path::Path) -> Self {
        match self {
            AgentError::Checkpoint { path, message } => AgentError::Checkpoint {
                path: dir.join(path).display().to_string(),
                message,
            },
            other => other,
        }
    }

    pub(crate) fn checkpoint(path: &std::path::Path, message: impl Into<String>) -> Self {
        AgentError::Checkpoint {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}
