//! SAC hyperparameters and the choice of optimizers: every value named once, with its default.

use burn_lrfree::registry::OptimizerConfig;
pub use burn_lrfree::registry::OptimizerSpec;
use serde::{Deserialize, Serialize};

use crate::error::AgentError;

/// Soft Actor-Critic hyperparameters. The defaults are those of Haarnoja et al. (2018) and
/// CleanRL's `sac_continuous_action.py`.
///
/// Unknown keys are an error when deserialising, so a typo in a run file is caught; missing
/// keys take the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Discount factor γ of the soft Bellman target. Default 0.99.
    pub gamma: f64,
    /// Polyak rate τ of the target critics, applied after every update:
    /// `target ← τ·online + (1−τ)·target`. Default 0.005.
    pub tau: f64,
    /// Transitions per mini-batch (one batch per update, shared by critic, actor and
    /// temperature). Default 256.
    pub batch_size: usize,
    /// Replay buffer capacity in transitions; the oldest are overwritten. Default 1 000 000.
    pub buffer_size: usize,
    /// Hidden layer widths of the actor and of each critic (ReLU between layers).
    /// Default `[256, 256]`.
    pub hidden: Vec<usize>,
    /// Target entropy of the temperature loss; `None` means −|A| (minus the action dimension),
    /// the heuristic of Haarnoja et al. Default `None`.
    pub target_entropy: Option<f64>,
    /// Initial temperature α; the learned parameter is `log α`, starting at `ln init_alpha`.
    /// Default 1.0.
    pub init_alpha: f64,
    /// Lower bound of the policy's log standard deviation (CleanRL's tanh rescaling:
    /// `log_std = min + (max − min)·(tanh(raw) + 1)/2`). Default −5.
    pub log_std_min: f64,
    /// Upper bound of the policy's log standard deviation. Default 2.
    pub log_std_max: f64,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            tau: 0.005,
            batch_size: 256,
            buffer_size: 1_000_000,
            hidden: vec![256, 256],
            target_entropy: None,
            init_alpha: 1.0,
            log_std_min: -5.0,
            log_std_max: 2.0,
        }
    }
}

impl SacConfig {
    /// Check ranges, so a bad value is reported before any training.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |what: &str| Err(AgentError::BadInput(what.to_string()));
        if !(self.gamma.is_finite() && (0.0..=1.0).contains(&self.gamma)) {
            return bad(&format!("gamma must be in [0, 1], got {}", self.gamma));
        }
        if !(self.tau.is_finite() && (0.0..=1.0).contains(&self.tau)) {
            return bad(&format!("tau must be in [0, 1], got {}", self.tau));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if self.buffer_size == 0 {
            return bad("buffer_size must be at least 1");
        }
        if self.hidden.contains(&0) {
            return bad(&format!(
                "hidden layer widths must be positive, got {:?}",
                self.hidden
            ));
        }
        if !(self.init_alpha.is_finite() && self.init_alpha > 0.0) {
            return bad(&format!(
                "init_alpha must be positive, got {}",
                self.init_alpha
            ));
        }
        if !(self.log_std_min.is_finite()
            && self.log_std_max.is_finite()
            && self.log_std_min < self.log_std_max)
        {
            return bad(&format!(
                "need finite log_std_min < log_std_max, got {} and {}",
                self.log_std_min, self.log_std_max
            ));
        }
        if let Some(h) = self.target_entropy
            && !h.is_finite()
        {
            return bad(&format!("target_entropy must be finite, got {h}"));
        }
        Ok(())
    }

    /// The target entropy for an action space of `act_dim` dimensions.
    pub fn target_entropy_for(&self, act_dim: usize) -> f64 {
        self.target_entropy.unwrap_or(-(act_dim as f64))
    }
}

/// The optimizers of the three learned parts. Each part gets its own instance (its own state
/// and its own learning-rate estimate), even when all three are of the same kind.
#[derive(Debug, Clone, PartialEq)]
pub struct SacOptimizers {
    /// For the policy network.
    pub actor: OptimizerSpec,
    /// For both Q networks together (one module, one optimizer instance).
    pub critic: OptimizerSpec,
    /// For the temperature `log α`.
    pub temperature: OptimizerSpec,
}

impl SacOptimizers {
    /// One kind of optimizer, with the same options and `lr`, for all three parts.
    pub fn same(config: OptimizerConfig, lr: f64) -> Self {
        let spec = OptimizerSpec { config, lr };
        Self {
            actor: spec.clone(),
            critic: spec.clone(),
            temperature: spec,
        }
    }
}
