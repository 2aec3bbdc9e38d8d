//! The one error type of the crate: every failure is a value with a message a user can act on.

/// What can go wrong when building, stepping, saving or loading an optimizer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// The registry was asked for a name it does not know.
    #[error("unknown optimizer `{name}`; valid names are: {valid}")]
    UnknownOptimizer {
        /// The name that was asked for.
        name: String,
        /// Comma-separated list of the valid names.
        valid: String,
    },
    /// A configuration could not be parsed or has an out-of-range value.
    #[error("invalid configuration for `{optimizer}`: {message}")]
    InvalidConfig {
        /// Optimizer whose configuration is wrong.
        optimizer: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The `lr` of an `[optimizers.<name>]` table is not a positive finite number
    /// ([`OptimizerSpec::from_tables`](crate::registry::OptimizerSpec::from_tables)).
    #[error("[optimizers.{optimizer}] lr = {value} must be a positive number")]
    InvalidLr {
        /// Optimizer (registry name) whose table holds the `lr`.
        optimizer: String,
        /// The value as written in TOML.
        value: String,
    },
    /// `sps` and `ps-sps` need the mini-batch loss of the step.
    #[error(
        "`{optimizer}` needs the loss of this step: call `step_with_loss` (or pass `loss` to `step_flat`)"
    )]
    LossRequired {
        /// Optimizer that needs the loss.
        optimizer: &'static str,
    },
    /// The loss handed to a Polyak-type step is not a finite number.
    #[error(
        "`{optimizer}`: the loss {loss} is not finite; the step was skipped and the state is unchanged"
    )]
    NonFiniteLoss {
        /// Optimizer that got the loss.
        optimizer: &'static str,
        /// The loss value.
        loss: f64,
    },
    /// The gradient holds NaN or infinity. Parameters and state are left as they were.
    #[error(
        "`{optimizer}`: the gradient contains NaN or infinity; the step was skipped and the state is unchanged"
    )]
    NonFiniteGradient {
        /// Optimizer that saw the gradient.
        optimizer: &'static str,
    },
    /// The module handed to `step` has no float parameter with a gradient.
    #[error(
        "the module has no parameter with a gradient: was the loss computed from this module on an autodiff device, and `backward` called?"
    )]
    NoGradients,
    /// The parameters do not have the shapes the optimizer state was built for.
    #[error(
        "`{optimizer}`: parameter layout changed: the state was built for {expected}, this step has {found}; use a fresh optimizer (or `reset`) for a different model"
    )]
    LayoutMismatch {
        /// Optimizer whose state does not fit.
        optimizer: &'static str,
        /// Summary of the layout in the state.
        expected: String,
        /// Summary of the layout of this step.
        found: String,
    },
    /// The parameter and gradient vectors handed to `step_flat` differ in length.
    #[error("`{optimizer}`: {params} parameters but {grads} gradient entries")]
    LengthMismatch {
        /// Optimizer that was stepped.
        optimizer: &'static str,
        /// Number of parameter entries.
        params: usize,
        /// Number of gradient entries.
        grads: usize,
    },
    /// A saved state belongs to another optimizer (or another version of this one).
    #[error("cannot load a `{found}` state into a `{expected}` optimizer")]
    StateMismatch {
        /// The optimizer loading the state.
        expected: String,
        /// The optimizer that saved it.
        found: String,
    },
    /// A saved state is missing an entry or has one of the wrong kind.
    #[error("corrupt `{optimizer}` state: {message}")]
    CorruptState {
        /// The optimizer loading the state.
        optimizer: String,
        /// What is missing or wrong.
        message: String,
    },
    /// The burn-train adapter ([`crate::train`]) was asked for something it cannot do, such as a
    /// `ModuleOptimizer` mixing a whole-model method with other optimizers in parameter groups.
    #[error("burn-train adapter: {message}")]
    Unsupported {
        /// What was asked and what to do instead.
        message: String,
    },
    /// Reading or writing a state file failed.
    #[error("optimizer state file {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        message: String,
    },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = OptimError> = core::result::Result<T, E>;
