//! What rl-train needs of an agent, beyond burn-rl's traits: [`RlAgent`], and the numbers of
//! an update in a form every agent shares ([`UpdateStats`]).
//!
//! burn-rl's `Policy` acts and its `PolicyLearner` trains on a batch it is handed; it has no
//! word for the replay buffer, the warm-up, the per-network estimated learning rates or a
//! resumable checkpoint, which rl-train's records and resume need. An [`RlAgent`] keeps its
//! buffer and its one random stream (so one seed gives one result, byte for byte, across
//! resumes) and is expected to act through its `Policy` and to update through its
//! `PolicyLearner::train` on a batch drawn from that buffer, as [`Sac`](crate::Sac) does.

use std::path::Path;

use burn_lrfree::Estimate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::AgentError;

/// A part of an agent with its own optimizer, in the records' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The Q networks (twin critics).
    Critic,
    /// The policy.
    Actor,
    /// The entropy temperature α (SAC).
    Temperature,
}

impl Network {
    /// All three, in the records' order.
    pub const ALL: [Network; 3] = [Network::Critic, Network::Actor, Network::Temperature];

    /// `critic`, `actor`, `temperature`.
    pub fn name(self) -> &'static str {
        match self {
            Network::Critic => "critic",
            Network::Actor => "actor",
            Network::Temperature => "temperature",
        }
    }
}

/// The temperature's part of an update (agents with an entropy temperature).
#[derive(Debug, Clone, PartialEq)]
pub struct TemperatureUpdate {
    /// Its loss on the batch, before the step (SAC: `mean(−α·(log π + H̄))`).
    pub loss: f64,
    /// The temperature α after the step.
    pub value: f64,
    /// Its optimizer's estimate after the step.
    pub estimate: Estimate,
}

/// What one update did: the losses and what each optimizer estimated (its learning rate, D,
/// step count).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStats {
    /// The critics' loss on the batch, before the step.
    pub critic_loss: f64,
    /// The actor's loss on the batch, before its step (an agent with delayed actor updates
    /// reports its last one).
    pub actor_loss: f64,
    /// The critic optimizer's estimate after its step.
    pub critic: Estimate,
    /// The actor optimizer's estimate after its last step.
    pub actor: Estimate,
    /// The temperature's update, for agents that learn one.
    pub temperature: Option<TemperatureUpdate>,
}

impl UpdateStats {
    /// The estimate of `network`'s optimizer, if the agent has that network.
    pub fn estimate(&self, network: Network) -> Option<&Estimate> {
        match network {
            Network::Critic => Some(&self.critic),
            Network::Actor => Some(&self.actor),
            Network::Temperature => self.temperature.as_ref().map(|t| &t.estimate),
        }
    }
}

/// An off-policy agent as rl-train's loop drives it (object safe: the runner holds a
/// `Box<dyn RlAgent>`).
pub trait RlAgent: Send {
    /// An action for `obs` inside the action box: a sample of the policy, or with
    /// `deterministic` the policy's evaluation action (drawing no random numbers).
    fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32>;
    /// A uniformly random action in the box, from the agent's stream (warm-up).
    fn random_action(&mut self) -> Vec<f32>;
    /// Store one transition; `terminated` stops the bootstrap, a time-limit truncation does not.
    fn observe(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    );
    /// Transitions in the replay buffer.
    fn buffer_len(&self) -> usize;
    /// The mini-batch size of an update.
    fn batch_size(&self) -> usize;
    /// One update on a mini-batch from the buffer. A refused optimizer step is
    /// [`AgentError::Refused`].
    fn update(&mut self) -> Result<UpdateStats, AgentError>;
    /// The networks this agent optimizes, each with its own optimizer.
    fn networks(&self) -> &'static [Network];
    /// Have the optimizers measure their diagnostics (or stop).
    fn set_diagnostics(&mut self, on: bool);
    /// Write the whole agent to `dir`, with `include_buffer` its replay buffer too.
    fn save(&self, dir: &Path, include_buffer: bool) -> Result<(), AgentError>;
}

/// A uniformly random action in the box `[low, high]`, one draw from `rng` per dimension in
/// order: every agent's warm-up action ([`RlAgent::random_action`]).
pub(crate) fn uniform_action(rng: &mut ChaCha8Rng, low: &[f32], high: &[f32]) -> Vec<f32> {
    low.iter()
        .zip(high)
        .map(|(&lo, &hi)| (lo + (hi - lo) * rng.random::<f32>()).clamp(lo, hi))
        .collect()
}
