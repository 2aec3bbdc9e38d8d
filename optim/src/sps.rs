//! # Stochastic Polyak step, SPS_max (`sps`)
//!
//! `γ = min((f - f*) / (c·||g||²), γ_b)`, then `w ← w - lr·γ·g` (Loizou et al. 2021). The step
//! needs the mini-batch loss `f` of the step: use
//! [`step_with_loss`](crate::StepModule::step_with_loss). A zero gradient skips the step.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `c` | 0.5 | Polyak constant |
//! | `f_star` | 0 | a lower bound of the loss (if the loss can go below it, γ turns negative, as in the formula) |
//! | `gamma_b` | inf | the cap γ_b of SPS_max |
//!
//! `lr` (default 1.0) multiplies γ; the reported estimate is `lr·γ`.
//!
//! Reference: N. Loizou, S. Vaswani, I. Laradji, S. Lacoste-Julien, "Stochastic Polyak
//! Step-size for SGD", AISTATS 2021.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::Result;
use crate::method::{LrFreeConfig, builder};
use crate::state::OptimState;

const NAME: &str = "sps";

/// Options of [`Sps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpsConfig {
    /// Polyak constant.
    pub c: f64,
    /// Lower bound of the loss.
    pub f_star: f64,
    /// Upper cap on γ.
    #[serde(with = "f64_or_inf")]
    pub gamma_b: f64,
}

impl Default for SpsConfig {
    fn default() -> Self {
        Self {
            c: 0.5,
            f_star: 0.0,
            gamma_b: f64::INFINITY,
        }
    }
}

impl LrFreeConfig for SpsConfig {
    type Optimizer = Sps;
    const NAME: &'static str = NAME;
    const NEEDS_OPTIMAL_LOSS: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<Sps> {
        Check::new(NAME)
            .positive("c", self.c)?
            .number("f_star", self.f_star)?
            .non_negative("gamma_b", self.gamma_b)?;
        Ok(Sps {
            config: self.clone(),
            layout: None,
            steps: 0,
            last_lr: None,
        })
    }
}

builder!(SpsConfig {
    with_c => c: f64,
    with_f_star => f_star: f64,
    with_gamma_b => gamma_b: f64,
});

/// SPS_max; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Sps {
    config: SpsConfig,
    layout: Option<Layout>,
    steps: u64,
    last_lr: Option<f64>,
}

impl LrEstimate for Sps {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self.last_lr,
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for Sps {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs_loss(&self) -> bool {
        true
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let loss = step.required_loss(NAME)?;
        let g_sq = step.admit(NAME, &mut self.layout)?;
        if g_sq == 0.0 {
            return Ok(step.params);
        }
        let c = &self.config;
        let gamma = ((loss - c.f_star) / (c.c * g_sq)).min(c.gamma_b) * step.lr;
        self.steps += 1;
        self.last_lr = Some(gamma);
        Ok(step.params - step.grads.mul_scalar(gamma))
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_scalar("last_lr", self.last_lr.unwrap_or(f64::NAN))
    }

    fn load_state(&mut self, state: OptimState, _device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (steps, last_lr) = (state.scalar("steps")?, state.scalar("last_lr")?);
        self.layout = state.layout;
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
