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
//! On Burn's CPU backend, steps after the first run as one fused loop, with the two reductions
//! after it, bit-identical to the tensor ops (`DAdaptAdam::step_fused`).
//!
//! Reference: Defazio & Mishchenko 2023; package `dadaptation` 3.2 (`DAdaptAdam`).

use burn::tensor::{DType, Device, Tensor, TensorData};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::api::{Diagnostics, Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::Result;
use crate::fused::{self, Real};
use crate::lanes::{BLOCK, Lanes};
use crate::method::{LrFreeConfig, builder};
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

impl LrFreeConfig for DAdaptAdamConfig {
    type Optimizer = DAdaptAdam;
    const NAME: &'static str = NAME;
    const ADAM_EQUIVALENT_LR: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<DAdaptAdam> {
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
            last_diagnostics: None,
            spare: fused::Spare::default(),
        })
    }
}

builder!(DAdaptAdamConfig {
    with_betas => betas: [f64; 2],
    with_eps => eps: f64,
    with_d0 => d0: f64,
    with_growth_rate => growth_rate: f64,
    with_weight_decay => weight_decay: f64,
    with_decouple => decouple: bool,
    with_use_bias_correction => use_bias_correction: bool,
});

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
    /// What moved D at the last step.
    last_diagnostics: Option<Diagnostics>,
    /// The fused path's scratch buffers (`s/(√v+eps)`, `|s|`, the new parameters).
    spare: fused::Spare,
}

impl LrEstimate for DAdaptAdam {
    fn estimate(&self) -> Estimate {
        Estimate::with_d(self.last, self.d, self.k).with_diagnostics(self.last_diagnostics)
    }
}

impl LrFreeOptimizer for DAdaptAdam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let grad_sq = step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let [b1, b2] = c.betas;
        let sqrt_b2 = b2.sqrt();
        let (lr, d) = (step.lr, self.d);
        let kp1 = (self.k + 1) as f64;
        let bias_correction = if c.use_bias_correction {
            (1.0 - b2.powf(kp1)).sqrt() / (1.0 - b1.powf(kp1))
        } else {
            1.0
        };
        let dlr = d * lr * bias_correction;
        if self.fused_applies(&step)
            && let Some(state) = fused::take_all([&mut self.m, &mut self.v, &mut self.s])
        {
            return Ok(match step.params.dtype() {
                DType::F64 => self.step_fused::<f64>(step, dlr, state, grad_sq),
                _ => self.step_fused::<f32>(step, dlr, state, grad_sq),
            });
        }
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
                numerator_acc = dlr * ops::dot_in_lanes(&g, &s.clone().div(denom));
            }
            let m = m.mul_scalar(b1) + g.clone().mul_scalar(dlr * (1.0 - b1));
            let v = v.mul_scalar(b2) + g.clone().square().mul_scalar(1.0 - b2);
            let s = s.mul_scalar(sqrt_b2) + g.mul_scalar(dlr * (1.0 - sqrt_b2));
            sk_l1 = ops::l1_in_lanes(&s);
            (m, v, s)
        } else {
            (m, v, s)
        };
        let numerator = sqrt_b2 * self.numerator + (1.0 - sqrt_b2) * numerator_acc;
        (self.m, self.v, self.s) = (Some(m.clone()), Some(v.clone()), Some(s));
        if sk_l1 == 0.0 {
            return Ok(step.params);
        }
        let denom = v.sqrt().add_scalar(c.eps);
        let mut x = step.params;
        if c.weight_decay != 0.0 && c.decouple {
            x = x.clone() - x.mul_scalar(c.weight_decay * dlr);
        }
        self.finish(numerator, sk_l1, lr, grad_sq);
        Ok(x - m.div(denom))
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.k as f64)
        .with_last(self.last)
        .with_scalar("d", self.d)
        .with_scalar("numerator", self.numerator)
        .with_tensor("m", self.m.as_ref())
        .with_tensor("v", self.v.as_ref())
        .with_tensor("s", self.s.as_ref())
        .with_diagnostics(self.last_diagnostics)
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (m, v, s) = (
            state.tensor("m", device)?,
            state.tensor("v", device)?,
            state.tensor("s", device)?,
        );
        let [k, d, numerator] = state.scalars(["steps", "d", "numerator"])?;
        let last = state.last()?;
        self.last_diagnostics = state.diagnostics();
        self.layout = state.layout;
        self.spare = fused::Spare::default();
        (self.m, self.v, self.s) = (m, v, s);
        (self.k, self.d, self.numerator) = (k as u64, d, numerator);
        self.last = last;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}

impl DAdaptAdam {
    /// The scalar state after a step taken with D = `self.d` and learning rate `lr`, which left
    /// the numerator r and `||s||_1 = sk_l1` (`grad_sq`: the step's ‖g‖², for the diagnostics).
    /// D for the next step is `max(d, min(d̂, d·growth_rate))` with `d̂ = r / ((1−√β2)·||s||_1)`
    /// when `lr > 0`; the one formula of the tensor and fused paths.
    fn finish(&mut self, numerator: f64, sk_l1: f64, lr: f64, grad_sq: f64) {
        let d = self.d;
        let sqrt_b2 = self.config.betas[1].sqrt();
        let d_hat = (lr > 0.0).then(|| numerator / ((1.0 - sqrt_b2) * sk_l1));
        if let Some(d_hat) = d_hat {
            self.d = d.max(d_hat.min(d * self.config.growth_rate));
        }
        self.numerator = numerator;
        self.k += 1;
        self.last = Some((d * lr, d));
        self.last_diagnostics = Some(Diagnostics {
            numerator: Some(numerator),
            s_norm: Some(sk_l1),
            d_hat,
            g0_norm: None,
            grad_norm: Some(grad_sq.sqrt()),
        });
    }

    /// Whether this step takes the fused CPU path ([`Self::step_fused`]): the fused kernels apply
    /// (`fused::fused_cpu_applies`), `lr > 0` (otherwise the step changes nothing but `k`), and
    /// the moments are there (not on the first step) in the parameters' dtype and length.
    fn fused_applies(&self, step: &FlatStep<'_>) -> bool {
        let like = fused::state_like(&step.params);
        fused::fused_cpu_applies(&step.params)
            && step.lr > 0.0
            && like(Some(&step.grads))
            && [&self.m, &self.v, &self.s]
                .into_iter()
                .all(|t| like(t.as_ref()))
    }

    /// The tensor path's step as one pass over the host buffers, op for op, so the results are
    /// bit-identical (`tests/fused.rs`). The pass also sums `g·s_old/(√v_old+eps)` and `|s|`
    /// as it goes, in the tensor path's order (`crate::lanes`), and writes the new parameters
    /// into a spare buffer: the old ones are still needed when `||s||_1 = 0` leaves them
    /// unchanged. `dlr` is `d·lr`, bias-corrected.
    fn step_fused<T: Real>(
        &mut self,
        step: FlatStep<'_>,
        dlr: f64,
        [mut m, mut v, mut s]: [TensorData; 3],
        grad_sq: f64,
    ) -> Tensor<1> {
        let c = &self.config;
        let device = step.params.device();
        let [b1, b2] = c.betas;
        let sqrt_b2 = b2.sqrt();
        let mut p = fused::host(step.params);
        let mut g = fused::host(step.grads);
        let mut x = self.spare.take_like(&p);

        if c.weight_decay != 0.0 && !c.decouple {
            let wd = T::of(c.weight_decay);
            fused::add_decay::<T>(fused::slice_mut(&mut g), fused::slice_mut(&mut p), wd);
        }
        let k = Constants {
            b1: T::of(b1),
            m_g: T::of(dlr * (1.0 - b1)),
            b2: T::of(b2),
            one_minus_b2: T::of(1.0 - b2),
            sqrt_b2: T::of(sqrt_b2),
            s_g: T::of(dlr * (1.0 - sqrt_b2)),
            eps: T::of(c.eps),
            decay: T::of(c.weight_decay * dlr),
        };
        let state = [&mut m, &mut v, &mut s].map(fused::slice_mut::<T>);
        let out = fused::slice_mut::<T>(&mut x);
        let (p_s, g_s) = (fused::slice_mut::<T>(&mut p), fused::slice_mut::<T>(&mut g));
        let [g_dot_scaled, sk_l1] = if c.weight_decay != 0.0 && c.decouple {
            adam_pass::<T, true>(&k, p_s, g_s, state, out)
        } else {
            adam_pass::<T, false>(&k, p_s, g_s, state, out)
        };

        // Zero at k = 0 (s was still 0), where the tensor path skips it.
        let numerator_acc = if self.k > 0 { dlr * g_dot_scaled } else { 0.0 };
        let numerator = sqrt_b2 * self.numerator + (1.0 - sqrt_b2) * numerator_acc;
        (self.m, self.v, self.s) = (
            Some(fused::tensor(m, &device)),
            Some(fused::tensor(v, &device)),
            Some(fused::tensor(s, &device)),
        );
        if sk_l1 == 0.0 {
            // The reference's quirk (module docs): moments updated, parameters not.
            self.spare.put(x);
            return fused::tensor(p, &device);
        }
        self.finish(numerator, sk_l1, step.lr, grad_sq);
        self.spare.put(p);
        fused::tensor(x, &device)
    }
}

/// The scalars of one fused step, rounded to `T` as the tensor path's scalar ops round them.
struct Constants<T> {
    b1: T,
    /// dlr·(1−β1)
    m_g: T,
    b2: T,
    one_minus_b2: T,
    sqrt_b2: T,
    /// dlr·(1−√β2)
    s_g: T,
    eps: T,
    /// weight_decay·dlr (decoupled decay only)
    decay: T,
}

/// The fused pass: from `p`, `g` and the state `[m, v, s]` (updated in place), writes the new
/// parameters into `x` and returns `[Σ g·s_old/(√v_old+eps), Σ |s|]` (new `s`), summed in the
/// tensor path's order (`crate::lanes`). `DECOUPLE`: AdamW-style decay of `p` first.
/// Block by block: an indexed loop over slices cut to one length, which the compiler
/// vectorises without bounds checks (with AVX2 where the CPU has it, `fused.rs`), leaves
/// `s_old/(√v_old+eps)` in an L1-sized scratch block; then the lanes take the block.
#[multiversion(targets("x86_64+avx2"))]
fn adam_pass<T: Real, const DECOUPLE: bool>(
    k: &Constants<T>,
    p: &[T],
    g: &[T],
    [m, v, s]: [&mut [T]; 3],
    x: &mut [T],
) -> [f64; 2] {
    let n = p.len();
    let (mut g_dot_scaled, mut s_l1) = (Lanes::new(), Lanes::new());
    let mut s_scaled = [T::of(0.0); BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let len = end - start;
        let (p, g, x) = (&p[start..end], &g[start..end], &mut x[start..end]);
        let (m, v, s) = (&mut m[start..end], &mut v[start..end], &mut s[start..end]);
        let s_scaled = &mut s_scaled[..len];
        for i in 0..len {
            let gi = g[i];
            s_scaled[i] = s[i] / (v[i].sqrt() + k.eps);
            m[i] = m[i] * k.b1 + gi * k.m_g;
            v[i] = v[i] * k.b2 + (gi * gi) * k.one_minus_b2;
            s[i] = s[i] * k.sqrt_b2 + gi * k.s_g;
            let base = if DECOUPLE {
                p[i] - p[i] * k.decay
            } else {
                p[i]
            };
            x[i] = base - m[i] / (v[i].sqrt() + k.eps);
        }
        g_dot_scaled.add_products(g, s_scaled);
        s_l1.add_abs(s);
    }
    [g_dot_scaled.total(), s_l1.total()]
}
