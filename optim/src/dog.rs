//! # DoG, distance over gradients (`dog`)
//!
//! SGD with step `η_t = lr · r̄_t / sqrt(G_t)`, where `r̄_t` is the largest distance travelled
//! from the initial point so far (`r̄_0 = reps_rel·(1 + ||x_0||)`) and `G_t = eps + Σ_{i≤t} ||g_i||²`.
//! The whole model is one vector (the `dog` package's default granularity); see
//! [`ldog`](crate::ldog) for one step size per tensor.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `reps_rel` | 1e-6 | initial movement, relative to `1 + ||x_0||` |
//! | `eps` | 1e-8 | added to the running sum of squared gradient norms |
//! | `weight_decay` | 0 | L2 penalty added to the gradient (before it enters `G`) |
//! | `init_eta` | none | if set, the first step uses this step size instead |
//!
//! `lr` (default 1.0) multiplies η. The estimate is the η the step used.
//!
//! Reference: M. Ivgi, O. Hinder, Y. Carmon, "DoG is SGD's Best Friend: A Parameter-Free
//! Dynamic Step Size Schedule", ICML 2023; package `dog-optimizer` 1.0.3 (`dog.DoG`).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::Check;
use crate::error::Result;
use crate::method::{LrFreeConfig, builder};
use crate::ops;
use crate::state::OptimState;

const NAME: &str = "dog";

/// Options of [`Dog`] (and of [`Ldog`](crate::ldog::Ldog)); defaults are the `dog` package's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DogConfig {
    /// Initial movement relative to `1 + ||x_0||`.
    pub reps_rel: f64,
    /// Added to the sum of squared gradient norms.
    pub eps: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    /// Step size of the first step, overriding the estimate.
    pub init_eta: Option<f64>,
}

impl Default for DogConfig {
    fn default() -> Self {
        Self {
            reps_rel: 1e-6,
            eps: 1e-8,
            weight_decay: 0.0,
            init_eta: None,
        }
    }
}

impl LrFreeConfig for DogConfig {
    type Optimizer = Dog;
    const NAME: &'static str = NAME;

    /// Validate and build.
    fn build(&self) -> Result<Dog> {
        self.check(NAME)?;
        Ok(Dog {
            config: self.clone(),
            layout: None,
            x0: None,
            rbar: 0.0,
            g_sum: 0.0,
            steps: 0,
            last_eta: None,
        })
    }
}

builder!(DogConfig {
    with_reps_rel => reps_rel: f64,
    with_eps => eps: f64,
    with_weight_decay => weight_decay: f64,
    with_init_eta => init_eta: Option<f64>,
});

impl DogConfig {
    pub(crate) fn check(&self, name: &'static str) -> Result<()> {
        let check = Check::new(name);
        check
            .positive("reps_rel", self.reps_rel)?
            .non_negative("eps", self.eps)?
            .non_negative("weight_decay", self.weight_decay)?;
        if let Some(eta) = self.init_eta {
            check.non_negative("init_eta", eta)?;
        }
        Ok(())
    }
}

/// DoG; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Dog {
    config: DogConfig,
    layout: Option<Layout>,
    x0: Option<Tensor<1>>,
    rbar: f64,
    g_sum: f64,
    steps: u64,
    last_eta: Option<f64>,
}

impl LrEstimate for Dog {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self.last_eta,
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for Dog {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let raw_sq = step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let mut g = step.grads;
        let mut g_sq = raw_sq;
        if c.weight_decay > 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
            g_sq = ops::sq_norm(&g);
        }
        let first = self.x0.is_none();
        let (rbar, g_sum) = match &self.x0 {
            None => (
                c.reps_rel * (1.0 + ops::sq_norm(&step.params).sqrt()),
                g_sq + c.eps,
            ),
            Some(x0) => {
                let moved = ops::sq_norm(&(step.params.clone() - x0.clone())).sqrt();
                (self.rbar.max(moved), self.g_sum + g_sq)
            }
        };
        if g_sum <= 0.0 {
            // The reference asserts G > 0; with `eps` = 0 and a zero gradient there is nothing to do.
            return Ok(step.params);
        }
        let mut eta = step.lr * rbar / g_sum.sqrt();
        if first {
            if let Some(init) = c.init_eta {
                eta = init;
            }
            self.x0 = Some(step.params.clone());
        }
        (self.rbar, self.g_sum) = (rbar, g_sum);
        self.steps += 1;
        self.last_eta = Some(eta);
        Ok(step.params - g.mul_scalar(eta))
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_scalar("last_lr", self.last_eta.unwrap_or(f64::NAN))
        .with_scalar("rbar", self.rbar)
        .with_scalar("G", self.g_sum)
        .with_tensor("x0", self.x0.as_ref())
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let x0 = state.tensor("x0", device)?;
        let (steps, last, rbar, g_sum) = (
            state.scalar("steps")?,
            state.scalar("last_lr")?,
            state.scalar("rbar")?,
            state.scalar("G")?,
        );
        self.layout = state.layout;
        self.x0 = x0;
        (self.rbar, self.g_sum, self.steps) = (rbar, g_sum, steps as u64);
        self.last_eta = (!last.is_nan()).then_some(last);
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
