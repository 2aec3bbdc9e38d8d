//! # COCOB-Backprop (`cocob`)
//!
//! Coin betting per coordinate, with no learning rate at all: each coordinate bets a fraction
//! of its accumulated "reward" on the sign of the negative gradient sum,
//! `w = w_0 - G / (L·max(A + L, α·L)) · (R + L)`, where `G` is the gradient sum, `A` the sum of
//! absolute gradients, `L` the largest absolute gradient seen and `R` the reward.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `alpha` | 100 | bounds the fraction bet early on (α·L) |
//! | `eps` | 1e-8 | initial `L` |
//! | `weight_decay` | 0 | L2 penalty added to the gradient |
//!
//! There is no scalar learning rate: the estimate's `lr` is `None`, and the `lr` argument of
//! the step is ignored.
//!
//! Reference: F. Orabona, T. Tommasi, "Training Deep Networks without Learning Rates Through
//! Coin Betting", NeurIPS 2017; package `parameterfree` 0.0.1 (`COCOB`).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::Check;
use crate::error::Result;
use crate::method::{LrFreeConfig, builder};
use crate::state::OptimState;

const NAME: &str = "cocob";

/// Options of [`Cocob`]; defaults are `parameterfree.COCOB`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CocobConfig {
    /// Early-bet bound.
    pub alpha: f64,
    /// Initial largest absolute gradient.
    pub eps: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for CocobConfig {
    fn default() -> Self {
        Self {
            alpha: 100.0,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl LrFreeConfig for CocobConfig {
    type Optimizer = Cocob;
    const NAME: &'static str = NAME;

    /// Validate and build.
    fn build(&self) -> Result<Cocob> {
        Check::new(NAME)
            .positive("alpha", self.alpha)?
            .positive("eps", self.eps)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(Cocob {
            config: self.clone(),
            layout: None,
            state: None,
            steps: 0,
        })
    }
}

builder!(CocobConfig {
    with_alpha => alpha: f64,
    with_eps => eps: f64,
    with_weight_decay => weight_decay: f64,
});

/// Per-coordinate accumulators.
#[derive(Debug, Clone)]
struct Bets {
    grad_sum: Tensor<1>,
    abs_sum: Tensor<1>,
    max_abs: Tensor<1>,
    reward: Tensor<1>,
    offset: Tensor<1>,
}

/// COCOB-Backprop; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Cocob {
    config: CocobConfig,
    layout: Option<Layout>,
    state: Option<Bets>,
    steps: u64,
}

impl LrEstimate for Cocob {
    fn estimate(&self) -> Estimate {
        Estimate {
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for Cocob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let mut g = step.grads;
        if c.weight_decay > 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let b = self.state.take().unwrap_or_else(|| Bets {
            grad_sum: g.zeros_like(),
            abs_sum: g.zeros_like(),
            max_abs: g.full_like(c.eps),
            reward: g.zeros_like(),
            offset: g.zeros_like(),
        });
        let abs = g.clone().abs();
        let max_abs = b.max_abs.max_pair(abs.clone());
        let grad_sum = b.grad_sum + g.clone();
        let abs_sum = b.abs_sum + abs;
        let reward = (b.reward - g.mul(b.offset.clone())).clamp_min(0.0);
        let cap = (abs_sum.clone() + max_abs.clone()).max_pair(max_abs.clone().mul_scalar(c.alpha));
        let offset = grad_sum
            .clone()
            .neg()
            .div(max_abs.clone().mul(cap))
            .mul(reward.clone() + max_abs.clone());
        let x = step.params + (offset.clone() - b.offset);
        self.state = Some(Bets {
            grad_sum,
            abs_sum,
            max_abs,
            reward,
            offset,
        });
        self.steps += 1;
        Ok(x)
    }

    fn save_state(&self) -> OptimState {
        let b = self.state.as_ref();
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_tensor("grad_sum", b.map(|b| &b.grad_sum))
        .with_tensor("abs_sum", b.map(|b| &b.abs_sum))
        .with_tensor("max_abs", b.map(|b| &b.max_abs))
        .with_tensor("reward", b.map(|b| &b.reward))
        .with_tensor("offset", b.map(|b| &b.offset))
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let steps = state.scalar("steps")?;
        let get = |name| state.tensor(name, device);
        let bets = match (
            get("grad_sum")?,
            get("abs_sum")?,
            get("max_abs")?,
            get("reward")?,
            get("offset")?,
        ) {
            (Some(grad_sum), Some(abs_sum), Some(max_abs), Some(reward), Some(offset)) => {
                Some(Bets {
                    grad_sum,
                    abs_sum,
                    max_abs,
                    reward,
                    offset,
                })
            }
            _ => None,
        };
        self.layout = state.layout;
        self.state = bets;
        self.steps = steps as u64;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
