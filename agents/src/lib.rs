//! # lrfree-agents: SAC and TD3 with learning-rate-free optimizers
//!
//! The agents rl-train trains, listed in [`registry`] (each one file implementing [`RlAgent`]):
//! [`Sac`] below, and [`Td3`] (Fujimoto et al. 2018; see [`td3`]).
//!
//! [`Sac`] is Soft Actor-Critic with automatic entropy tuning (Haarnoja et al. 2018, "Soft
//! Actor-Critic Algorithms and Applications"), laid out like CleanRL's
//! `sac_continuous_action.py`, whose three learned parts are each stepped by any optimizer of
//! [`burn_lrfree`] (chosen by name at run time).
//!
//! ## The algorithm
//! - **Actor** π: a ReLU MLP with a mean head and a log-std head. `log_std` is squashed into
//!   `[log_std_min, log_std_max]` by `min + (max − min)·(tanh(raw) + 1)/2`. An action is
//!   `a = tanh(u)·scale + bias`, `u = mean + std·ε`, ε ~ N(0, I), which maps into the
//!   environment's action box. Its log-probability carries the change of variables:
//!   `log π(a|s) = Σ [log N(u; mean, std) − log(scale·(1 − tanh(u)²) + 1e-6)]`.
//! - **Twin critics** Q₁, Q₂ on `obs ‖ action`, one module (one optimizer instance), trained on
//!   `MSE(Q₁, y) + MSE(Q₂, y)` with the soft target
//!   `y = r + γ·(1 − terminated)·(min(Q̄₁, Q̄₂)(s', a') − α·log π(a'|s'))`, `a' ~ π(·|s')`,
//!   computed off the autodiff graph from **target critics** Q̄ that follow the online ones by
//!   Polyak averaging `Q̄ ← τ·Q + (1 − τ)·Q̄` after every update. Only `terminated` stops the
//!   bootstrap: a time-limit truncation is not terminal, and the runner passes only
//!   `terminated` to [`Sac::observe`].
//! - **Actor loss** `mean(α·log π(ã|s) − min(Q₁, Q₂)(s, ã))`, ã reparameterised; the critics
//!   enter as constants, so the actor's gradient never moves them.
//! - **Temperature** α = exp(log α), one learned parameter with its own optimizer, loss
//!   `mean(−α·(log π + H̄))` with log π detached, target entropy H̄ = −|A| by default.
//!
//! One [`Sac::update`] = one mini-batch, one gradient step each of critics, actor and
//! temperature (in that order), then the target update.
//!
//! ## Reproducibility
//! Every random number (weight initialisation, replay sampling, policy noise, warm-up
//! actions) comes from the agent's own ChaCha8 stream seeded by `seed`; nothing uses Burn's
//! global RNG. So one seed gives one result, also with several agents in parallel threads,
//! and a checkpoint ([`Sac::save`], [`Sac::load`]) records the stream's position so that a
//! resumed run is bit-identical to an uninterrupted one.
//!
//! ## Example
//! ```
//! use burn::tensor::Device;
//! use burn_lrfree::registry::OptimizerConfig;
//! use lrfree_agents::{Sac, SacConfig, SacOptimizers};
//!
//! # fn main() -> Result<(), lrfree_agents::AgentError> {
//! let config = SacConfig { hidden: vec![16, 16], batch_size: 8, ..SacConfig::default() };
//! let optimizers = SacOptimizers::same(OptimizerConfig::defaults("ps-da-sgd")?, 1.0);
//! let mut sac = Sac::new(3, &[-2.0], &[2.0], &config, &optimizers, 42, &Device::default())?;
//! let obs = vec![0.1, -0.2, 0.3];
//! for _ in 0..16 {
//!     let action = sac.random_action();
//!     sac.observe(&obs, &action, -action[0].powi(2), &obs, false);
//! }
//! let stats = sac.update()?;
//! println!("critic loss {}, α {}, critic λ {:?}", stats.critic_loss, stats.temperature.unwrap().value, stats.critic.lr);
//! let action = sac.act(&obs, true);
//! assert!((-2.0..=2.0).contains(&action[0]));
//! # Ok(())
//! # }
//! ```
//!
//! ## Burn's RL interfaces
//! [`Sac`] is a `burn::rl::PolicyLearner` ([`learner`]: `train` is one update on a given
//! batch) and [`SacPolicy`] its `burn::rl::Policy` ([`policy`]); with the feature
//! `burn-train`, `burn_train` makes the record a burn-train checkpoint and the estimated
//! learning rates burn-train metrics, so burn-train's `RLTraining` trains SAC
//! (`docs/burn-rl.md`, `cargo run --release --example rltraining`).
//!
//! ## Modules
//! [`config`] (hyperparameters and optimizer choice), [`networks`] (actor, twin critic,
//! temperature), [`replay`] (the ring buffer), [`sac`] (the algorithm), [`checkpoint`] (the
//! saved format, [`AgentRecord`]), [`policy`] and [`learner`] (burn-rl's traits).

#![warn(missing_docs)]

pub mod agent;
#[cfg(feature = "burn-train")]
pub mod burn_train;
pub mod checkpoint;
pub mod config;
mod error;
pub mod learner;
pub mod networks;
pub mod policy;
pub mod registry;
pub mod replay;
pub mod sac;
pub mod td3;

pub use agent::{Network, RlAgent, TemperatureUpdate, UpdateStats};
pub use checkpoint::AgentRecord;
pub use config::{OptimizerSpec, SacConfig, SacOptimizers};
pub use error::AgentError;
pub use learner::UpdateReport;
pub use policy::{ActorState, SacPolicy, SquashedGaussians};
pub use registry::{AGENTS, AgentKind, AgentSpec, agent};
pub use replay::{Batch, ReplayBuffer};
pub use sac::Sac;
pub use td3::{Td3, Td3Config};
