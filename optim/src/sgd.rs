//! # SGD with momentum (`sgd`)
//!
//! Stochastic gradient descent with heavy-ball or Nesterov momentum, dampening and L2 weight
//! decay, with exactly the semantics of `torch.optim.SGD` (the first momentum buffer is the
//! gradient itself, not `(1 - dampening) * g`).
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `momentum` | 0 | momentum factor μ |
//! | `dampening` | 0 | the new gradient enters the buffer with weight `1 - dampening` |
//! | `nesterov` | false | use `g + μ·buf` instead of `buf` |
//! | `weight_decay` | 0 | L2 penalty added to the gradient |
//!
//! The learning rate is the `lr` argument of the step; it is also the reported estimate.
//!
//! Reference: `torch.optim.SGD` (PyTorch 2.x).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::Check;
use crate::error::Result;
use crate::method::{LrFreeConfig, builder};
use crate::state::OptimState;

const NAME: &str = "sgd";

/// Options of [`Sgd`]; defaults are `torch.optim.SGD`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Momentum factor (0 = plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient entering the momentum buffer.
    pub dampening: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl LrFreeConfig for SgdConfig {
    type Optimizer = Sgd;
    const NAME: &'static str = NAME;
    const PER_TENSOR: bool = true;
    const DEFAULT_LR: f64 = 3e-4;

    /// Validate and build.
    fn build(&self) -> Result<Sgd> {
        Check::new(NAME)
            .unit("momentum", self.momentum)?
            .number("dampening", self.dampening)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(Sgd {
            config: self.clone(),
            layout: None,
            buf: None,
            steps: 0,
            last_lr: None,
        })
    }
}

builder!(SgdConfig {
    with_momentum => momentum: f64,
    with_dampening => dampening: f64,
    with_nesterov => nesterov: bool,
    with_weight_decay => weight_decay: f64,
});

/// SGD with momentum; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
    layout: Option<Layout>,
    buf: Option<Tensor<1>>,
    steps: u64,
    last_lr: Option<f64>,
}

impl LrEstimate for Sgd {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self.last_lr,
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for Sgd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let mut g = step.grads;
        if c.weight_decay != 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        if c.momentum != 0.0 {
            let buf = match self.buf.take() {
                None => g.clone(),
                Some(b) => b.mul_scalar(c.momentum) + g.clone().mul_scalar(1.0 - c.dampening),
            };
            g = if c.nesterov {
                g + buf.clone().mul_scalar(c.momentum)
            } else {
                buf.clone()
            };
            self.buf = Some(buf);
        }
        self.steps += 1;
        self.last_lr = Some(step.lr);
        Ok(step.params - g.mul_scalar(step.lr))
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_scalar("last_lr", self.last_lr.unwrap_or(f64::NAN))
        .with_tensor("buf", self.buf.as_ref())
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let buf = state.tensor("buf", device)?;
        let (steps, last_lr) = (state.scalar("steps")?, state.scalar("last_lr")?);
        self.layout = state.layout;
        self.buf = buf;
        self.steps = steps as u64;
        self.last_lr = (!last_lr.is_nan()).then_some(last_lr);
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
