//! # In burn-train's `Learner`
//!
//! burn-train's `Learner` takes Burn's own `burn::optim::ModuleOptimizer`, which drives a
//! per-tensor [`burn::optim::Optimizer`] over the model and saves its state in burn-train's
//! checkpoints. [`init`] builds one for any of the eleven methods, with a [`Tracker`] that
//! reads the estimated learning rate (for [`metrics`] and logs):
//!
//! ```text
//! let (optim, tracker) = PsDaSgdConfig::new().init_learner()?; // or train::init(&config)
//! let learner = Learner::new(model, optim, 1.0); // lr: a multiplier of the estimated step
//! ```
//!
//! **Per-tensor methods** (`sgd`, `adam`, `cocob`, `ldog`: state and step exactly per tensor)
//! become a [`PerTensor`] optimizer and need nothing else, like Burn's Adam.
//!
//! **Whole-model methods** (`dadapt-sgd`, `dadapt-adam`, `prodigy`, `dog`, `sps`, `ps-sps`,
//! `ps-da-sgd`) need norms and inner products over all parameters before any of them moves,
//! which a per-tensor optimizer cannot see. burn-train lets a model decide how it is
//! optimized (`TrainStep::optimize`), so the model hands the step to [`optimize`], which
//! steps the whole model with this crate's own step (the same arithmetic as
//! [`ModuleOptimizer`], hence the golden tests' accuracy):
//!
//! ```text
//! impl TrainStep for Net {
//!     // type Input, type Output, fn step as usual, then:
//!     fn optimize(self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: GradientsParams) -> Self {
//!         burn_lrfree::train::optimize(self, optim, lr, grads)
//!     }
//!     fn optimize_multi(self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: MultiGradientsParams) -> Self {
//!         burn_lrfree::train::optimize_multi(self, optim, lr, grads)
//!     }
//! }
//! ```
//! [`optimize`] works for the per-tensor methods too, so a model written this way can switch
//! between all eleven. A whole-model method stepped without it panics at its first step with
//! a message saying so: it would otherwise not train at all.
//!
//! `sps` and `ps-sps` need each step's loss: [`attach_loss`] adds it to the step's gradients
//! inside `TrainStep::step`, and it travels with them to [`optimize`].
//!
//! ## Checkpoints
//! The state goes where burn-train saves the optimizer's (`ModuleOptimizer::to_record`), so
//! `SupervisedTraining::checkpoint(epoch)` resumes D, G, the sums and the step count. Each
//! method's complete state ([`OptimState`], burnpack bytes) is one `u8` tensor: per
//! parameter for the per-tensor methods, on the first parameter for the others.
//!
//! ## Limits
//! - **Learning rate and schedulers**: the `Learner`'s rate is the `lr` of this crate's
//!   `step`: the step size for `sgd` and `adam` (pass 3e-4, not 1.0), a multiplier of the
//!   estimated step (1.0) for the others. A scheduler's value is used as it comes; a
//!   whole-model method takes the base rate (`ModuleLearningRate::base`), not per-group rates.
//! - **Gradient clipping** set on the `ModuleOptimizer` (`with_grad_clipping`) is applied per
//!   tensor before every method, as Burn does.
//! - **Refused steps**: a non-finite gradient refuses the whole step of a whole-model method
//!   (as [`ModuleOptimizer`] does), but only that tensor's step of a
//!   per-tensor method (Burn's model). Both are counted by the [`Tracker`].
//! - **Several devices** (`optimize_multi`, burn-train's multi-device strategy): each
//!   parameter's gradients are summed on the parameter's device; a whole-model method then
//!   needs all parameters on one device. burn-train's DDP strategy gives each device its own
//!   clone of the learner, which a whole-model method does not support (see *Clones*).
//! - **Gradient accumulation** (burn-train's `grads_accumulation`) keeps the parameters'
//!   gradients only: the loss of [`attach_loss`] is dropped, so `sps` and `ps-sps` refuse those
//!   steps with [`OptimError::LossRequired`] (the [`Tracker`] says so); the other methods are
//!   unaffected.
//! - **Parameter groups** (`ModuleOptimizer::with_group`) may mix per-tensor methods with
//!   Burn's optimizers; a whole-model method must own every parameter (otherwise its steps
//!   are refused with [`OptimError::Unsupported`]).
//! - **Clones** of the `ModuleOptimizer` share a whole-model method's state (the single- and
//!   multi-device strategies clone the learner only to hand it on); step one at a time.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{
    GradientsParams, ModuleOptimizer as BurnModuleOptimizer, MultiGradientsParams, Optimizer,
    RecordState, StateSink, StateSource,
};
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer, TensorSlot};
use crate::error::{OptimError, Result};
use crate::method::LrFreeConfig;
use crate::module::{Grads, ModuleOptimizer};
use crate::state::OptimState;

#[cfg(feature = "burn-train")]
#[cfg_attr(docsrs, doc(cfg(feature = "burn-train")))]
pub mod metrics;

/// The id under which [`attach_loss`] puts the loss among the gradients: no parameter has it
/// (Burn's ids are random 64-bit numbers), and [`optimize`] takes it out before stepping.
const LOSS_ID: u64 = 0x6c72_6672_6565_6c73;

/// The name of the `u8` tensor holding a method's state in Burn's optimizer record.
const STATE_LEAF: &str = "lrfree_state";

/// Burn's `ModuleOptimizer` for `config`'s method, ready for `Learner::new`, and the
/// [`Tracker`] of its estimated learning rate. An invalid option is an error now.
pub fn init<C: LrFreeConfig>(config: &C) -> Result<(BurnModuleOptimizer, Tracker)>
where
    C::Optimizer: Clone + Sync,
{
    if C::PER_TENSOR {
        let optim = PerTensor::new(config)?;
        let tracker = optim.tracker();
        Ok((optim.into(), tracker))
    } else {
        let optim = WholeModel::new(Box::new(config.build()?));
        let tracker = optim.tracker();
        Ok((optim.into(), tracker))
    }
}

/// Put this step's loss among its gradients, for `sps` and `ps-sps` under [`optimize`] (the
/// other methods ignore it). Call it in `TrainStep::step`:
/// `let mut out = TrainOutput::new(self, loss.backward(), item); attach_loss(&mut out.grads, &loss);`
pub fn attach_loss(grads: &mut GradientsParams, loss: &Tensor<1>) {
    grads.register::<1>(ParamId::from(LOSS_ID), loss.clone().detach());
}

/// One step of `module`, for `TrainStep::optimize`: per-tensor methods step inside Burn's
/// `ModuleOptimizer` as usual; a whole-model method takes the gradients (clipped, if the
/// optimizer clips) and steps the whole model at once. See the [module docs](self).
pub fn optimize<M: Module>(
    module: M,
    optim: &mut BurnModuleOptimizer,
    lr: ModuleLearningRate,
    mut grads: GradientsParams,
) -> M {
    let loss = grads.remove::<1>(ParamId::from(LOSS_ID));
    let mut order = StepOrder {
        grads: &grads,
        ids: Vec::new(),
    };
    module.visit(&mut order);
    let ids = order.ids;
    route(module, optim, lr, ids, grads, loss)
}

/// [`optimize`] for `TrainStep::optimize_multi` (gradients from several devices): each
/// parameter's gradients are summed on the parameter's device first.
pub fn optimize_multi<M: Module>(
    module: M,
    optim: &mut BurnModuleOptimizer,
    lr: ModuleLearningRate,
    mut grads: MultiGradientsParams,
) -> M {
    let losses: Vec<f64> = grads
        .grads
        .iter_mut()
        .filter_map(|(g, _)| g.remove::<1>(ParamId::from(LOSS_ID)))
        .map(|t| t.into_scalar::<f64>())
        .collect();
    let mut gather = SumOnParamDevice {
        multi: &mut grads,
        single: GradientsParams::new(),
        ids: Vec::new(),
    };
    module.visit(&mut gather);
    let SumOnParamDevice { single, ids, .. } = gather;
    let loss = (!losses.is_empty()).then(|| {
        let mean = losses.iter().sum::<f64>() / losses.len() as f64;
        Tensor::<1>::from_data(TensorData::from([mean]), &Device::default())
    });
    route(module, optim, lr, ids, single, loss)
}

/// The ids of the parameters with a gradient, in the order Burn's `ModuleOptimizer` visits
/// them (module order, the same as any `ModuleVisitor`'s).
struct StepOrder<'a> {
    grads: &'a GradientsParams,
    ids: Vec<ParamId>,
}

impl ModuleVisitor for StepOrder<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.grads.get::<D>(param.id).is_some() {
            self.ids.push(param.id);
        }
    }
}

/// Sums each parameter's gradients from all devices onto the parameter's device.
struct SumOnParamDevice<'a> {
    multi: &'a mut MultiGradientsParams,
    single: GradientsParams,
    ids: Vec<ParamId>,
}

impl ModuleVisitor for SumOnParamDevice<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some((grad, _)) = self.multi.remove::<D>(param.id) {
            self.single
                .register::<D>(param.id, grad.to_device(&param.device()));
            self.ids.push(param.id);
        }
    }
}

/// What a whole-model method's [`WholeModel::step`] hands to [`route`] during one pass of
/// Burn's `ModuleOptimizer`. Thread-local because the pass runs on the caller's thread and
/// Burn gives the per-tensor step no other way out.
#[derive(Default)]
struct Route {
    live: Option<Arc<Mutex<Live>>>,
    /// More than one whole-model optimizer in the pass (parameter groups).
    mixed: bool,
    grads: Vec<Tensor<1>>,
    loaded: Option<Arc<OptimState>>,
}

thread_local! {
    static ROUTE: RefCell<Option<Route>> = const { RefCell::new(None) };
}

fn route<M: Module>(
    module: M,
    optim: &mut BurnModuleOptimizer,
    lr: ModuleLearningRate,
    ids: Vec<ParamId>,
    grads: GradientsParams,
    loss: Option<Tensor<1>>,
) -> M {
    let base_lr = lr.base();
    ROUTE.with(|r| *r.borrow_mut() = Some(Route::default()));
    let module = optim.step(lr, module, grads);
    let route = ROUTE.with(|r| r.borrow_mut().take()).unwrap_or_default();
    let Some(live) = route.live else {
        return module; // per-tensor methods (or Burn's own) have stepped
    };
    let mut live = lock(&live);
    if route.mixed || route.grads.len() != ids.len() {
        let message = format!(
            "`{}` needs every parameter: it got {} of the {} with a gradient; do not mix it with other optimizers in parameter groups",
            live.name,
            route.grads.len(),
            ids.len()
        );
        live.optim.reject(OptimError::Unsupported { message });
        return module;
    }
    if let Some(saved) = route.loaded {
        live.pending = Some(saved);
    }
    if let Some(saved) = live.pending.clone() {
        let device = route.grads[0].device();
        match live.optim.load_state((*saved).clone(), &device) {
            Ok(()) => live.pending = None,
            Err(error) => {
                live.optim.reject(error);
                return module;
            }
        }
    }
    let loss = match loss {
        Some(t) if live.needs_loss => Some(t.into_scalar::<f64>()),
        _ => None,
    };
    let grads = ids.into_iter().zip(route.grads).collect::<HashMap<_, _>>();
    let module = live
        .optim
        .step_from(base_lr, module, Grads::Flat(grads), loss);
    let estimate = live.optim.estimate();
    live.history.record(estimate);
    module
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The live state of a whole-model method, shared by [`WholeModel`], the anchors in Burn's
/// record and the [`Tracker`].
struct Live {
    name: &'static str,
    needs_loss: bool,
    optim: ModuleOptimizer<Box<dyn LrFreeOptimizer>>,
    /// A state read from a checkpoint that could not be loaded yet (kept, and every step
    /// refused, until it loads: a run must not silently restart its optimizer).
    pending: Option<Arc<OptimState>>,
    history: History,
}

impl Live {
    fn saved(&self) -> Option<OptimState> {
        match &self.pending {
            Some(saved) => Some((**saved).clone()),
            None => self.optim.state().ok(),
        }
    }
}

/// A whole-model method as a Burn `Optimizer`: inside [`optimize`] its per-tensor step only
/// collects the gradient and leaves the tensor as it is; the step itself follows, over all
/// parameters at once. Built by [`init`].
#[derive(Clone)]
pub struct WholeModel {
    live: Arc<Mutex<Live>>,
}

impl WholeModel {
    fn new(optim: Box<dyn LrFreeOptimizer>) -> Self {
        let (name, needs_loss) = (optim.name(), optim.needs_loss());
        Self {
            live: Arc::new(Mutex::new(Live {
                name,
                needs_loss,
                optim: ModuleOptimizer::new(optim),
                pending: None,
                history: History::default(),
            })),
        }
    }

    /// The tracker of this method's estimate.
    pub fn tracker(&self) -> Tracker {
        Tracker(TrackerInner::Whole(self.live.clone()))
    }
}

/// What a [`WholeModel`] keeps per parameter in Burn's `ModuleOptimizer`: the first
/// parameter's anchor writes the method's whole state into Burn's record.
#[derive(Clone)]
pub struct Anchor(AnchorKind);

#[derive(Clone)]
enum AnchorKind {
    Primary(Arc<Mutex<Live>>),
    Secondary,
    Loaded(Arc<OptimState>),
}

impl Optimizer for WholeModel {
    type State<const D: usize> = Anchor;

    fn step<const D: usize>(
        &self,
        _lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Anchor>,
    ) -> (Tensor<D>, Option<Anchor>) {
        let n = grad.shape().num_elements();
        let anchor = ROUTE.with(|r| {
            let mut r = r.borrow_mut();
            let Some(route) = r.as_mut() else {
                let name = lock(&self.live).name;
                panic!(
                    "burn-lrfree: `{name}` needs sums over all parameters before any moves, which a per-tensor Burn optimizer cannot see: have the model's TrainStep::optimize call burn_lrfree::train::optimize (see the docs of burn_lrfree::train)"
                );
            };
            if let Some(Anchor(AnchorKind::Loaded(saved))) = state {
                route.loaded = Some(saved);
            }
            match &route.live {
                Some(live) if !Arc::ptr_eq(live, &self.live) => route.mixed = true,
                Some(_) => {}
                None => route.live = Some(self.live.clone()),
            }
            route.grads.push(grad.reshape([n]));
            if route.grads.len() == 1 {
                Anchor(AnchorKind::Primary(self.live.clone()))
            } else {
                Anchor(AnchorKind::Secondary)
            }
        });
        (tensor, Some(anchor))
    }

    fn to_device<const D: usize>(state: Anchor, _device: &Device) -> Anchor {
        state // the live state moves with the parameters at the step
    }
}

impl RecordState for Anchor {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let saved = match &self.0 {
            AnchorKind::Primary(live) => lock(live).saved(),
            AnchorKind::Loaded(saved) => Some((**saved).clone()),
            AnchorKind::Secondary => None,
        };
        if let Some(data) = saved.and_then(|s| state_data(&s)) {
            out.push_tensor(prefix, STATE_LEAF, data);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        Some(Anchor(match read_state(prefix, src) {
            Some(saved) => AnchorKind::Loaded(Arc::new(saved)),
            None => AnchorKind::Secondary,
        }))
    }
}

/// A method's complete state as one `u8` tensor of burnpack bytes.
fn state_data(state: &OptimState) -> Option<TensorData> {
    let bytes = state.to_bytes().ok()?;
    let n = bytes.len();
    Some(TensorData::from_bytes_vec(bytes, [n], DType::U8))
}

fn read_state(prefix: &str, src: &mut StateSource) -> Option<OptimState> {
    let data = src.take_tensor(prefix, STATE_LEAF)?;
    OptimState::from_bytes(data.as_bytes().to_vec()).ok()
}

/// A per-tensor method (`sgd`, `adam`, `cocob`, `ldog`) as one of Burn's own optimizers:
/// each parameter tensor gets its own instance of the method, which is exactly the method
/// on the whole model because its state and step are per tensor.
///
/// ```
/// use burn_lrfree::prelude::*;
/// use burn_lrfree::train::PerTensor;
/// let optim: burn::optim::ModuleOptimizer = PerTensor::new(&TorchAdamConfig::new()).unwrap().into();
/// assert!(PerTensor::new(&PsDaSgdConfig::new()).is_err()); // needs whole-model sums
/// // The same, with the tracker of the estimate (and the route for whole-model methods):
/// let (optim, tracker) = TorchAdamConfig::new().init_learner().unwrap();
/// assert_eq!((tracker.name(), tracker.lr()), ("adam", None));
/// # let _ = optim;
/// ```
#[derive(Clone)]
pub struct PerTensor<C: LrFreeConfig> {
    fresh: C::Optimizer,
    stats: Arc<Mutex<Stats>>,
}

impl<C: LrFreeConfig> PerTensor<C>
where
    C::Optimizer: Clone,
{
    /// The method of `config`; an invalid option, or a method that is not per tensor, is an
    /// error.
    pub fn new(config: &C) -> Result<Self> {
        if !C::PER_TENSOR {
            return Err(OptimError::Unsupported {
                message: format!(
                    "`{}` needs sums over all parameters, so it cannot be a per-tensor Burn optimizer: build it with burn_lrfree::train::init and route TrainStep::optimize through burn_lrfree::train::optimize",
                    C::NAME
                ),
            });
        }
        Ok(Self {
            fresh: config.build()?,
            stats: Arc::new(Mutex::new(Stats {
                name: C::NAME,
                ..Stats::default()
            })),
        })
    }

    /// The tracker of this method's estimate.
    pub fn tracker(&self) -> Tracker {
        Tracker(TrackerInner::PerTensor(self.stats.clone()))
    }
}

/// The estimates of every tensor's instance of a per-tensor method.
#[derive(Default)]
struct Stats {
    name: &'static str,
    next_slot: u64,
    slots: HashMap<u64, Estimate>,
    rejected: u64,
    last_rejection: Option<OptimError>,
    history: History,
}

impl Stats {
    /// The whole model's estimate: over the tensors at the latest step, the largest rate (LDoG
    /// reports its largest per-tensor step; SGD and Adam have one rate).
    fn estimate(&self) -> Estimate {
        let steps = self.slots.values().map(|e| e.steps).max().unwrap_or(0);
        let lr = self
            .slots
            .values()
            .filter(|e| e.steps == steps)
            .filter_map(|e| e.lr)
            .reduce(f64::max);
        Estimate {
            lr,
            steps,
            ..Estimate::default()
        }
    }
}

/// A per-tensor method's state for one parameter, as Burn's `ModuleOptimizer` keeps it.
#[derive(Clone)]
pub struct TensorState<O>(TensorSlotState<O>);

#[derive(Clone)]
enum TensorSlotState<O> {
    Live { optim: O, slot: u64, device: Device },
    Loaded(Arc<OptimState>),
}

impl<C: LrFreeConfig> Optimizer for PerTensor<C>
where
    C::Optimizer: Clone + Sync,
{
    type State<const D: usize> = TensorState<C::Optimizer>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let (mut optim, slot) = match state.map(|s| s.0) {
            Some(TensorSlotState::Live { optim, slot, .. }) => (optim, slot),
            Some(TensorSlotState::Loaded(saved)) => {
                let mut optim = self.fresh.clone();
                if let Err(error) = optim.load_state((*saved).clone(), &device) {
                    self.reject(error);
                    return (tensor, Some(TensorState(TensorSlotState::Loaded(saved))));
                }
                (optim, self.new_slot())
            }
            None => (self.fresh.clone(), self.new_slot()),
        };
        let shape = tensor.shape();
        let n = shape.num_elements();
        let layout = Layout {
            tensors: vec![TensorSlot {
                name: String::new(),
                shape: shape.to_vec(),
            }],
        };
        let stepped = optim.step_flat(FlatStep {
            lr,
            params: tensor.clone().reshape([n]),
            grads: grad.reshape([n]),
            layout: &layout,
            loss: None,
        });
        let tensor = match stepped {
            Ok(updated) => {
                let estimate = optim.estimate();
                let mut stats = lock(&self.stats);
                stats.history.merge_max(&estimate);
                stats.slots.insert(slot, estimate);
                drop(stats);
                updated.reshape(shape)
            }
            Err(error) => {
                self.reject(error);
                tensor
            }
        };
        let state = TensorSlotState::Live {
            optim,
            slot,
            device,
        };
        (tensor, Some(TensorState(state)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        match state.0 {
            TensorSlotState::Live {
                mut optim,
                slot,
                device: old,
            } if old != *device => {
                let saved = optim.save_state();
                // The state was saved by this very optimizer: loading it back cannot fail.
                let _ = optim.load_state(saved, device);
                TensorState(TensorSlotState::Live {
                    optim,
                    slot,
                    device: device.clone(),
                })
            }
            other => TensorState(other),
        }
    }
}

impl<C: LrFreeConfig> PerTensor<C> {
    fn new_slot(&self) -> u64 {
        let mut stats = lock(&self.stats);
        stats.next_slot += 1;
        stats.next_slot
    }

    fn reject(&self, error: OptimError) {
        let mut stats = lock(&self.stats);
        stats.rejected += 1;
        stats.last_rejection = Some(error);
    }
}

impl<O: LrFreeOptimizer + Clone + Sync + 'static> RecordState for TensorState<O> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let saved = match &self.0 {
            TensorSlotState::Live { optim, .. } => optim.save_state(),
            TensorSlotState::Loaded(saved) => (**saved).clone(),
        };
        if let Some(data) = state_data(&saved) {
            out.push_tensor(prefix, STATE_LEAF, data);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        let saved = read_state(prefix, src)?;
        Some(TensorState(TensorSlotState::Loaded(Arc::new(saved))))
    }
}

/// The estimates of the last [`History::LEN`] steps, one per step, so that a reader that
/// lags behind the training (burn-train processes metrics on another thread) still gets each
/// step's own value.
#[derive(Default)]
pub(crate) struct History {
    /// Consecutive steps: `entries[i].steps == entries[0].steps + i`.
    entries: VecDeque<Estimate>,
}

impl History {
    const LEN: usize = 4096;

    /// The estimate after a whole-model step (a refused step repeats the step count).
    fn record(&mut self, estimate: Estimate) {
        match self.entries.back_mut() {
            Some(last) if last.steps == estimate.steps => *last = estimate,
            Some(last) if last.steps > estimate.steps => {
                // a state loaded from an earlier checkpoint: start over
                self.entries.clear();
                self.entries.push_back(estimate);
            }
            _ => self.push(estimate),
        }
    }

    /// One tensor's estimate after its step: the step's rate is the largest over the tensors.
    fn merge_max(&mut self, estimate: &Estimate) {
        let own = Estimate {
            lr: estimate.lr,
            steps: estimate.steps,
            ..Estimate::default()
        };
        let (Some(front), Some(back)) = (self.entries.front(), self.entries.back()) else {
            return self.push(own);
        };
        let (front, back) = (front.steps, back.steps);
        if estimate.steps == back + 1 {
            self.push(own);
        } else if (front..=back).contains(&estimate.steps) {
            let entry = &mut self.entries[(estimate.steps - front) as usize];
            entry.lr = match (entry.lr, estimate.lr) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        } else {
            // a state loaded from a checkpoint: start over
            self.entries.clear();
            self.push(own);
        }
    }

    fn push(&mut self, estimate: Estimate) {
        self.entries.push_back(estimate);
        if self.entries.len() > Self::LEN {
            self.entries.pop_front();
        }
    }

    /// The estimate of step `step` (1 is the first), if it is still kept; the latest kept
    /// when `step` is beyond it (more metric items than steps, under gradient accumulation).
    /// `None` before the first step.
    pub(crate) fn at(&self, step: u64) -> Option<(u64, &Estimate)> {
        let front = self.entries.front()?.steps;
        let back = self.entries.back()?;
        if step > back.steps {
            return Some((back.steps, back));
        }
        let step = step.max(front);
        Some((step, &self.entries[(step - front) as usize]))
    }

    /// The first step kept.
    #[cfg_attr(not(feature = "burn-train"), allow(dead_code))]
    pub(crate) fn first(&self) -> Option<u64> {
        self.entries.front().map(|e| e.steps)
    }
}

/// What the method estimated, read from outside the `Learner` (by [`metrics`], a logger, a
/// test). Cheap to clone; all clones see the same optimizer.
#[derive(Clone)]
pub struct Tracker(TrackerInner);

#[derive(Clone)]
enum TrackerInner {
    Whole(Arc<Mutex<Live>>),
    PerTensor(Arc<Mutex<Stats>>),
}

impl Tracker {
    /// The registry name of the method.
    pub fn name(&self) -> &'static str {
        match &self.0 {
            TrackerInner::Whole(live) => lock(live).name,
            TrackerInner::PerTensor(stats) => lock(stats).name,
        }
    }

    /// The estimate of the last step (for a per-tensor method: the steps taken and the
    /// largest rate over the tensors; no D).
    pub fn estimate(&self) -> Estimate {
        match &self.0 {
            TrackerInner::Whole(live) => lock(live).optim.estimate(),
            TrackerInner::PerTensor(stats) => lock(stats).estimate(),
        }
    }

    /// Run `f` on the estimates of the last steps, one per step (for [`metrics`]).
    pub(crate) fn with_history<R>(&self, f: impl FnOnce(&History) -> R) -> R {
        match &self.0 {
            TrackerInner::Whole(live) => f(&lock(live).history),
            TrackerInner::PerTensor(stats) => f(&lock(stats).history),
        }
    }

    /// The estimate of step `step` (1 is the first step), while it is among the last 4096;
    /// for a per-tensor method, the steps taken and the largest rate over the tensors.
    pub fn estimate_of_step(&self, step: u64) -> Option<Estimate> {
        self.with_history(|h| match h.at(step) {
            Some((s, e)) if s == step => Some(e.clone()),
            _ => None,
        })
    }

    /// The learning rate the last step used (`None` before the first step and for COCOB).
    pub fn lr(&self) -> Option<f64> {
        self.estimate().lr
    }

    /// How many steps were refused (for a per-tensor method: tensor steps).
    pub fn rejected_steps(&self) -> u64 {
        match &self.0 {
            TrackerInner::Whole(live) => lock(live).optim.rejected_steps(),
            TrackerInner::PerTensor(stats) => lock(stats).rejected,
        }
    }

    /// Why the last refused step was refused.
    pub fn last_rejection(&self) -> Option<OptimError> {
        match &self.0 {
            TrackerInner::Whole(live) => lock(live).optim.last_rejection().cloned(),
            TrackerInner::PerTensor(stats) => lock(stats).last_rejection.clone(),
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("name", &self.name())
            .field("estimate", &self.estimate())
            .finish()
    }
}
