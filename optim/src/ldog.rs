//! # LDoG, layer-wise DoG (`ldog`)
//!
//! [DoG](crate::dog) with one step size per parameter tensor:
//! `η_t[i] = lr · r̄_t[i] / sqrt(G_t[i])`, with `r̄_0[i] = reps_rel·(1 + ||x_0[i]||)` and
//! `G_t[i] = eps + Σ ||g[i]||²` over each tensor `i` alone. Options are [`DogConfig`]'s.
//!
//! The estimate reports all per-tensor step sizes (`per_tensor_lr`, in layout order) and, as
//! the scalar `lr`, the largest of them.
//!
//! Reference: Ivgi, Hinder & Carmon 2023; package `dog-optimizer` 1.0.3 (`dog.LDoG`).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
pub use crate::dog::DogConfig;
use crate::error::Result;
use crate::method::LrFreeConfig;
use crate::ops;
use crate::state::OptimState;

const NAME: &str = "ldog";

/// Options of [`Ldog`]: [`DogConfig`]'s, with the same defaults and TOML keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LdogConfig(pub DogConfig);

impl LdogConfig {
    /// The reference defaults (the same as `Default::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// LDoG with these DoG options.
    pub fn with_options(options: DogConfig) -> Self {
        Self(options)
    }
}

impl LrFreeConfig for LdogConfig {
    type Optimizer = Ldog;
    const NAME: &'static str = NAME;
    const PER_TENSOR: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<Ldog> {
        self.0.check(NAME)?;
        Ok(Ldog {
            config: self.0.clone(),
            layout: None,
            x0: None,
            rbar: Vec::new(),
            g_sum: Vec::new(),
            steps: 0,
            last_eta: None,
        })
    }
}

/// LDoG; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Ldog {
    config: DogConfig,
    layout: Option<Layout>,
    x0: Option<Tensor<1>>,
    rbar: Vec<f64>,
    g_sum: Vec<f64>,
    steps: u64,
    last_eta: Option<Vec<f64>>,
}

impl LrEstimate for Ldog {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self
                .last_eta
                .as_ref()
                .map(|e| e.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            per_tensor_lr: self.last_eta.clone(),
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for Ldog {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let sizes = step.layout.sizes();
        let mut g = step.grads;
        if c.weight_decay > 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let g_sq = ops::segment_sq_norms(&g, &sizes);
        let first = self.x0.is_none();
        let (rbar, g_sum): (Vec<f64>, Vec<f64>) = match &self.x0 {
            None => {
                let norms = ops::segment_sq_norms(&step.params, &sizes);
                (
                    norms
                        .iter()
                        .map(|n| c.reps_rel * (1.0 + n.sqrt()))
                        .collect(),
                    g_sq.iter().map(|s| s + c.eps).collect(),
                )
            }
            Some(x0) => {
                let moved = ops::segment_sq_norms(&(step.params.clone() - x0.clone()), &sizes);
                (
                    self.rbar
                        .iter()
                        .zip(&moved)
                        .map(|(r, m)| r.max(m.sqrt()))
                        .collect(),
                    self.g_sum.iter().zip(&g_sq).map(|(a, b)| a + b).collect(),
                )
            }
        };
        // A tensor whose G is still 0 (eps = 0, zero gradient so far) does not move.
        let mut eta: Vec<f64> = rbar
            .iter()
            .zip(&g_sum)
            .map(|(r, s)| {
                if *s > 0.0 {
                    step.lr * r / s.sqrt()
                } else {
                    0.0
                }
            })
            .collect();
        if first {
            if let Some(init) = c.init_eta {
                eta.iter_mut().for_each(|e| *e = init);
            }
            self.x0 = Some(step.params.clone());
        }
        let eta_vec = ops::segment_fill(&g, &sizes, &eta);
        (self.rbar, self.g_sum) = (rbar, g_sum);
        self.steps += 1;
        self.last_eta = Some(eta);
        Ok(step.params - g.mul(eta_vec))
    }

    fn save_state(&self) -> OptimState {
        let mut state = OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_tensor("x0", self.x0.as_ref());
        for (i, (r, g)) in self.rbar.iter().zip(&self.g_sum).enumerate() {
            state = state
                .with_scalar(&format!("rbar.{i}"), *r)
                .with_scalar(&format!("G.{i}"), *g);
        }
        for (i, e) in self.last_eta.iter().flatten().enumerate() {
            state = state.with_scalar(&format!("eta.{i}"), *e);
        }
        state
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let x0 = state.tensor("x0", device)?;
        let steps = state.scalar("steps")?;
        let n = state.layout.as_ref().map_or(0, |l| l.tensors.len());
        let (mut rbar, mut g_sum, mut eta) = (Vec::new(), Vec::new(), Vec::new());
        if x0.is_some() {
            for i in 0..n {
                rbar.push(state.scalar(&format!("rbar.{i}"))?);
                g_sum.push(state.scalar(&format!("G.{i}"))?);
                eta.push(state.scalar(&format!("eta.{i}"))?);
            }
        }
        self.layout = state.layout;
        self.x0 = x0;
        self.last_eta = (!eta.is_empty()).then_some(eta);
        (self.rbar, self.g_sum, self.steps) = (rbar, g_sum, steps as u64);
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = LdogConfig(self.config.clone()).build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
