//! What one optimizer file declares, so that the registry needs one line per method.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::LrFreeOptimizer;
use crate::error::Result;
use crate::module::ModuleOptimizer;

/// The configuration of one of this crate's optimizers: its registry name, its properties,
/// and how it builds. Implemented by every `*Config` of the crate; a new method implements it
/// in its own file and adds one line to [`registry`](crate::registry).
///
/// ```
/// use burn_lrfree::prelude::*;
/// let optim = PsDaSgdConfig::new().with_momentum(0.0).init(); // like Burn's `AdamConfig::new().init()`
/// assert_eq!(PsDaSgdConfig::NAME, "ps-da-sgd");
/// assert!(optim.lr().is_none()); // no step yet
/// ```
pub trait LrFreeConfig: Clone + Default + Serialize + DeserializeOwned + Send + 'static {
    /// The optimizer this configuration builds.
    type Optimizer: LrFreeOptimizer + 'static;

    /// The registry name (`ps-da-sgd`, `dadapt-adam`, ...).
    const NAME: &'static str;

    /// Whether the estimated learning rate is Adam-equivalent: a step of about `lr` per
    /// coordinate whatever the gradient's scale (Adam, D-Adapt Adam, Prodigy, the PS methods).
    /// The others multiply the raw gradient, or report no rate (COCOB).
    const ADAM_EQUIVALENT_LR: bool = false;

    /// Whether the method needs the loss value at the optimum (SPS and PS-SPS: Polyak's step
    /// `(f − f*)/‖g‖²` with `f* = 0`), and so the loss of every step.
    const NEEDS_OPTIMAL_LOSS: bool = false;

    /// The `lr` to pass to `step` when the user gives none: 1.0, a multiplier of the estimated
    /// step, for the learning-rate-free methods; a step size for SGD and Adam.
    const DEFAULT_LR: f64 = 1.0;

    /// Whether the method's state and step are exactly per tensor (SGD, Adam, COCOB, LDoG), so
    /// that it can be one of Burn's own per-tensor optimizers in burn-train's `Learner`
    /// ([`crate::train`]); the others need sums over all parameters before any moves.
    const PER_TENSOR: bool = false;

    /// Validate the options and build the bare optimizer (for the flat-vector interface or a
    /// `Box<dyn LrFreeOptimizer>`); an out-of-range option is an error naming it.
    fn build(&self) -> Result<Self::Optimizer>;

    /// The optimizer, ready to step Burn modules as Burn's own do. Infallible like Burn's
    /// `init`: an invalid option refuses every step with the error saying which one
    /// ([`ModuleOptimizer::last_rejection`]); [`try_init`](Self::try_init) reports it now.
    fn init(&self) -> ModuleOptimizer<Self::Optimizer> {
        ModuleOptimizer::from_build(self.build())
    }

    /// As [`init`](Self::init), with an invalid option reported here.
    fn try_init(&self) -> Result<ModuleOptimizer<Self::Optimizer>> {
        self.build().map(ModuleOptimizer::new)
    }

    /// Burn's own `ModuleOptimizer` of this method, for burn-train's `Learner`, and the
    /// tracker of its estimate: [`train::init`](crate::train::init).
    fn init_learner(&self) -> Result<(burn::optim::ModuleOptimizer, crate::train::Tracker)>
    where
        Self::Optimizer: Clone + Sync,
    {
        crate::train::init(self)
    }
}

/// `new()` (the reference defaults, as `Default`) and one `with_<option>` setter per option,
/// the builder spelling of Burn's configs.
macro_rules! builder {
    ($config:ty { $($with:ident => $field:ident: $ty:ty),* $(,)? }) => {
        impl $config {
            /// The reference defaults (the same as `Default::default()`).
            pub fn new() -> Self {
                Self::default()
            }
            $(
                #[doc = concat!("Set `", stringify!($field), "`.")]
                pub fn $with(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}
pub(crate) use builder;
