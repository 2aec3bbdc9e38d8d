//! The one error type of this crate: every failure is a value with a message a user can act on.

use thiserror::Error;

/// Why creating, resetting or stepping an environment failed.
#[derive(Debug, Error)]
pub enum EnvError {
    /// The name is neither a native environment nor something the bridge could create.
    #[error("unknown environment `{name}`: {hint}")]
    UnknownEnv { name: String, hint: String },

    /// A Gymnasium id was requested but this build has no bridge.
    #[error(
        "`{id}` needs the Gymnasium bridge, which this build of lrfree-envs leaves out; \
         rebuild with the `gym` cargo feature (on by default) and a Python 3 that has its shared library"
    )]
    BridgeDisabled { id: String },

    /// The embedded Python interpreter could not be started.
    #[error(
        "could not start the embedded Python ({python}): {detail}. \
         Point LRFREE_PYTHON at a python3 executable (its version must match the one lrfree-envs was built with) \
         or unset PYTHONHOME"
    )]
    PythonUnavailable { python: String, detail: String },

    /// Python runs but `import gymnasium` fails.
    #[error(
        "gymnasium is not importable in the embedded Python ({python}): {detail}. Install it with: {install}"
    )]
    GymnasiumMissing {
        python: String,
        detail: String,
        install: String,
    },

    /// The environment needs MuJoCo (or another optional dependency) that is not installed.
    #[error(
        "`{id}` needs a dependency that is not installed: {detail}. Install it with: {install}"
    )]
    DependencyMissing {
        id: String,
        detail: String,
        install: String,
    },

    /// Gymnasium does not know this id.
    #[error("Gymnasium has no environment `{id}`: {message}")]
    UnknownGymId { id: String, message: String },

    /// A keyword argument was rejected (unknown name, wrong type, bad value).
    #[error("`{env}`: bad keyword argument `{key}`: {reason}")]
    InvalidKwarg {
        env: String,
        key: String,
        reason: String,
    },

    /// The environment's spaces cannot be represented as flat f32 boxes.
    #[error("`{env}`: unsupported {what} space {space}: only Box spaces are supported")]
    UnsupportedSpace {
        env: String,
        what: &'static str,
        space: String,
    },

    /// The action has the wrong number of elements.
    #[error("`{env}`: action has {got} elements, the action space has {expected}")]
    ActionLength {
        env: String,
        expected: usize,
        got: usize,
    },

    /// An action element is NaN or infinite (never clipped: it would hide a bug upstream).
    #[error("`{env}`: action[{index}] = {value} is not finite")]
    NonFiniteAction {
        env: String,
        index: usize,
        value: f32,
    },

    /// An action element lies outside the bounds and the policy is [`ActionPolicy::Reject`](crate::ActionPolicy::Reject).
    #[error("`{env}`: action[{index}] = {value} is outside the action space [{low}, {high}]")]
    ActionOutOfBounds {
        env: String,
        index: usize,
        value: f32,
        low: f32,
        high: f32,
    },

    /// `step` was called before the first `reset` or after the episode ended.
    #[error("`{env}`: step() called {when}; call reset() first")]
    NeedsReset { env: String, when: &'static str },

    /// The environment was closed.
    #[error("`{env}`: the environment is closed")]
    Closed { env: String },

    /// Python raised an exception inside Gymnasium or the environment.
    #[error("`{env}`: Python raised {kind} during {during}: {message}")]
    Python {
        env: String,
        /// The call that raised (`make`, `reset`, `step`, ...).
        during: &'static str,
        /// The exception type, e.g. `ValueError`.
        kind: String,
        message: String,
        /// The formatted Python traceback, for debugging.
        traceback: String,
    },

    /// Python returned something of an unexpected type or shape.
    #[error("`{env}`: {during} returned {detail}")]
    BadReturn {
        env: String,
        during: &'static str,
        detail: String,
    },
}
