//! Stepping any Burn [`Module`]: flatten its parameters and gradients, step, write back.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use std::path::Path;

use burn::tensor::Device;

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer, TensorSlot};
use crate::error::{OptimError, Result};
use crate::state::OptimState;

/// Where the gradients of a step come from: Burn's map, or flat pieces already taken out of
/// it by parameter id (the burn-train adapter, [`crate::train`]).
pub(crate) enum Grads<'a> {
    /// Burn's gradients, by parameter.
    Params(&'a GradientsParams),
    /// Flat (1-D) gradients by parameter id; taken out as they are gathered.
    Flat(HashMap<ParamId, Tensor<1>>),
}

/// Gathers, in visit order, every float parameter that has a gradient.
struct Gather<'a> {
    grads: Grads<'a>,
    layout: Layout,
    ids: Vec<ParamId>,
    params: Vec<Tensor<1>>,
    flat_grads: Vec<Tensor<1>>,
}

impl ModuleVisitor for Gather<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value: Tensor<D> = (**param).clone().inner();
        let shape = value.shape().to_vec();
        let n = shape.iter().product::<usize>();
        let grad = match &mut self.grads {
            Grads::Params(grads) => grads.get::<D>(param.id).map(|g| g.inner().reshape([n])),
            Grads::Flat(grads) => grads.remove(&param.id),
        };
        let Some(grad) = grad else {
            return;
        };
        self.layout.tensors.push(TensorSlot {
            name: param.id.to_string(),
            shape,
        });
        self.ids.push(param.id);
        self.params.push(value.reshape([n]));
        self.flat_grads.push(grad);
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

/// Steps a whole Burn module with a bare optimizer, handing a refused step back as an error
/// (for runners that stop on the first one). [`ModuleOptimizer`] is the Burn-style interface.
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
    step_module_from(opt, lr, module, Grads::Params(&grads), loss)
}

fn step_module_from<O: LrFreeOptimizer + ?Sized, M: Module>(
    opt: &mut O,
    lr: f64,
    module: M,
    grads: Grads<'_>,
    loss: Option<f64>,
) -> Result<M, Rejected<M>> {
    let mut gather = Gather {
        grads,
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

/// An optimizer of this crate, stepping Burn modules the way Burn's own optimizers do:
/// `model = optim.step(lr, model, grads)`. Built by a config's
/// [`init`](crate::LrFreeConfig::init) or from the registry
/// ([`OptimizerConfig::init`](crate::registry::OptimizerConfig::init)).
///
/// A refused step (a NaN or infinite gradient, a missing loss for SPS/PS-SPS, a model whose
/// shapes changed) returns the module unchanged and leaves the optimizer's state as it was; the
/// reason is kept for inspection afterwards ([`last_rejection`](Self::last_rejection),
/// [`rejected_steps`](Self::rejected_steps)) instead of being handled at every call.
#[derive(Debug)]
pub struct ModuleOptimizer<O> {
    /// The optimizer, or why its configuration was refused.
    inner: std::result::Result<O, OptimError>,
    last_rejection: Option<OptimError>,
    rejected_steps: u64,
}

impl<O: LrFreeOptimizer> ModuleOptimizer<O> {
    /// Wrap a bare optimizer.
    pub fn new(optimizer: O) -> Self {
        Self::from_build(Ok(optimizer))
    }

    /// The result of building from a configuration: an invalid one refuses every step with
    /// its error (the infallible `init` of the configs and the registry).
    pub(crate) fn from_build(built: Result<O>) -> Self {
        Self {
            inner: built,
            last_rejection: None,
            rejected_steps: 0,
        }
    }

    /// One step of every parameter of `module` that has a gradient in `grads`. `lr` has the
    /// reference's meaning: a multiplier of the estimated step (1.0) for the learning-rate-free
    /// methods, the step size for `sgd` and `adam`. A refused step returns `module` as it was.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        self.step_inner(lr, module, grads, None)
    }

    /// One step of a method that needs the mini-batch loss (`sps`, `ps-sps`); the others
    /// ignore it.
    pub fn step_with_loss<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        loss: f64,
    ) -> M {
        self.step_inner(lr, module, grads, Some(loss))
    }

    fn step_inner<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        loss: Option<f64>,
    ) -> M {
        self.step_from(lr, module, Grads::Params(&grads), loss)
    }

    /// [`step`](Self::step) with gradients from either source.
    pub(crate) fn step_from<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: Grads<'_>,
        loss: Option<f64>,
    ) -> M {
        let Ok(optimizer) = &mut self.inner else {
            self.rejected_steps += 1;
            return module;
        };
        match step_module_from(optimizer, lr, module, grads, loss) {
            Ok(module) => {
                self.last_rejection = None;
                module
            }
            Err(Rejected { module, error }) => {
                self.rejected_steps += 1;
                self.last_rejection = Some(error);
                module
            }
        }
    }

    /// Why the last step was refused (`None` when it was taken), or why the configuration was.
    pub fn last_rejection(&self) -> Option<&OptimError> {
        match &self.inner {
            Err(error) => Some(error),
            Ok(_) => self.last_rejection.as_ref(),
        }
    }

    /// How many steps were refused so far.
    pub fn rejected_steps(&self) -> u64 {
        self.rejected_steps
    }

    /// Count a step refused before it reached the optimizer (the burn-train adapter's checks).
    pub(crate) fn reject(&mut self, error: OptimError) {
        self.rejected_steps += 1;
        self.last_rejection = Some(error);
    }

    /// The learning rate the last step estimated (Adam-equivalent for D-Adapt Adam, Prodigy and
    /// the PS methods); `None` before the first step, and for COCOB, which has no scalar rate.
    pub fn lr(&self) -> Option<f64> {
        self.estimate().lr
    }

    /// Everything the last step estimated (the rate, D, per-tensor rates, steps taken).
    pub fn estimate(&self) -> Estimate {
        self.inner
            .as_ref()
            .map(LrEstimate::estimate)
            .unwrap_or_default()
    }

    /// Write the optimizer's state to `path` as a burnpack file (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.state()?.save(path)
    }

    /// Restore a state written by [`save`](Self::save) of the same optimizer, its tensors on
    /// `device`. A state of another optimizer, or a damaged file, is an error and changes
    /// nothing.
    pub fn load(&mut self, path: &Path, device: &Device) -> Result<()> {
        self.load_state(OptimState::load(path)?, device)
    }

    /// The complete state, for checkpoints kept in memory or bytes.
    pub fn state(&self) -> Result<OptimState> {
        self.optimizer().map(LrFreeOptimizer::save_state)
    }

    /// Restore a state from [`state`](Self::state).
    pub fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        self.optimizer_mut()?.load_state(state, device)
    }

    /// The bare optimizer, or the configuration's error.
    pub fn optimizer(&self) -> Result<&O> {
        self.inner.as_ref().map_err(OptimError::clone)
    }

    fn optimizer_mut(&mut self) -> Result<&mut O> {
        self.inner.as_mut().map_err(|e| e.clone())
    }

    /// The bare optimizer (for the flat-vector interface), or the configuration's error.
    pub fn into_inner(self) -> Result<O> {
        self.inner
    }
}
