//! The common interface of all eleven optimizers.
//!
//! Burn 0.22's `Optimizer` trait works one tensor at a time, which cannot express methods that
//! need global reductions (norms and inner products over *all* parameters) before any parameter
//! moves. Every optimizer of this crate therefore works on the model's parameters
//! concatenated into one flat vector ([`LrFreeOptimizer::step_flat`]); the
//! [`StepModule`](crate::StepModule) extension does the flattening for any Burn
//! [`Module`](burn::module::Module). Working flat also means each element-wise operation runs
//! once per step instead of once per tensor, which is what makes these methods cheap on CPU.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{OptimError, Result};
use crate::state::OptimState;

/// One parameter tensor's place in the flat vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSlot {
    /// The parameter's id (Burn `ParamId` as text) or a positional name.
    pub name: String,
    /// The tensor's shape.
    pub shape: Vec<usize>,
}

impl TensorSlot {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// How the flat parameter vector splits into the model's tensors, in module visit order.
///
/// Per-tensor methods (LDoG, Prodigy's `slice_p`) need it; the others use it only to check that
/// every step sees the same model. Two layouts are the same model when their shapes match:
/// parameter ids are kept for information only, so a model rebuilt from a checkpoint (with
/// new ids) can keep its optimizer state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Layout {
    /// The tensors, in order.
    pub tensors: Vec<TensorSlot>,
}

impl Layout {
    /// A layout of one flat tensor of `n` elements (for direct use of `step_flat`).
    pub fn flat(n: usize) -> Self {
        Self::from_sizes(&[n])
    }

    /// A layout of 1-D tensors with the given sizes, named by position.
    pub fn from_sizes(sizes: &[usize]) -> Self {
        Self {
            tensors: sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| TensorSlot {
                    name: format!("tensor{i}"),
                    shape: vec![n],
                })
                .collect(),
        }
    }

    /// Total number of elements.
    pub fn numel(&self) -> usize {
        self.tensors.iter().map(TensorSlot::numel).sum()
    }

    /// Number of elements of each tensor.
    pub fn sizes(&self) -> Vec<usize> {
        self.tensors.iter().map(TensorSlot::numel).collect()
    }

    /// Whether `other` describes the same shapes (ids are not compared).
    pub fn same_shapes(&self, other: &Layout) -> bool {
        self.tensors.len() == other.tensors.len()
            && self
                .tensors
                .iter()
                .zip(&other.tensors)
                .all(|(a, b)| a.shape == b.shape)
    }

    /// A short human-readable summary, for error messages.
    pub fn summary(&self) -> String {
        let shapes: Vec<String> = self
            .tensors
            .iter()
            .map(|t| format!("{:?}", t.shape))
            .collect();
        format!(
            "{} tensors ({} values) {}",
            self.tensors.len(),
            self.numel(),
            shapes.join(" ")
        )
    }

    /// Record `layout` as the one this optimizer works on, or check it against the recorded one.
    pub(crate) fn bind(
        slot: &mut Option<Layout>,
        layout: &Layout,
        optimizer: &'static str,
    ) -> Result<()> {
        match slot {
            Some(bound) if !bound.same_shapes(layout) => Err(OptimError::LayoutMismatch {
                optimizer,
                expected: bound.summary(),
                found: layout.summary(),
            }),
            Some(_) => Ok(()),
            None => {
                *slot = Some(layout.clone());
                Ok(())
            }
        }
    }
}

/// Everything one step needs, on the flat vector.
#[derive(Debug, Clone)]
pub struct FlatStep<'a> {
    /// The learning rate, with the reference's meaning: the step size for `sgd` and `adam`,
    /// a multiplier of the estimated step (default 1.0) for the learning-rate-free methods.
    pub lr: f64,
    /// All parameters, concatenated (1-D).
    pub params: Tensor<1>,
    /// Their gradients, in the same order.
    pub grads: Tensor<1>,
    /// How the flat vector splits into tensors.
    pub layout: &'a Layout,
    /// The mini-batch loss at `params` (required by `sps` and `ps-sps`, ignored by the rest).
    pub loss: Option<f64>,
}

impl FlatStep<'_> {
    /// Check lengths and that the gradient is finite; return `||g||²` (f64), which most methods need.
    pub(crate) fn checked_grad_sq_norm(&self, optimizer: &'static str) -> Result<f64> {
        let (params, grads) = (
            self.params.shape().num_elements(),
            self.grads.shape().num_elements(),
        );
        if params != grads || params != self.layout.numel() {
            return Err(OptimError::LengthMismatch {
                optimizer,
                params,
                grads,
            });
        }
        let sq = crate::ops::sq_norm(&self.grads);
        if !sq.is_finite() && !crate::ops::all_finite(&self.grads) {
            return Err(OptimError::NonFiniteGradient { optimizer });
        }
        Ok(sq)
    }

    /// Admit this step for `optimizer`: check lengths and gradient (as
    /// [`checked_grad_sq_norm`](Self::checked_grad_sq_norm)) and that the layout is the one the
    /// state in `layout_slot` was built for (recording it on the first step). Returns `||g||²`.
    pub(crate) fn admit(
        &self,
        optimizer: &'static str,
        layout_slot: &mut Option<Layout>,
    ) -> Result<f64> {
        let sq = self.checked_grad_sq_norm(optimizer)?;
        Layout::bind(layout_slot, self.layout, optimizer)?;
        Ok(sq)
    }

    /// The loss, which Polyak-type methods cannot do without.
    pub(crate) fn required_loss(&self, optimizer: &'static str) -> Result<f64> {
        match self.loss {
            None => Err(OptimError::LossRequired { optimizer }),
            Some(loss) if !loss.is_finite() => Err(OptimError::NonFiniteLoss { optimizer, loss }),
            Some(loss) => Ok(loss),
        }
    }
}

/// What an optimizer estimated at its last step: the quantity the paper plots and the
/// runner watches for divergence. The meanings are those the golden reference trajectories
/// record for each method (the `lr` and `d` columns of the `lrfree-golden/1` files).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The learning rate the last step used, in the method's own sense (Adam-equivalent for
    /// D-Adapt Adam, Prodigy and the PS methods; the SGD step for SGD, SPS, DoG, D-Adapt SGD;
    /// the largest per-tensor step for LDoG). `None` before the first step and for COCOB,
    /// which has no scalar rate.
    pub lr: Option<f64>,
    /// The distance estimate D the last step used (methods with a D only).
    pub d: Option<f64>,
    /// D after the last step, i.e. the value the next step starts from.
    pub d_next: Option<f64>,
    /// Per-tensor step sizes (LDoG only), in layout order.
    pub per_tensor_lr: Option<Vec<f64>>,
    /// Steps taken so far (skipped steps not counted).
    pub steps: u64,
    /// The D-Adaptation internals of the last step (D-Adapt SGD/Adam, Prodigy, PS-DA-SGD,
    /// PS-SPS); `None` for the other methods and before the first step.
    #[serde(default)]
    pub diagnostics: Option<Diagnostics>,
}

/// What moved D at the last step: the quantities behind the estimate of the D-Adaptation
/// family, for explaining a jump of D or a collapse (issue 25). All but
/// [`grad_norm`](Self::grad_norm) are scalars the step computes anyway, so they are always
/// kept; `grad_norm` costs one more reduction for PS-DA-SGD and is measured only after
/// [`LrFreeOptimizer::set_diagnostics`] turned it on. Fields a method has no use for are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// The numerator r of D's lower bound after the step (D-Adapt SGD and PS-DA-SGD:
    /// `Σ λ⟨g, s⟩`; D-Adapt Adam and Prodigy: their decayed sums; PS-SPS: `f_k − f*`).
    pub numerator: Option<f64>,
    /// The norm of `s` after the step that d̂ divides by: ‖s‖₂ for D-Adapt SGD and PS-DA-SGD,
    /// ‖s‖₁ for D-Adapt Adam and Prodigy (their denominators, as the references compute them).
    pub s_norm: Option<f64>,
    /// The lower bound d̂ this step proposed, before the `max` with D and the growth cap
    /// (`None` while `s = 0`).
    pub d_hat: Option<f64>,
    /// G, the first gradient's norm as the step used it (D-Adapt SGD; PS-DA-SGD after transport).
    pub g0_norm: Option<f64>,
    /// The norm of the gradient the method works on at this step: the scaled `g' = g/a` for the
    /// PS methods (with weight decay added, for PS-DA-SGD), the raw gradient for the others.
    pub grad_norm: Option<f64>,
}

impl Estimate {
    /// The estimate of a method with a distance estimate D: `last` is the (learning rate, D)
    /// of the last step (`None` before the first), `d_next` the D the next step starts from.
    pub fn with_d(last: Option<(f64, f64)>, d_next: f64, steps: u64) -> Self {
        Estimate {
            lr: last.map(|l| l.0),
            d: last.map(|l| l.1),
            d_next: last.map(|_| d_next),
            steps,
            per_tensor_lr: None,
            diagnostics: None,
        }
    }

    /// This estimate with the last step's [`Diagnostics`] attached.
    pub fn with_diagnostics(self, diagnostics: Option<Diagnostics>) -> Self {
        Estimate {
            diagnostics,
            ..self
        }
    }
}

/// The estimated learning rate, reported by every optimizer of this crate.
pub trait LrEstimate {
    /// What the last step estimated.
    fn estimate(&self) -> Estimate;
}

/// One interface for all eleven optimizers, object safe so callers can hold any of them as
/// `Box<dyn LrFreeOptimizer>` (see [`registry`](crate::registry)).
pub trait LrFreeOptimizer: LrEstimate + Send {
    /// The registry name (`ps-da-sgd`, `dadapt-adam`, ...).
    fn name(&self) -> &'static str;

    /// Whether [`FlatStep::loss`] must be given (`sps`, `ps-sps`).
    fn needs_loss(&self) -> bool {
        false
    }

    /// One step on the flat parameter vector; returns the new parameters.
    ///
    /// On error (non-finite gradient, missing loss, layout change) the state is left unchanged.
    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>>;

    /// The optimizer's complete state, for checkpoints.
    fn save_state(&self) -> OptimState;

    /// Restore a state saved by [`save_state`](Self::save_state) of the same optimizer; its
    /// tensors are placed on `device`. A state of another optimizer is an error.
    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()>;

    /// Forget all state, as if freshly built from the same configuration.
    fn reset(&mut self);

    /// Measure the [`Diagnostics`] that cost work of their own (the gradient norm of PS-DA-SGD)
    /// from the next step on, or stop. Off when built; methods without diagnostics ignore it.
    fn set_diagnostics(&mut self, _on: bool) {}
}

/// A boxed optimizer (from the [`registry`](crate::registry)) is an optimizer too, so it can be
/// wrapped in a [`ModuleOptimizer`](crate::ModuleOptimizer).
impl<T: LrEstimate + ?Sized> LrEstimate for Box<T> {
    fn estimate(&self) -> Estimate {
        (**self).estimate()
    }
}

impl<T: LrFreeOptimizer + ?Sized> LrFreeOptimizer for Box<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn needs_loss(&self) -> bool {
        (**self).needs_loss()
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        (**self).step_flat(step)
    }

    fn save_state(&self) -> OptimState {
        (**self).save_state()
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        (**self).load_state(state, device)
    }

    fn reset(&mut self) {
        (**self).reset()
    }

    fn set_diagnostics(&mut self, on: bool) {
        (**self).set_diagnostics(on)
    }
}
