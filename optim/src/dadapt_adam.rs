//! # D-Adapt Adam (`dadapt-adam`)
//!
//! Adam whose step size `d·lr` is D-Adaptation's running lower bound on the distance to the
//! solution, measured in Adam's own geometry:
//! `d̂ = r_k / ((1-√β2)·||s_k||_1)` with `s_k = √β2·s_{k-1} + (1-√β2)·d·lr·g_k` and
//! `r_k = √β2·r_{k-1} + (1-√β2)·d·lr·<g_k, s_{k-1}/(√v_{k-1}+eps)>`.
//! The first moment already carries `d·lr`, so the update is `m / (√v + eps)`.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `betas` | [0.9, 0.999] | Adam's moment decay rates |
//! | `eps` | 1e-8 | denominator term |
//! | `d0` | 1e-6 | initial D |
//! | `growth_rate` | inf | D may grow at most by this factor per step |
//! | `weight_decay` | 0 | weight decay, L2 (added to the gradient) unless `decouple` |
//! | `decouple` | false | AdamW-style decay `x ← x - weight_decay·d·lr·x` |
//! | `use_bias_correction` | false | multiply the step by `√(1-β2^(k+1))/(1-β1^(k+1))` |
//!
//! `lr` (default 1.0) multiplies D. The estimate is `d·lr`, the Adam-equivalent learning rate
//! of this step (the paper's Figure 1 plots it); `d_next` is the D after the step.
//!
//! Quirk kept: when `||s||_1` is 0 (a zero gradient so far) the moments are updated but the
//! parameters, D and the step counter are not, as in the reference.
//!
//! Reference: Defazio & Mishchenko 2023; package `dadaptation` 3.2 (`DAdaptAdam`).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::Result;
use crate::ops;
use crate::state::OptimState;

const NAME: &str = "dadapt-adam";

/// Options of [`DAdaptAdam`]; defaults are `dadaptation.DAdaptAdam`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DAdaptAdamConfig {
    /// (β1, β2).
    pub betas: [f64; 2],
    /// Denominator term.
    pub eps: f64,
    /// Initial D.
    pub d0: f64,
    /// Largest factor by which D may grow in one step.
    #[serde(with = "f64_or_inf")]
    pub growth_rate: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Decoupled (AdamW-style) weight decay.
    pub decouple: bool,
    /// Adam's bias correction on the step size.
    pub use_bias_correction: bool,
}

impl Default for DAdaptAdamConfig {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            eps: 1e-8,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
            weight_decay: 0.0,
            decouple: false,
            use_bias_correction: false,
        }
    }
}

impl DAdaptAdamConfig {
    /// Validate and build.
    pub fn init(&self) -> Result<DAdaptAdam> {
        Check::new(NAME)
            .unit("betas[0]", self.betas[0])?
            .unit("betas[1]", self.betas[1])?
            .non_negative("eps", self.eps)?
            .positive("d0", self.d0)?
            .at_least_one("growth_rate", self.growth_rate)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(DAdaptAdam {
            config: self.clone(),
            layout: None,
            m: None,
            v: None,
            s: None,
            d: self.d0,
            numerator: 0.0,
            k: 0,
            last: None,
        })
    }
}

/// D-Adapt Adam; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct DAdaptAdam {
    config: DAdaptAdamConfig,
    layout: Option<Layout>,
    m: Option<Tensor<1>>,
    v: Option<Tensor<1>>,
    s: Option<Tensor<1>>,
    d: f64,
    numerator: f64,
    k: u64,
    /// (d·lr, D used) of the last step.
    last: Option<(f64, f64)>,
}

impl LrEstimate for DAdaptAdam {
    fn estimate(&self) -> Estimate {
        Estimate::with_d(self.last, self.d, self.k)
    }
}

impl LrFreeOptimizer for DAdaptAdam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let [b1, b2] = c.betas;
        let sqrt_b2 = b2.sqrt();
        let (lr, d) = (step.lr, self.d);
        let kp1 = (self.k + 1) as f64;
        let bias_correction =
            if c.use_bias_correction { (1.0 - b2.powf(kp1)).sqrt() / (1.0 - b1.powf(kp1)) } else { 1.0 };
        let dlr = d * lr * bias_correction;
        let mut g = step.grads;
        if c.weight_decay != 0.0 && !c.decouple {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let m = self.m.take().unwrap_or_else(|| g.zeros_like());
        let v = self.v.take().unwrap_or_else(|| g.zeros_like());
        let s = self.s.take().unwrap_or_else(|| g.zeros_like());
        let (mut numerator_acc, mut sk_l1) = (0.0, 0.0);
        let (m, v, s) = if lr > 0.0 {
            if self.k > 0 {
                // Zero at k = 0, where s is still 0.
                let denom = v.clone().sqrt().add_scalar(c.eps);
                numerator_acc = dlr * ops::dot(&g, &s.clone().div(denom));
            }
            let m = m.mul_scalar(b1) + g.clone().mul_scalar(dlr * (1.0 - b1));
            let v = v.mul_scalar(b2) + g.clone().square().mul_scalar(1.0 - b2);
            let s = s.mul_scalar(sqrt_b2) + g.mul_scalar(dlr * (1.0 - sqrt_b2));
            sk_l1 = ops::l1_norm(&s);
            (m, v, s)
        } else {
            (m, v, s)
        };
        let numerator = sqrt_b2 * self.numerator + (1.0 - sqrt_b2) * numerator_acc;
        (self.m, self.v, self.s) = (Some(m.clone()), Some(v.clone()), Some(s));
        if sk_l1 == 0.0 {
            return Ok(step.params);
        }
        let mut d_next = d;
        if lr > 0.0 {
            let d_hat = numerator / ((1.0 - sqrt_b2) * sk_l1);
            d_next = d.max(d_hat.min(d * c.growth_rate));
        }
        let denom = v.sqrt().add_scalar(c.eps);
        let mut x = step.params;
        if c.weight_decay != 0.0 && c.decouple {
            x = x.clone() - x.mul_scalar(c.weight_decay * dlr);
        }
        (self.numerator, self.d) = (numerator, d_next);
        self.k += 1;
        self.last = Some((d * lr, d));
        Ok(x - m.div(denom))
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(NAME, serde_json::to_string(&self.config).unwrap_or_default(), self.layout.clone())
            .with_scalar("steps", self.k as f64)
            .with_last(self.last)
            .with_scalar("d", self.d)
            .with_scalar("numerator", self.numerator)
            .with_tensor("m", self.m.as_ref())
            .with_tensor("v", self.v.as_ref())
            .with_tensor("s", self.s.as_ref())
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (m, v, s) = (state.tensor("m", device)?, state.tensor("v", device)?, state.tensor("s", device)?);
        let [k, d, numerator] = state.scalars(["steps", "d", "numerator"])?;
        let last = state.last()?;
        self.layout = state.layout;
        (self.m, self.v, self.s) = (m, v, s);
        (self.k, self.d, self.numerator) = (k as u64, d, numerator);
        self.last = last;
        Ok(())
    }

    fn reset(&mut self) {
        *self = self.config.init().expect("config was validated");
    }
}
