//! The interface every environment implements, native or bridged.

use crate::{ActionPolicy, BoxSpace, EnvError};

/// The outcome of one [`Env::step`].
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Observation after the step, flattened to f32.
    pub obs: Vec<f32>,
    /// Reward as the environment computed it (f64: Gymnasium's rewards are Python floats).
    pub reward: f64,
    /// The episode reached a terminal state (do not bootstrap from `obs`).
    pub terminated: bool,
    /// The episode was cut short, e.g. by the time limit (bootstrap from `obs`).
    pub truncated: bool,
}

impl Step {
    /// Whether the episode is over (`terminated || truncated`): the next call must be `reset`.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// A continuous-control environment with Gymnasium's `reset`/`step` semantics.
///
/// Object-safe, so agents hold a `Box<dyn Env + Send>` from [`make_env`](crate::make_env).
/// Every implementation enforces the same protocol: `step` before the first `reset` or after
/// `terminated || truncated` is an [`EnvError::NeedsReset`]; actions go through
/// [`BoxSpace::check_action`] with the environment's [`ActionPolicy`].
pub trait Env {
    /// A Gymnasium-style id, e.g. `Pendulum` or `Hopper-v5`.
    fn name(&self) -> &str;

    fn observation_space(&self) -> &BoxSpace;

    fn action_space(&self) -> &BoxSpace;

    /// Steps after which an episode is truncated, if the environment has a time limit.
    fn max_episode_steps(&self) -> Option<usize>;

    /// Starts a new episode and returns its first observation.
    ///
    /// `Some(seed)` reseeds the environment's random generator, so the same seed gives the same
    /// initial state; `None` continues the current random stream (as in Gymnasium).
    fn reset(&mut self, seed: Option<u64>) -> Result<Vec<f32>, EnvError>;

    /// Applies one action.
    fn step(&mut self, action: &[f32]) -> Result<Step, EnvError>;

    /// Sets how out-of-bounds actions are handled (default [`ActionPolicy::Clip`]).
    fn set_action_policy(&mut self, policy: ActionPolicy);

    /// Releases resources; any later `reset`/`step` is an [`EnvError::Closed`]. Idempotent.
    fn close(&mut self) -> Result<(), EnvError>;
}
