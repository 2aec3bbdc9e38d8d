//! # PS-SPS, parameter-scaled stochastic Polyak step (`ps-sps`)
//!
//! SPS_max run on the parameter-scaled network (Suh & Seo, Algorithm 1, as defined in this
//! project's `ps-methods.md`): with `a` from [`Scaling`] and `g' = g / a`,
//! `γ = min((f - f*) / (c·||g'||²), γ_b)` and `w ← w - γ·g / a²`. With scaling `none` it is
//! exactly [`sps`](crate::sps). Needs the mini-batch loss:
//! [`step_with_loss`](crate::StepModule::step_with_loss). A zero gradient skips the step.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `c` | 0.5 | Polyak constant |
//! | `f_star` | 0 | a lower bound of the loss |
//! | `gamma_b` | inf | cap on γ |
//! | `scaling` | `adam` | `adam`, `amsgrad` or `none` (see [`Scaling`]) |
//! | `beta2` | 0.999 | decay of the second moment behind the scaling |
//! | `eps` | 1e-8 | `a = sqrt(sqrt(v̂) + eps)` |
//!
//! `lr` (default 1.0) multiplies γ. The estimate is `lr·γ`, an Adam-equivalent learning rate.
//!
//! On Burn's CPU backend, steps after the first run as two fused loops around the norm,
//! bit-identical to the tensor ops (`PsSps::step_fused`); `scaling = none` takes the tensor ops.
//!
//! Reference: J. Suh, S. Seo, "Interpreting Adaptive Gradient Methods by Parameter Scaling for
//! Learning-Rate-Free Optimization", arXiv 2401.03240 (2024).

use burn::tensor::{DType, Device, Tensor, TensorData};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::api::{Diagnostics, Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::Result;
use crate::fused::{self, Real};
use crate::method::{LrFreeConfig, builder};
use crate::ops;
pub use crate::scaling::Scaling;
use crate::scaling::{ScaleKernel, ScaleOptions, ScaleState, div_opt};
use crate::state::OptimState;

const NAME: &str = "ps-sps";

/// Options of [`PsSps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PsSpsConfig {
    /// Polyak constant.
    pub c: f64,
    /// Lower bound of the loss.
    pub f_star: f64,
    /// Upper cap on γ.
    #[serde(with = "f64_or_inf")]
    pub gamma_b: f64,
    /// Scaling rule.
    pub scaling: Scaling,
    /// Second-moment decay.
    pub beta2: f64,
    /// Scaling epsilon.
    pub eps: f64,
}

impl Default for PsSpsConfig {
    fn default() -> Self {
        Self {
            c: 0.5,
            f_star: 0.0,
            gamma_b: f64::INFINITY,
            scaling: Scaling::Adam,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl LrFreeConfig for PsSpsConfig {
    type Optimizer = PsSps;
    const NAME: &'static str = NAME;
    const ADAM_EQUIVALENT_LR: bool = true;
    const NEEDS_OPTIMAL_LOSS: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<PsSps> {
        Check::new(NAME)
            .positive("c", self.c)?
            .number("f_star", self.f_star)?
            .non_negative("gamma_b", self.gamma_b)?
            .unit("beta2", self.beta2)?
            .non_negative("eps", self.eps)?;
        Ok(PsSps {
            config: self.clone(),
            layout: None,
            scale: ScaleState::default(),
            k: 0,
            last_lr: None,
            last_diagnostics: None,
            spare: fused::Spare::default(),
        })
    }
}

builder!(PsSpsConfig {
    with_c => c: f64,
    with_f_star => f_star: f64,
    with_gamma_b => gamma_b: f64,
    with_scaling => scaling: Scaling,
    with_beta2 => beta2: f64,
    with_eps => eps: f64,
});

impl PsSpsConfig {
    fn scale_options(&self) -> ScaleOptions {
        ScaleOptions {
            scaling: self.scaling,
            beta2: self.beta2,
            eps: self.eps,
            gain: 1.0,
        }
    }
}

/// PS-SPS; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct PsSps {
    config: PsSpsConfig,
    layout: Option<Layout>,
    scale: ScaleState,
    k: u64,
    last_lr: Option<f64>,
    /// `f_k − f*` and ‖g'‖ of the last step (the Polyak step's numerator and gradient).
    last_diagnostics: Option<Diagnostics>,
    /// Where the fused path keeps the step direction `g/a²` between its two passes.
    spare: fused::Spare,
}

impl LrEstimate for PsSps {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self.last_lr,
            steps: self.k,
            diagnostics: self.last_diagnostics,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for PsSps {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs_loss(&self) -> bool {
        true
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let loss = step.required_loss(NAME)?;
        let raw_sq = step.admit(NAME, &mut self.layout)?;
        if raw_sq == 0.0 {
            return Ok(step.params);
        }
        if self.fused_applies(&step)
            && let Some(scale) = self.scale.take_host(self.config.scaling)
        {
            return Ok(match step.params.dtype() {
                DType::F64 => self.step_fused::<f64>(step, loss, scale),
                _ => self.step_fused::<f32>(step, loss, scale),
            });
        }
        let c = &self.config;
        let (a, scale) = c.scale_options().scale(&step.grads, self.k, &self.scale);
        let g_scaled = div_opt(step.grads, &a);
        let gs_sq = if a.is_some() {
            ops::sq_norm(&g_scaled)
        } else {
            raw_sq
        };
        let gamma = ((loss - c.f_star) / (c.c * gs_sq)).min(c.gamma_b) * step.lr;
        let update = div_opt(g_scaled, &a).mul_scalar(gamma);
        self.scale = scale;
        self.finish(gamma, loss, gs_sq);
        Ok(step.params - update)
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.k as f64)
        .with_scalar("last_lr", self.last_lr.unwrap_or(f64::NAN))
        .with_tensor("v", self.scale.v.as_ref())
        .with_tensor("v_hat_max", self.scale.v_hat_max.as_ref())
        .with_diagnostics(self.last_diagnostics)
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let scale = ScaleState {
            v: state.tensor("v", device)?,
            v_hat_max: state.tensor("v_hat_max", device)?,
        };
        let [k, last_lr] = state.scalars(["steps", "last_lr"])?;
        self.last_diagnostics = state.diagnostics();
        self.layout = state.layout;
        self.scale = scale;
        self.spare = fused::Spare::default();
        self.k = k as u64;
        self.last_lr = (!last_lr.is_nan()).then_some(last_lr);
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}

impl PsSps {
    /// The state after a step of size `gamma` taken at `loss` with `‖g'‖² = gs_sq`.
    fn finish(&mut self, gamma: f64, loss: f64, gs_sq: f64) {
        self.k += 1;
        self.last_lr = Some(gamma);
        self.last_diagnostics = Some(Diagnostics {
            numerator: Some(loss - self.config.f_star),
            grad_norm: Some(gs_sq.sqrt()),
            ..Diagnostics::default()
        });
    }

    /// Whether this step takes the fused CPU path ([`Self::step_fused`]): the fused kernels apply
    /// (`fused::fused_cpu_applies`), it is not the first step (it runs once, and its scaling has
    /// no `v·β2` term), the scaling is `adam` or `amsgrad` (`none` is plain SPS, on the tensor
    /// path), and the state is there in the parameters' dtype and length.
    fn fused_applies(&self, step: &FlatStep<'_>) -> bool {
        let c = &self.config;
        let like = fused::state_like(&step.params);
        fused::fused_cpu_applies(&step.params)
            && self.k > 0
            && like(Some(&step.grads))
            && self.scale.fused_ready(c.scaling, like)
    }

    /// The tensor path's step (from the second step on) as two passes over the host buffers,
    /// op for op, so the results are bit-identical (`tests/fused.rs`): pass 1 makes the scaling,
    /// `g' = g/a` and the direction `g'/a`; `||g'||²` is the tensor path's own reduction on the
    /// same buffer ([`fused::on_tensors`]); pass 2 steps the parameters.
    fn step_fused<T: Real>(
        &mut self,
        step: FlatStep<'_>,
        loss: f64,
        (mut v, mut v_hat_max): (TensorData, Option<TensorData>),
    ) -> Tensor<1> {
        let c = &self.config;
        let device = step.params.device();
        let mut p = fused::host(step.params);
        let mut g = fused::host(step.grads);
        let mut direction = self.spare.take_like(&p);
        scale_pass::<T>(
            &c.scale_options().kernel(self.k),
            [fused::slice_mut(&mut g), fused::slice_mut(&mut v)],
            v_hat_max.as_mut().map(fused::slice_mut),
            fused::slice_mut(&mut direction),
        );
        let gs_sq = fused::on_tensors([&mut g], &device, |[g]| ops::sq_norm(g));
        let gamma = ((loss - c.f_star) / (c.c * gs_sq)).min(c.gamma_b) * step.lr;
        step_pass::<T>(
            fused::slice_mut(&mut p),
            fused::slice_mut(&mut direction),
            T::of(gamma),
        );
        self.scale.put_host(v, v_hat_max, &device);
        self.spare.put(direction);
        self.finish(gamma, loss, gs_sq);
        fused::tensor(p, &device)
    }
}

/// Pass 1 of the fused step: the scaling ([`ScaleKernel::scale`]: `v`, `v̂_max` under amsgrad,
/// `g ← g' = g/a`) and the direction `g'/a`. All slices cut to one length, so that the compiler
/// drops the bounds checks and vectorises, with AVX2 where the CPU has it (`fused.rs`).
#[multiversion(targets("x86_64+avx2"))]
fn scale_pass<T: Real>(
    k: &ScaleKernel<T>,
    [g, v]: [&mut [T]; 2],
    v_hat_max: Option<&mut [T]>,
    direction: &mut [T],
) {
    let n = g.len();
    let (v, direction) = (&mut v[..n], &mut direction[..n]);
    let v_hat_max = v_hat_max.map(|m| &mut m[..n]);
    k.scale(g, v, v_hat_max, |i, a, g| {
        direction[i] = g / a;
    });
}

/// Pass 2 of the fused step: `p ← p − (g'/a)·γ`, with AVX2 where the CPU has it (`fused.rs`).
#[multiversion(targets("x86_64+avx2"))]
fn step_pass<T: Real>(p: &mut [T], direction: &[T], gamma: T) {
    for (p, u) in p.iter_mut().zip(direction) {
        *p = *p - *u * gamma;
    }
}
