//! # D-Adapt SGD (`dadapt-sgd`)
//!
//! SGD whose step `d·lr/||g_0||` grows as the lower bound `d̂ = 2·Σ λ_i<g_i, s_{i-1}> / ||s||`
//! of the distance to the solution grows (`s` is the weighted sum of gradients), with
//! primal averaging as momentum: `z = x_0 - s`, `x ← μ·x + (1-μ)·z`.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `momentum` | 0.9 | averaging weight μ (0 allowed: `x = z`) |
//! | `d0` | 1e-6 | initial D |
//! | `growth_rate` | inf | D may grow at most by this factor per step |
//! | `weight_decay` | 0 | L2 penalty added to the gradient |
//!
//! `lr` (default 1.0) multiplies the step. The estimate is `d·lr/||g_0||`, the SGD step of
//! this step, with the D it used; `d_next` is the D after it.
//!
//! Quirks kept from the reference: `||g_0||` is taken from the step-0 gradient *without* the
//! weight-decay term (every other use includes it). Where the reference would divide by a zero
//! `||g_0||`, this implementation skips the step and waits for a non-zero gradient.
//!
//! Reference: A. Defazio, K. Mishchenko, "Learning-Rate-Free Learning by D-Adaptation",
//! ICML 2023; package `dadaptation` 3.2 (`DAdaptSGD`).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Diagnostics, Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::Result;
use crate::method::{LrFreeConfig, builder};
use crate::ops;
use crate::state::OptimState;

const NAME: &str = "dadapt-sgd";

/// Options of [`DAdaptSgd`]; defaults are `dadaptation.DAdaptSGD`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DAdaptSgdConfig {
    /// Primal averaging weight.
    pub momentum: f64,
    /// Initial D.
    pub d0: f64,
    /// Largest factor by which D may grow in one step.
    #[serde(with = "f64_or_inf")]
    pub growth_rate: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for DAdaptSgdConfig {
    fn default() -> Self {
        Self {
            momentum: 0.9,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
            weight_decay: 0.0,
        }
    }
}

impl LrFreeConfig for DAdaptSgdConfig {
    type Optimizer = DAdaptSgd;
    const NAME: &'static str = NAME;

    /// Validate and build.
    fn build(&self) -> Result<DAdaptSgd> {
        Check::new(NAME)
            .unit("momentum", self.momentum)?
            .positive("d0", self.d0)?
            .at_least_one("growth_rate", self.growth_rate)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(DAdaptSgd {
            config: self.clone(),
            layout: None,
            x0: None,
            s: None,
            d: self.d0,
            numerator: 0.0,
            g0_norm: 0.0,
            steps: 0,
            last: None,
            last_diagnostics: None,
        })
    }
}

builder!(DAdaptSgdConfig {
    with_momentum => momentum: f64,
    with_d0 => d0: f64,
    with_growth_rate => growth_rate: f64,
    with_weight_decay => weight_decay: f64,
});

/// D-Adapt SGD; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct DAdaptSgd {
    config: DAdaptSgdConfig,
    layout: Option<Layout>,
    x0: Option<Tensor<1>>,
    s: Option<Tensor<1>>,
    d: f64,
    numerator: f64,
    g0_norm: f64,
    steps: u64,
    /// (step size, D used) of the last step.
    last: Option<(f64, f64)>,
    /// What moved D at the last step.
    last_diagnostics: Option<Diagnostics>,
}

impl LrEstimate for DAdaptSgd {
    fn estimate(&self) -> Estimate {
        Estimate::with_d(self.last, self.d, self.steps).with_diagnostics(self.last_diagnostics)
    }
}

impl LrFreeOptimizer for DAdaptSgd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let raw_sq = step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let g0_norm = if self.steps == 0 {
            raw_sq.sqrt()
        } else {
            self.g0_norm
        };
        if g0_norm == 0.0 {
            return Ok(step.params);
        }
        let mut g = step.grads;
        if c.weight_decay != 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let x0 = self.x0.clone().unwrap_or_else(|| step.params.clone());
        let d = self.d;
        let dlr = d * step.lr / g0_norm;
        let (numerator, s) = match &self.s {
            None => (self.numerator, g.mul_scalar(dlr)),
            Some(s) => (
                self.numerator + dlr * ops::dot(&g, s),
                s.clone() + g.mul_scalar(dlr),
            ),
        };
        let mut d_next = d;
        let mut diagnostics = Diagnostics {
            numerator: Some(numerator),
            g0_norm: Some(g0_norm),
            grad_norm: Some(raw_sq.sqrt()),
            ..Diagnostics::default()
        };
        if step.lr > 0.0 {
            let s_norm = ops::sq_norm(&s).sqrt();
            diagnostics.s_norm = Some(s_norm);
            if s_norm > 0.0 {
                let d_hat = 2.0 * numerator / s_norm;
                d_next = d.max(d_hat.min(d * c.growth_rate));
                diagnostics.d_hat = Some(d_hat);
            }
        }
        let z = x0.clone() - s.clone();
        let x = step.params.mul_scalar(c.momentum) + z.mul_scalar(1.0 - c.momentum);
        self.x0 = Some(x0);
        self.s = Some(s);
        (self.numerator, self.d, self.g0_norm) = (numerator, d_next, g0_norm);
        self.steps += 1;
        self.last = Some((dlr, d));
        self.last_diagnostics = Some(diagnostics);
        Ok(x)
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_last(self.last)
        .with_scalar("d", self.d)
        .with_scalar("numerator", self.numerator)
        .with_scalar("g0_norm", self.g0_norm)
        .with_tensor("x0", self.x0.as_ref())
        .with_tensor("s", self.s.as_ref())
        .with_diagnostics(self.last_diagnostics)
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (x0, s) = (state.tensor("x0", device)?, state.tensor("s", device)?);
        let [steps, d, numerator, g0_norm] =
            state.scalars(["steps", "d", "numerator", "g0_norm"])?;
        let last = state.last()?;
        self.last_diagnostics = state.diagnostics();
        self.layout = state.layout;
        (self.x0, self.s) = (x0, s);
        (self.steps, self.d, self.numerator, self.g0_norm) = (steps as u64, d, numerator, g0_norm);
        self.last = last;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
