//! Parameter scaling shared by the PS methods (Suh & Seo 2024, as the [`ps_sps`](crate::ps_sps)
//! and [`ps_da_sgd`](crate::ps_da_sgd) pages define it).
//!
//! Adam's step `g / (√v̂ + eps)` is steepest descent on the network `w' = a ⊙ w` with
//! `a² = √v̂ + eps`. The PS methods feed their SGD parent the scaled gradient `g' = g / a` and
//! map its step back with one more `/ a`.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::fused::{self, Real};

/// How the scaling vector `a` is formed from the gradient's second moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// `a = sqrt(sqrt(v̂) + eps)`, `v̂` Adam's bias-corrected second moment.
    #[default]
    Adam,
    /// As `adam`, with `v̂` replaced by its running maximum (the paper's convergence proof).
    Amsgrad,
    /// `a = 1`: the method is exactly its steepest-descent parent.
    None,
}

/// The second-moment state behind the scaling.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScaleState {
    pub v: Option<Tensor<1>>,
    pub v_hat_max: Option<Tensor<1>>,
}

impl ScaleState {
    /// Whether the scaling state a fused step reads is there (`like`: present, in the
    /// parameters' dtype and length, `fused::state_like`): `v`, and `v_hat_max` under amsgrad.
    /// Never with `scaling = none`, which the fused paths leave to the tensor ops.
    pub(crate) fn fused_ready(
        &self,
        scaling: Scaling,
        like: impl Fn(Option<&Tensor<1>>) -> bool,
    ) -> bool {
        scaling != Scaling::None
            && like(self.v.as_ref())
            && (scaling != Scaling::Amsgrad || like(self.v_hat_max.as_ref()))
    }

    /// The state's buffers for a fused step (`v`, and `v_hat_max` under amsgrad), taken out of
    /// the tensors without copying, all or none (`None`: nothing taken, take the tensor path);
    /// [`Self::put_host`] puts them back.
    pub(crate) fn take_host(
        &mut self,
        scaling: Scaling,
    ) -> Option<(TensorData, Option<TensorData>)> {
        match scaling {
            Scaling::Amsgrad => fused::take_all([&mut self.v, &mut self.v_hat_max])
                .map(|[v, v_hat_max]| (v, Some(v_hat_max))),
            _ => fused::take_all([&mut self.v]).map(|[v]| (v, None)),
        }
    }

    /// The buffers of [`Self::take_host`], updated, as the state's tensors on `device` again.
    pub(crate) fn put_host(
        &mut self,
        v: TensorData,
        v_hat_max: Option<TensorData>,
        device: &Device,
    ) {
        *self = ScaleState {
            v: Some(fused::tensor(v, device)),
            v_hat_max: v_hat_max.map(|m| fused::tensor(m, device)),
        };
    }
}

/// Options the scaling needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaleOptions {
    pub scaling: Scaling,
    pub beta2: f64,
    pub eps: f64,
    /// Constant multiplier of `a` (1 in normal use; the uniform-scaling property P3 varies it).
    pub gain: f64,
}

impl ScaleOptions {
    /// `a_k` for gradient `g` at step `k` (0-based), and the state after it. `None` means `a = 1`.
    pub(crate) fn scale(
        &self,
        g: &Tensor<1>,
        k: u64,
        state: &ScaleState,
    ) -> (Option<Tensor<1>>, ScaleState) {
        if self.scaling == Scaling::None {
            return (None, state.clone());
        }
        let v = match &state.v {
            Some(v) => {
                v.clone().mul_scalar(self.beta2) + g.clone().square().mul_scalar(1.0 - self.beta2)
            }
            None => g.clone().square().mul_scalar(1.0 - self.beta2),
        };
        let mut v_hat = v.clone().div_scalar(1.0 - self.beta2.powf((k + 1) as f64));
        let mut v_hat_max = None;
        if self.scaling == Scaling::Amsgrad {
            if let Some(prev) = &state.v_hat_max {
                v_hat = prev.clone().max_pair(v_hat);
            }
            v_hat_max = Some(v_hat.clone());
        }
        let mut a = v_hat.sqrt().add_scalar(self.eps).sqrt();
        if self.gain != 1.0 {
            a = a.mul_scalar(self.gain);
        }
        (
            Some(a),
            ScaleState {
                v: Some(v),
                v_hat_max,
            },
        )
    }
}

/// [`ScaleOptions::scale`] one element at a time, for the fused CPU kernels (`fused.rs`): the
/// same operations in the same order, each constant rounded to `T` as the tensor op rounds it
/// (flex's scalar ops compute `x ∘ (c as T)`; `div_scalar` divides, it does not multiply by 1/c).
/// For steps after the first only: the first has no `v·β2` term.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaleKernel<T> {
    beta2: T,
    one_minus_beta2: T,
    /// 1 − β2^(k+1)
    bias_correction: T,
    eps: T,
    gain: T,
}

impl ScaleOptions {
    /// The constants of step `k` (0-based) for [`ScaleKernel`].
    pub(crate) fn kernel<T: Real>(&self, k: u64) -> ScaleKernel<T> {
        ScaleKernel {
            beta2: T::of(self.beta2),
            one_minus_beta2: T::of(1.0 - self.beta2),
            bias_correction: T::of(1.0 - self.beta2.powf((k + 1) as f64)),
            eps: T::of(self.eps),
            gain: T::of(self.gain),
        }
    }
}

impl<T: Real> ScaleKernel<T> {
    /// The scaling over whole buffers, in one loop: `v` (and `v̂_max`, given under amsgrad),
    /// `g ← g/a`, and `each(i, a_i, g'_i)` for what the method does with `a` in that same loop.
    /// Indexed loops over slices cut to one length, so that the compiler drops the bounds
    /// checks and vectorises (division and square root included).
    #[inline(always)]
    pub(crate) fn scale(
        &self,
        g: &mut [T],
        v: &mut [T],
        v_hat_max: Option<&mut [T]>,
        each: impl FnMut(usize, T, T),
    ) {
        match v_hat_max {
            Some(m) => self.scale_loop::<true>(g, v, m, each),
            None => self.scale_loop::<false>(g, v, &mut [], each),
        }
    }

    #[inline(always)]
    fn scale_loop<const AMS: bool>(
        &self,
        g: &mut [T],
        v: &mut [T],
        v_hat_max: &mut [T],
        mut each: impl FnMut(usize, T, T),
    ) {
        let n = g.len();
        let v = &mut v[..n];
        let v_hat_max = if AMS { &mut v_hat_max[..n] } else { v_hat_max };
        for i in 0..n {
            let mut v_hat = self.second_moment(g[i], &mut v[i]);
            if AMS {
                v_hat = Self::running_max(v_hat, &mut v_hat_max[i]);
            }
            let a = self.a(v_hat);
            g[i] = g[i] / a;
            each(i, a, g[i]);
        }
    }

    /// `v ← v·β2 + g²·(1−β2)`; returns `v̂ = v / (1−β2^(k+1))`.
    #[inline(always)]
    pub(crate) fn second_moment(&self, g: T, v: &mut T) -> T {
        *v = *v * self.beta2 + (g * g) * self.one_minus_beta2;
        *v / self.bias_correction
    }

    /// AMSGrad: `v̂_max ← max_pair(v̂_max, v̂)`, which takes `v̂` only where `v̂_max < v̂`;
    /// returns the new `v̂_max`.
    #[inline(always)]
    pub(crate) fn running_max(v_hat: T, v_hat_max: &mut T) -> T {
        if *v_hat_max < v_hat {
            *v_hat_max = v_hat;
        }
        *v_hat_max
    }

    /// `a = sqrt(sqrt(v̂) + eps)·gain`. The tensor path multiplies only when `gain ≠ 1`; `x·1`
    /// is exact, so no branch is needed here.
    #[inline(always)]
    pub(crate) fn a(&self, v_hat: T) -> T {
        (v_hat.sqrt() + self.eps).sqrt() * self.gain
    }
}

/// `t / a`, or `t` where `a = 1`.
pub(crate) fn div_opt(t: Tensor<1>, a: &Option<Tensor<1>>) -> Tensor<1> {
    match a {
        Some(a) => t.div(a.clone()),
        None => t,
    }
}
