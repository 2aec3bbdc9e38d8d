//! Stepping any Burn [`Module`]: flatten its parameters and gradients, step, write back.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::api::{FlatStep, Layout, LrFreeOptimizer, TensorSlot};
use crate::error::OptimError;

/// Gathers, in visit order, every float parameter that has a gradient.
struct Gather<'a> {
    grads: &'a GradientsParams,
    layout: Layout,
    ids: Vec<ParamId>,
    params: Vec<Tensor<1>>,
    flat_grads: Vec<Tensor<1>>,
}

impl ModuleVisitor for Gather<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.grads.get::<D>(param.id) else {
            return;
        };
        let value: Tensor<D> = (**param).clone().inner();
        let shape = value.shape().to_vec();
        let n = shape.iter().product::<usize>();
        self.layout.tensors.push(TensorSlot {
            name: param.id.to_string(),
            shape,
        });
        self.ids.push(param.id);
        self.params.push(value.reshape([n]));
        self.flat_grads.push(grad.inner().reshape([n]));
    }
}

/// Writes the updated flat pieces back, keeping each parameter's autodiff settings.
struct Scatter {
    updated: HashMap<ParamId, Tensor<1>>,
}

impl ModuleMapper for Scatter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(flat) = self.updated.remove(&param.id) else {
            return param;
        };
        let (id, old, mapper) = param.consume();
        let require_grad = old.is_require_grad();
        let checkpointing = old.gradient_checkpointing_strategy();
        let mut value: Tensor<D> = flat.reshape(old.shape());
        if let Some(strategy) = checkpointing {
            // The parameter lived on an autodiff device: put it back there, as Burn's own optimizers do.
            value = Tensor::from_inner(value).with_gradient_checkpointing_strategy(strategy);
            if require_grad {
                value = value.require_grad();
            }
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

/// A step that was refused: the module comes back untouched, with the reason. The
/// optimizer's state is unchanged too, so the caller can skip the batch, stop the run, or
/// convert with `?` into [`OptimError`] when the module is not needed any more.
#[derive(Debug)]
pub struct Rejected<M> {
    /// The module, as it was handed in.
    pub module: M,
    /// Why the step was refused.
    pub error: OptimError,
}

impl<M> std::fmt::Display for Rejected<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<M: std::fmt::Debug> std::error::Error for Rejected<M> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<M> From<Rejected<M>> for OptimError {
    fn from(rejected: Rejected<M>) -> Self {
        rejected.error
    }
}

/// Steps a whole Burn module with any optimizer of this crate.
///
/// Implemented for every [`LrFreeOptimizer`], boxed or not:
/// ```text
/// let grads = GradientsParams::from_grads(loss.backward(), &model);
/// model = optimizer.step(1.0, model, grads)?;
/// ```
pub trait StepModule {
    /// One step; `lr` is the reference's learning rate (a multiplier, 1.0, for the
    /// learning-rate-free methods). Parameters without a gradient are left alone, but the set
    /// of parameters with gradients must stay the same from step to step.
    fn step<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
    ) -> Result<M, Rejected<M>>;

    /// One step of a method that needs the mini-batch loss (`sps`, `ps-sps`); the others ignore it.
    fn step_with_loss<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        loss: f64,
    ) -> Result<M, Rejected<M>>;
}

impl<O: LrFreeOptimizer + ?Sized> StepModule for O {
    fn step<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
    ) -> Result<M, Rejected<M>> {
        step_module(self, lr, module, grads, None)
    }

    fn step_with_loss<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        loss: f64,
    ) -> Result<M, Rejected<M>> {
        step_module(self, lr, module, grads, Some(loss))
    }
}

fn step_module<O: LrFreeOptimizer + ?Sized, M: Module>(
    opt: &mut O,
    lr: f64,
    module: M,
    grads: GradientsParams,
    loss: Option<f64>,
) -> Result<M, Rejected<M>> {
    let mut gather = Gather {
        grads: &grads,
        layout: Layout::default(),
        ids: Vec::new(),
        params: Vec::new(),
        flat_grads: Vec::new(),
    };
    module.visit(&mut gather);
    let Gather {
        layout,
        ids,
        params,
        flat_grads,
        ..
    } = gather;
    if ids.is_empty() {
        return Err(Rejected {
            module,
            error: OptimError::NoGradients,
        });
    }
    let params = concat(params);
    let flat_grads = concat(flat_grads);
    let updated = match opt.step_flat(FlatStep {
        lr,
        params,
        grads: flat_grads,
        layout: &layout,
        loss,
    }) {
        Ok(updated) => updated,
        Err(error) => return Err(Rejected { module, error }),
    };
    let pieces = if ids.len() == 1 {
        vec![updated]
    } else {
        updated.split_with_sizes(layout.sizes(), 0)
    };
    let mut scatter = Scatter {
        updated: ids.into_iter().zip(pieces).collect(),
    };
    Ok(module.map(&mut scatter))
}

fn concat(mut parts: Vec<Tensor<1>>) -> Tensor<1> {
    if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Tensor::cat(parts, 0)
    }
}
