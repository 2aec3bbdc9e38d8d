//! # Prodigy (`prodigy`)
//!
//! D-Adaptation for Adam with a sharper estimate of the distance to the solution:
//! `d̂ = d_coef · r_k / ||s_k||_1`, where `r_k = β3·r_{k-1} + (d/d0)·d·lr·<g_k, x_0 - x_k>` and
//! `s_k = β3·s_{k-1} + (d/d0)·d·lr·g_k`. D never decreases (`d_max` tracks the largest `d̂`).
//! Adam's moments are weighted by `d` and `d²`; the update is `d·lr · m / (√v + d·eps)`.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `betas` | [0.9, 0.999] | Adam's moment decay rates (β1 = 0 drops the first moment) |
//! | `beta3` | √β2 | decay of `r` and `s` |
//! | `eps` | 1e-8 | denominator term, scaled by D |
//! | `d0` | 1e-6 | initial D |
//! | `d_coef` | 1 | multiplies `d̂` |
//! | `growth_rate` | inf | D may grow at most by this factor per step |
//! | `weight_decay` | 0 | weight decay, decoupled (AdamW-style) unless `decouple` is false |
//! | `decouple` | true | decoupled weight decay |
//! | `use_bias_correction` | false | Adam's bias correction on the step size |
//! | `safeguard_warmup` | false | weight `s` by `d` instead of `d·lr` (for warm-up schedules) |
//! | `slice_p` | 1 | estimate D from every `slice_p`-th element of each tensor (memory saver) |
//!
//! `lr` (default 1.0) multiplies D. The estimate is `d·lr`, the Adam-equivalent learning rate
//! of this step; `d_next` is the D after the step. As in the reference, the step's EMA weights
//! and step size use the old D, while the denominator `√v + D·eps` already uses the new one.
//!
//! On Burn's CPU backend, steps after the first run as two fused loops around the reductions,
//! bit-identical to the tensor ops (`Prodigy::step_fused`); `slice_p > 1` and `β1 = 0` always
//! take the tensor ops.
//!
//! Reference: K. Mishchenko, A. Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
//! Learner", ICML 2024; package `prodigyopt` 1.1.2 (`Prodigy`).

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
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

const NAME: &str = "prodigy";

/// Options of [`Prodigy`]; defaults are `prodigyopt.Prodigy`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProdigyConfig {
    /// (β1, β2).
    pub betas: [f64; 2],
    /// Decay of the D estimate's sums; `None` means √β2.
    pub beta3: Option<f64>,
    /// Denominator term (scaled by D).
    pub eps: f64,
    /// Initial D.
    pub d0: f64,
    /// Multiplier of the estimate d̂.
    pub d_coef: f64,
    /// Largest factor by which D may grow in one step.
    #[serde(with = "f64_or_inf")]
    pub growth_rate: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Decoupled (AdamW-style) weight decay.
    pub decouple: bool,
    /// Adam's bias correction on the step size.
    pub use_bias_correction: bool,
    /// Weight `s` by `d` instead of `d·lr`.
    pub safeguard_warmup: bool,
    /// Use every `slice_p`-th element of each tensor for the D estimate.
    pub slice_p: usize,
}

impl Default for ProdigyConfig {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            beta3: None,
            eps: 1e-8,
            d0: 1e-6,
            d_coef: 1.0,
            growth_rate: f64::INFINITY,
            weight_decay: 0.0,
            decouple: true,
            use_bias_correction: false,
            safeguard_warmup: false,
            slice_p: 1,
        }
    }
}

impl LrFreeConfig for ProdigyConfig {
    type Optimizer = Prodigy;
    const NAME: &'static str = NAME;
    const ADAM_EQUIVALENT_LR: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<Prodigy> {
        let check = Check::new(NAME);
        check
            .unit("betas[0]", self.betas[0])?
            .unit("betas[1]", self.betas[1])?
            .non_negative("eps", self.eps)?
            .positive("d0", self.d0)?
            .positive("d_coef", self.d_coef)?
            .at_least_one("growth_rate", self.growth_rate)?
            .non_negative("weight_decay", self.weight_decay)?
            .at_least_one("slice_p", self.slice_p as f64)?;
        if let Some(b3) = self.beta3 {
            check.unit("beta3", b3)?;
        }
        Ok(Prodigy {
            config: self.clone(),
            layout: None,
            slice: None,
            m: None,
            v: None,
            s: None,
            x0: None,
            d: self.d0,
            d_max: self.d0,
            numerator: 0.0,
            k: 0,
            last: None,
            last_diagnostics: None,
        })
    }
}

builder!(ProdigyConfig {
    with_betas => betas: [f64; 2],
    with_beta3 => beta3: Option<f64>,
    with_eps => eps: f64,
    with_d0 => d0: f64,
    with_d_coef => d_coef: f64,
    with_growth_rate => growth_rate: f64,
    with_weight_decay => weight_decay: f64,
    with_decouple => decouple: bool,
    with_use_bias_correction => use_bias_correction: bool,
    with_safeguard_warmup => safeguard_warmup: bool,
    with_slice_p => slice_p: usize,
});

/// Prodigy; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Prodigy {
    config: ProdigyConfig,
    layout: Option<Layout>,
    /// Positions used for the D estimate when `slice_p > 1`.
    slice: Option<Tensor<1, Int>>,
    m: Option<Tensor<1>>,
    v: Option<Tensor<1>>,
    s: Option<Tensor<1>>,
    x0: Option<Tensor<1>>,
    d: f64,
    d_max: f64,
    numerator: f64,
    k: u64,
    /// (d·lr, D used) of the last step.
    last: Option<(f64, f64)>,
    /// What moved D at the last step.
    last_diagnostics: Option<Diagnostics>,
}

impl Prodigy {
    /// Every `slice_p`-th element of each tensor, as the reference's `p.flatten()[::slice_p]`.
    fn sliced(&mut self, t: &Tensor<1>, layout: &Layout) -> Tensor<1> {
        let p = self.config.slice_p;
        if p <= 1 {
            return t.clone();
        }
        let idx = self.slice.get_or_insert_with(|| {
            let mut positions = Vec::new();
            let mut offset = 0i64;
            for n in layout.sizes() {
                positions.extend((0..n as i64).step_by(p).map(|i| offset + i));
                offset += n as i64;
            }
            let count = positions.len();
            Tensor::<1, Int>::from_data(
                burn::tensor::TensorData::new(positions, [count]),
                &t.device(),
            )
        });
        t.clone().select(0, idx.clone())
    }
}

impl LrEstimate for Prodigy {
    fn estimate(&self) -> Estimate {
        Estimate::with_d(self.last, self.d, self.k).with_diagnostics(self.last_diagnostics)
    }
}

impl LrFreeOptimizer for Prodigy {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        let grad_sq = step.admit(NAME, &mut self.layout)?;
        let c = self.config.clone();
        let [b1, b2] = c.betas;
        let b3 = c.beta3.unwrap_or(b2.sqrt());
        let (lr, d, d0) = (step.lr, self.d, c.d0);
        let kp1 = (self.k + 1) as f64;
        let bias_correction = if c.use_bias_correction {
            (1.0 - b2.powf(kp1)).sqrt() / (1.0 - b1.powf(kp1))
        } else {
            1.0
        };
        let dlr = d * lr * bias_correction;
        if self.fused_applies(&step)
            && let Some(state) =
                fused::take_all([&mut self.m, &mut self.v, &mut self.s, &mut self.x0])
        {
            return Ok(match step.params.dtype() {
                DType::F64 => self.step_fused::<f64>(step, dlr, state, grad_sq),
                _ => self.step_fused::<f32>(step, dlr, state, grad_sq),
            });
        }
        let mut numerator = self.numerator * b3;
        let mut g = step.grads;
        if c.weight_decay != 0.0 && !c.decouple {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let x_sliced = self.sliced(&step.params, step.layout);
        let x0 = self.x0.take().unwrap_or_else(|| x_sliced.clone());
        let mut m = if b1 > 0.0 {
            Some(self.m.take().unwrap_or_else(|| g.zeros_like()))
        } else {
            None
        };
        let mut v = self.v.take().unwrap_or_else(|| g.zeros_like());
        let mut s = self.s.take().unwrap_or_else(|| x_sliced.zeros_like());
        let mut d_denom = 0.0;
        if lr > 0.0 {
            let g_sliced = self.sliced(&g, step.layout);
            numerator += (d / d0) * dlr * ops::dot_in_lanes(&g_sliced, &(x0.clone() - x_sliced));
            m = m.map(|m| m.mul_scalar(b1) + g.clone().mul_scalar(d * (1.0 - b1)));
            v = v.mul_scalar(b2) + g.clone().square().mul_scalar(d * d * (1.0 - b2));
            let weight = if c.safeguard_warmup {
                (d / d0) * d
            } else {
                (d / d0) * dlr
            };
            s = s.mul_scalar(b3) + g_sliced.mul_scalar(weight);
            d_denom = ops::l1_in_lanes(&s);
        }
        (self.m, self.v, self.s, self.x0) = (m.clone(), Some(v.clone()), Some(s), Some(x0));
        if d_denom == 0.0 {
            return Ok(step.params);
        }
        let (d_next, d_max) = if lr > 0.0 {
            self.next_d(numerator, d_denom)
        } else {
            (d, self.d_max)
        };
        let denom = v.sqrt().add_scalar(d_next * c.eps);
        let mut x = step.params;
        if c.weight_decay != 0.0 && c.decouple {
            x = x.clone() - x.mul_scalar(c.weight_decay * dlr);
        }
        let update = match m {
            Some(m) => m.div(denom).mul_scalar(dlr),
            None => g.div(denom).mul_scalar(dlr * d),
        };
        (self.numerator, self.d, self.d_max) = (numerator, d_next, d_max);
        self.k += 1;
        self.last = Some((d * lr, d));
        self.diagnose(numerator, d_denom, lr, grad_sq);
        Ok(x - update)
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
        .with_scalar("d_max", self.d_max)
        .with_scalar("numerator", self.numerator)
        .with_tensor("m", self.m.as_ref())
        .with_tensor("v", self.v.as_ref())
        .with_tensor("s", self.s.as_ref())
        .with_tensor("x0", self.x0.as_ref())
        .with_diagnostics(self.last_diagnostics)
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let (m, v) = (state.tensor("m", device)?, state.tensor("v", device)?);
        let (s, x0) = (state.tensor("s", device)?, state.tensor("x0", device)?);
        let [k, d, d_max, numerator] = state.scalars(["steps", "d", "d_max", "numerator"])?;
        let last = state.last()?;
        self.last_diagnostics = state.diagnostics();
        self.layout = state.layout;
        (self.m, self.v, self.s, self.x0, self.slice) = (m, v, s, x0, None);
        (self.k, self.d, self.d_max, self.numerator) = (k as u64, d, d_max, numerator);
        self.last = last;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}

impl Prodigy {
    /// Keep what moved D at this step: the numerator r, `d_denom = ||s||_1`, the d̂ it proposed
    /// (when `lr > 0`) and `||g||`.
    fn diagnose(&mut self, numerator: f64, d_denom: f64, lr: f64, grad_sq: f64) {
        self.last_diagnostics = Some(Diagnostics {
            numerator: Some(numerator),
            s_norm: Some(d_denom),
            d_hat: (lr > 0.0).then(|| self.config.d_coef * numerator / d_denom),
            g0_norm: None,
            grad_norm: Some(grad_sq.sqrt()),
        });
    }

    /// (D, D_max) for the next step, with `d̂ = d_coef·r / d_denom`: D moves only while it is
    /// still `d0`, D_max follows d̂, and the growth rate caps both. The one formula of the tensor
    /// and fused paths.
    fn next_d(&self, numerator: f64, d_denom: f64) -> (f64, f64) {
        let (c, d) = (&self.config, self.d);
        let d_hat = c.d_coef * numerator / d_denom;
        let mut d_next = d;
        if d == c.d0 {
            d_next = d.max(d_hat);
        }
        let d_max = self.d_max.max(d_hat);
        (d_max.min(d_next * c.growth_rate), d_max)
    }

    /// Whether this step takes the fused CPU path ([`Self::step_fused`]): the fused kernels apply
    /// (`fused::fused_cpu_applies`), `lr > 0` (otherwise the step changes nothing but `k`),
    /// `slice_p = 1`, `β1 > 0`, and the state is there (not on the first step) in the
    /// parameters' dtype and length. `slice_p > 1` (a gathered subset) and `β1 = 0` (no first
    /// moment) take the tensor path.
    fn fused_applies(&self, step: &FlatStep<'_>) -> bool {
        let like = fused::state_like(&step.params);
        fused::fused_cpu_applies(&step.params)
            && step.lr > 0.0
            && self.config.slice_p <= 1
            && self.config.betas[0] > 0.0
            && like(Some(&step.grads))
            && [&self.m, &self.v, &self.s, &self.x0]
                .into_iter()
                .all(|t| like(t.as_ref()))
    }

    /// The tensor path's step as two passes over the host buffers, op for op, so the results
    /// are bit-identical (`tests/fused.rs`). Pass 1 updates the moments and `s` and sums
    /// `g·(x0 − x)` and `|s|` as it goes, in the tensor path's order (`crate::lanes`); pass 2
    /// steps the parameters, with the denominator `√v + D·eps` of the new D. `dlr` is `d·lr`,
    /// bias-corrected.
    fn step_fused<T: Real>(
        &mut self,
        step: FlatStep<'_>,
        dlr: f64,
        [mut m, mut v, mut s, mut x0]: [TensorData; 4],
        grad_sq: f64,
    ) -> Tensor<1> {
        let c = &self.config;
        let device = step.params.device();
        let [b1, b2] = c.betas;
        let b3 = c.beta3.unwrap_or(b2.sqrt());
        let (lr, d, d0) = (step.lr, self.d, c.d0);
        let mut p = fused::host(step.params);
        let mut g = fused::host(step.grads);

        if c.weight_decay != 0.0 && !c.decouple {
            let wd = T::of(c.weight_decay);
            fused::add_decay::<T>(fused::slice_mut(&mut g), fused::slice_mut(&mut p), wd);
        }
        let weight = if c.safeguard_warmup {
            (d / d0) * d
        } else {
            (d / d0) * dlr
        };
        let k = Moments {
            b1: T::of(b1),
            m_g: T::of(d * (1.0 - b1)),
            b2: T::of(b2),
            v_g: T::of(d * d * (1.0 - b2)),
            b3: T::of(b3),
            s_g: T::of(weight),
        };
        let [g_dot_diff, d_denom] = moments_pass::<T>(
            &k,
            [&mut p, &mut g, &mut x0].map(|d| &*fused::slice_mut::<T>(d)),
            [&mut m, &mut v, &mut s].map(fused::slice_mut::<T>),
        );
        let numerator = self.numerator * b3 + (d / d0) * dlr * g_dot_diff;
        (self.s, self.x0) = (
            Some(fused::tensor(s, &device)),
            Some(fused::tensor(x0, &device)),
        );
        if d_denom == 0.0 {
            // As the tensor path: moments updated, parameters, D and k not.
            (self.m, self.v) = (
                Some(fused::tensor(m, &device)),
                Some(fused::tensor(v, &device)),
            );
            return fused::tensor(p, &device);
        }
        let (d_next, d_max) = self.next_d(numerator, d_denom);

        // Pass 2: x ← x [− x·wd·dlr] − (m / (√v + D·eps))·dlr, with the new D.
        let (eps, decay, dlr_t) = (
            T::of(d_next * c.eps),
            T::of(c.weight_decay * dlr),
            T::of(dlr),
        );
        let decouple = c.weight_decay != 0.0 && c.decouple;
        step_pass::<T>(
            fused::slice_mut(&mut p),
            [&mut m, &mut v].map(|d| &*fused::slice_mut::<T>(d)),
            decouple,
            [eps, decay, dlr_t],
        );
        (self.m, self.v) = (
            Some(fused::tensor(m, &device)),
            Some(fused::tensor(v, &device)),
        );
        (self.numerator, self.d, self.d_max) = (numerator, d_next, d_max);
        self.k += 1;
        self.last = Some((d * lr, d));
        self.diagnose(numerator, d_denom, lr, grad_sq);
        fused::tensor(p, &device)
    }
}

/// The moment weights of one fused step, rounded to `T` as the tensor path's scalar ops round
/// them.
struct Moments<T> {
    b1: T,
    /// d·(1−β1)
    m_g: T,
    b2: T,
    /// d²·(1−β2)
    v_g: T,
    b3: T,
    /// (d/d0)·d·lr (or (d/d0)·d under `safeguard_warmup`)
    s_g: T,
}

/// Pass 1 of the fused step: from `[x, g, x0]` updates `[m, v, s]` in place and returns
/// `[Σ g·(x0 − x), Σ |s|]` (new `s`), summed in the tensor path's order (`crate::lanes`).
/// Block by block: an indexed loop over slices cut to one length, which the compiler
/// vectorises without bounds checks (with AVX2 where the CPU has it, `fused.rs`), leaves
/// `x0 − x` in an L1-sized scratch block; then the lanes take the block.
#[multiversion(targets("x86_64+avx2"))]
fn moments_pass<T: Real>(
    k: &Moments<T>,
    [x, g, x0]: [&[T]; 3],
    [m, v, s]: [&mut [T]; 3],
) -> [f64; 2] {
    let n = x.len();
    let (mut g_dot_diff, mut s_l1) = (Lanes::new(), Lanes::new());
    let mut diff = [T::of(0.0); BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let len = end - start;
        let (x, g, x0) = (&x[start..end], &g[start..end], &x0[start..end]);
        let (m, v, s) = (&mut m[start..end], &mut v[start..end], &mut s[start..end]);
        let diff = &mut diff[..len];
        for i in 0..len {
            let gi = g[i];
            diff[i] = x0[i] - x[i];
            m[i] = m[i] * k.b1 + gi * k.m_g;
            v[i] = v[i] * k.b2 + (gi * gi) * k.v_g;
            s[i] = s[i] * k.b3 + gi * k.s_g;
        }
        g_dot_diff.add_products(g, diff);
        s_l1.add_abs(s);
    }
    [g_dot_diff.total(), s_l1.total()]
}

/// Pass 2 of the fused step: `x ← x [− x·decay] − (m / (√v + eps))·dlr`, with AVX2 where
/// the CPU has it (`fused.rs`).
#[multiversion(targets("x86_64+avx2"))]
fn step_pass<T: Real>(p: &mut [T], [m, v]: [&[T]; 2], decouple: bool, [eps, decay, dlr]: [T; 3]) {
    let n = p.len();
    let (m, v) = (&m[..n], &v[..n]);
    for i in 0..n {
        let x = if decouple { p[i] - p[i] * decay } else { p[i] };
        p[i] = x - (m[i] / (v[i].sqrt() + eps)) * dlr;
    }
}
