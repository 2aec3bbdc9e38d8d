//! Parameter scaling shared by the PS methods (`../shared/spec/ps-methods.md`).
//!
//! Adam's step `g / (√v̂ + eps)` is steepest descent on the network `w' = a ⊙ w` with
//! `a² = √v̂ + eps`. The PS methods feed their SGD parent the scaled gradient `g' = g / a` and
//! map its step back with one more `/ a`.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

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
    pub(crate) fn scale(&self, g: &Tensor<1>, k: u64, state: &ScaleState) -> (Option<Tensor<1>>, ScaleState) {
        if self.scaling == Scaling::None {
            return (None, state.clone());
        }
        let v = match &state.v {
            Some(v) => v.clone().mul_scalar(self.beta2) + g.clone().square().mul_scalar(1.0 - self.beta2),
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
        (Some(a), ScaleState { v: Some(v), v_hat_max })
    }
}

/// `t / a`, or `t` where `a = 1`.
pub(crate) fn div_opt(t: Tensor<1>, a: &Option<Tensor<1>>) -> Tensor<1> {
    match a {
        Some(a) => t.div(a.clone()),
        None => t,
    }
}
