//! # Adam as PyTorch steps it (`adam`)
//!
//! Bias-corrected Adam (Kingma & Ba 2015) with optional AMSGrad and L2 weight decay, with
//! exactly the arithmetic of `torch.optim.Adam`: the step is
//! `lr / (1-β1^t) · m / (sqrt(v̂) / sqrt(1-β2^t) + eps)`, where `v̂` is `v`, or its running
//! maximum under AMSGrad.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `betas` | [0.9, 0.999] | decay rates of the first and second moments |
//! | `eps` | 1e-8 | added to the denominator |
//! | `amsgrad` | false | keep the running maximum of `v` |
//! | `weight_decay` | 0 | L2 penalty added to the gradient (not AdamW's decoupled decay) |
//!
//! The learning rate is the `lr` argument of the step (3e-4 is the usual SAC value); it is also
//! the reported estimate. Unlike Burn's own Adam (`eps` 1e-5, no bias-corrected `eps`
//! placement), this one reproduces PyTorch trajectories to rounding.
//!
//! Reference: `torch.optim.Adam` (PyTorch 2.x, `foreach=False`).
//!
//! Named `TorchAdam`/`TorchAdamConfig` so that it is not mistaken for Burn's `AdamConfig`,
//! whose defaults differ.

use burn::tensor::{Device, Tensor, TensorData};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::Check;
use crate::error::Result;
use crate::fused::{self, Real};
use crate::method::{LrFreeConfig, builder};
use crate::state::OptimState;

const NAME: &str = "adam";

/// Options of [`TorchAdam`]; defaults are `torch.optim.Adam`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TorchAdamConfig {
    /// (β1, β2).
    pub betas: [f64; 2],
    /// Denominator term.
    pub eps: f64,
    /// AMSGrad variant.
    pub amsgrad: bool,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for TorchAdamConfig {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            eps: 1e-8,
            amsgrad: false,
            weight_decay: 0.0,
        }
    }
}

impl LrFreeConfig for TorchAdamConfig {
    type Optimizer = TorchAdam;
    const NAME: &'static str = NAME;
    const PER_TENSOR: bool = true;
    const ADAM_EQUIVALENT_LR: bool = true;
    const DEFAULT_LR: f64 = 3e-4;

    /// Validate and build.
    fn build(&self) -> Result<TorchAdam> {
        Check::new(NAME)
            .unit("betas[0]", self.betas[0])?
            .unit("betas[1]", self.betas[1])?
            .non_negative("eps", self.eps)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(TorchAdam {
            config: self.clone(),
            layout: None,
            m: None,
            v: None,
            v_max: None,
            steps: 0,
            last_lr: None,
        })
    }
}

builder!(TorchAdamConfig {
    with_betas => betas: [f64; 2],
    with_eps => eps: f64,
    with_amsgrad => amsgrad: bool,
    with_weight_decay => weight_decay: f64,
});

/// Adam with PyTorch's arithmetic and defaults; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TorchAdam {
    config: TorchAdamConfig,
    layout: Option<Layout>,
    m: Option<Tensor<1>>,
    v: Option<Tensor<1>>,
    v_max: Option<Tensor<1>>,
    steps: u64,
    last_lr: Option<f64>,
}

impl LrEstimate for TorchAdam {
    fn estimate(&self) -> Estimate {
        Estimate {
            lr: self.last_lr,
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl LrFreeOptimizer for TorchAdam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let [b1, b2] = c.betas;
        let t = (self.steps + 1) as f64;
        let bc1 = 1.0 - b1.powf(t);
        let bc2_sqrt = (1.0 - b2.powf(t)).sqrt();
        if fused::fused_cpu_applies(&step.params) {
            let device = step.params.device();
            let mut p = fused::host(step.params);
            let mut g = fused::host(step.grads);
            let mut m = self
                .m
                .take()
                .map(fused::host)
                .unwrap_or_else(|| fused::zeros_like(&p));
            let mut v = self
                .v
                .take()
                .map(fused::host)
                .unwrap_or_else(|| fused::zeros_like(&p));
            let mut v_max = match (c.amsgrad, self.v_max.take()) {
                (false, _) => None,
                (true, Some(prev)) => Some(fused::host(prev)),
                (true, None) => Some(fused::zeros_like(&p)),
            };
            let k = Constants {
                b1,
                b2,
                weight_decay: c.weight_decay,
                eps: c.eps * bc2_sqrt,
                scale: step.lr * bc2_sqrt / bc1,
            };
            if p.dtype() == burn::tensor::DType::F64 {
                adam_kernel::<f64>(&mut p, &mut g, &mut m, &mut v, v_max.as_mut(), &k);
            } else {
                adam_kernel::<f32>(&mut p, &mut g, &mut m, &mut v, v_max.as_mut(), &k);
            }
            self.m = Some(fused::tensor(m, &device));
            self.v = Some(fused::tensor(v, &device));
            self.v_max = v_max.map(|d| fused::tensor(d, &device));
            self.steps += 1;
            self.last_lr = Some(step.lr);
            return Ok(fused::tensor(p, &device));
        }
        let mut g = step.grads;
        if c.weight_decay != 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let m = self.m.take().unwrap_or_else(|| g.zeros_like());
        let v = self.v.take().unwrap_or_else(|| g.zeros_like());
        // torch: exp_avg.lerp_(g, 1-β1); exp_avg_sq.mul_(β2).addcmul_(g, g, 1-β2). Written so
        // that each op's input is used once: Burn's CPU backend then updates the buffer in place
        // (m·β1 + g·(1−β1) is the lerp up to rounding).
        let m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
        let v = v.mul_scalar(b2) + g.square().mul_scalar(1.0 - b2);
        let second = if c.amsgrad {
            let v_max = match self.v_max.take() {
                Some(prev) => prev.max_pair(v.clone()),
                None => v.clone(),
            };
            self.v_max = Some(v_max.clone());
            v_max
        } else {
            v.clone()
        };
        // m/(√v/√bc2 + ε)·lr/bc1 = m/(√v + ε·√bc2)·lr·√bc2/bc1: one scalar op fewer.
        let denom = second.sqrt().add_scalar(c.eps * bc2_sqrt);
        let update = m.clone().div(denom).mul_scalar(step.lr * bc2_sqrt / bc1);
        self.m = Some(m);
        self.v = Some(v);
        self.steps += 1;
        self.last_lr = Some(step.lr);
        Ok(step.params - update)
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_scalar("last_lr", self.last_lr.unwrap_or(f64::NAN))
        .with_tensor("m", self.m.as_ref())
        .with_tensor("v", self.v.as_ref())
        .with_tensor("v_max", self.v_max.as_ref())
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (m, v, v_max) = (
            state.tensor("m", device)?,
            state.tensor("v", device)?,
            state.tensor("v_max", device)?,
        );
        let (steps, last_lr) = (state.scalar("steps")?, state.scalar("last_lr")?);
        self.layout = state.layout;
        (self.m, self.v, self.v_max) = (m, v, v_max);
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

/// The scalars of one Adam step, as the tensor path applies them.
struct Constants {
    b1: f64,
    b2: f64,
    weight_decay: f64,
    /// ε·√bc2
    eps: f64,
    /// lr·√bc2/bc1
    scale: f64,
}

/// One fused pass of the tensor path's arithmetic, op for op (same roundings). `v_max` is
/// there with amsgrad only.
fn adam_kernel<T: Real>(
    p: &mut TensorData,
    g: &mut TensorData,
    m: &mut TensorData,
    v: &mut TensorData,
    v_max: Option<&mut TensorData>,
    k: &Constants,
) {
    let k_t = KernelConstants {
        b1: T::of(k.b1),
        one_b1: T::of(1.0 - k.b1),
        b2: T::of(k.b2),
        one_b2: T::of(1.0 - k.b2),
        eps: T::of(k.eps),
        scale: T::of(k.scale),
    };
    let (p, g) = (fused::slice_mut::<T>(p), fused::slice_mut::<T>(g));
    let (m, v) = (fused::slice_mut::<T>(m), fused::slice_mut::<T>(v));
    if k.weight_decay != 0.0 {
        fused::add_decay(g, p, T::of(k.weight_decay));
    }
    match v_max {
        None => adam_loop(&k_t, p, g, m, v),
        Some(v_max) => adam_amsgrad_loop(&k_t, p, g, m, v, fused::slice_mut::<T>(v_max)),
    }
}

/// [`Constants`] rounded to the kernel's float type.
struct KernelConstants<T> {
    b1: T,
    one_b1: T,
    b2: T,
    one_b2: T,
    eps: T,
    scale: T,
}

/// Branch-free loops over zipped slices, so that the compiler vectorises them (division and
/// square root included), with AVX2 where the CPU has it (`fused.rs`).
#[multiversion(targets("x86_64+avx2"))]
fn adam_loop<T: Real>(k: &KernelConstants<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = *m * k.b1 + *g * k.one_b1;
        *v = *v * k.b2 + (*g * *g) * k.one_b2;
        *p = *p - *m / (v.sqrt() + k.eps) * k.scale;
    }
}

/// [`adam_loop`] with AMSGrad's running maximum `v_max` of `v`.
#[multiversion(targets("x86_64+avx2"))]
fn adam_amsgrad_loop<T: Real>(
    k: &KernelConstants<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
) {
    for ((((p, g), m), v), vm) in p
        .iter_mut()
        .zip(g)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
        .zip(v_max.iter_mut())
    {
        *m = *m * k.b1 + *g * k.one_b1;
        *v = *v * k.b2 + (*g * *g) * k.one_b2;
        if *v > *vm {
            *vm = *v;
        }
        *p = *p - *m / (vm.sqrt() + k.eps) * k.scale;
    }
}
