//! # burn-lrfree: learning-rate-free optimizers for Burn
//!
//! Eleven optimizers for any Burn [`Module`](burn::module::Module) on any backend, in f32 or
//! f64, each reporting the learning rate it estimated ([`LrEstimate`]):
//!
//! | name | method | module |
//! |---|---|---|
//! | `sgd` | SGD with momentum / Nesterov | [`sgd`] |
//! | `sps` | stochastic Polyak step (SPS_max) | [`sps`] |
//! | `dog` | DoG, distance over gradients | [`dog`] |
//! | `ldog` | layer-wise DoG | [`ldog`] |
//! | `dadapt-sgd` | D-Adapt SGD | [`dadapt_sgd`] |
//! | `cocob` | COCOB-Backprop | [`cocob`] |
//! | `adam` | Adam (bias-corrected, optional AMSGrad) | [`adam`] |
//! | `dadapt-adam` | D-Adapt Adam | [`dadapt_adam`] |
//! | `prodigy` | Prodigy | [`prodigy`] |
//! | `ps-sps` | parameter-scaled SPS (Suh & Seo 2024) | [`ps_sps`] |
//! | `ps-da-sgd` | parameter-scaled D-Adapt SGD (Suh & Seo 2024) | [`ps_da_sgd`] |
//!
//! Each module's page says what the method is, lists its options with their defaults (those
//! of the reference implementation), and names the reference. The implementations reproduce
//! the reference trajectories (PyTorch, float64) to within 1e-10 relative (the golden tests).
//!
//! ## In a Burn training loop
//! Each config builds like Burn's: `PsDaSgdConfig::new().init()` where Burn has
//! `AdamConfig::new().init()`, and the loop stays `model = optim.step(lr, model, grads)`
//! ([`ModuleOptimizer`]); `lr` is a multiplier of the estimated step, 1.0 by default.
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig, Relu};
//! use burn::optim::GradientsParams;
//! use burn::tensor::{Device, Distribution, Tensor};
//! use burn_lrfree::prelude::*;
//!
//! #[derive(Module, Debug)]
//! struct Net {
//!     hidden: Linear,
//!     out: Linear,
//!     relu: Relu,
//! }
//!
//! impl Net {
//!     fn forward(&self, x: Tensor<2>) -> Tensor<2> {
//!         self.out.forward(self.relu.forward(self.hidden.forward(x)))
//!     }
//! }
//!
//! # fn main() -> Result<(), burn_lrfree::OptimError> {
//! let device = Device::default().autodiff();
//! let mut net = Net {
//!     hidden: LinearConfig::new(3, 32).init(&device),
//!     out: LinearConfig::new(32, 1).init(&device),
//!     relu: Relu::new(),
//! };
//! let mut optim = PsDaSgdConfig::new().init();
//!
//! let x = Tensor::<2>::random([128, 3], Distribution::Normal(0.0, 1.0), &device);
//! let y = x.clone().sum_dim(1).sin();
//! let first = (net.forward(x.clone()) - y.clone()).square().mean().into_scalar::<f64>();
//! for _ in 0..200 {
//!     let loss = (net.forward(x.clone()) - y.clone()).square().mean();
//!     let grads = GradientsParams::from_grads(loss.backward(), &net);
//!     net = optim.step(1.0, net, grads);
//! }
//! let last = (net.forward(x) - y).square().mean().into_scalar::<f64>();
//! assert!(last < 0.2 * first, "{first} -> {last}");
//! assert_eq!(optim.rejected_steps(), 0);
//!
//! // The estimated (Adam-equivalent) learning rate λ and the distance estimate D.
//! let estimate = optim.estimate();
//! println!("λ = {:?}, D = {:?}", optim.lr(), estimate.d);
//! assert!(optim.lr().unwrap() > 0.0 && estimate.d.unwrap() > 1e-6);
//!
//! // Checkpoint and resume: the state round-trips bit for bit (burnpack bytes or files).
//! let bytes = optim.state()?.to_bytes()?;
//! let mut resumed = PsDaSgdConfig::new().init();
//! resumed.load_state(OptimState::from_bytes(bytes)?, &device)?;
//! assert_eq!(resumed.estimate(), optim.estimate());
//! # Ok(())
//! # }
//! ```
//!
//! Choosing by name (for example from a command line):
//! ```
//! use burn_lrfree::registry::{OptimizerConfig, default_lr};
//! let config = OptimizerConfig::from_toml("prodigy", "d_coef = 0.5\ngrowth_rate = inf").unwrap();
//! let optim = config.init(); // ModuleOptimizer<Box<dyn LrFreeOptimizer>>
//! assert_eq!((config.name(), default_lr("prodigy").unwrap()), ("prodigy", 1.0));
//! assert!(optim.lr().is_none());
//! ```
//!
//! ## In burn-train's `Learner`
//! [`train`] makes every method a Burn `ModuleOptimizer` for `Learner::new`, with its state in
//! burn-train's checkpoints and the estimate as a burn-train metric (feature `burn-train`):
//! `sgd`, `adam`, `cocob` and `ldog` as Burn per-tensor optimizers, the others through the
//! model's `TrainStep::optimize` ([`train::optimize`]). `examples/learner.rs` is a whole
//! burn-train project.
//!
//! ## Why not Burn's `Optimizer` trait
//! In Burn 0.22 `Optimizer` updates one tensor at a time. D-Adaptation, Prodigy, DoG, SPS and
//! the PS methods need norms and inner products over *all* parameters before any of them
//! moves. So every optimizer here works on the parameters concatenated into one flat vector
//! ([`LrFreeOptimizer::step_flat`], see [`flat`]), and [`ModuleOptimizer`] steps a whole
//! module. All eleven share one object-safe trait, so a run can choose the optimizer by name at
//! run time ([`registry`]).
//!
//! ## Errors, not panics
//! A non-finite gradient, a missing loss for `sps`/`ps-sps`, a model whose parameter shapes
//! changed, or a saved state of another optimizer are [`OptimError`] values. A refused step
//! leaves the module and the optimizer's state as they were; [`ModuleOptimizer`] keeps the
//! reason ([`ModuleOptimizer::last_rejection`]), [`StepModule`] (for runners that stop on the
//! first refusal) hands the module back with it ([`Rejected`]).
//!
//! ## Saving state
//! [`ModuleOptimizer::save`] / [`ModuleOptimizer::load`] (or [`LrFreeOptimizer::save_state`])
//! write an [`OptimState`] (named scalars and tensors, the configuration and the parameter
//! layout) as a burnpack (`.bpk`) file or bytes.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
pub(crate) mod config;
mod error;
mod fused;
mod lanes;
mod method;
mod module;
mod ops;
mod scaling;
mod spec;
mod state;

pub mod adam;
pub mod cocob;
pub mod dadapt_adam;
pub mod dadapt_sgd;
pub mod dog;
pub mod ldog;
pub mod prodigy;
pub mod ps_da_sgd;
pub mod ps_sps;
pub mod registry;
pub mod sgd;
pub mod sps;
pub mod train;

pub use api::{Diagnostics, Estimate, LrEstimate, LrFreeOptimizer};
pub use config::f64_or_inf;
pub use error::{OptimError, Result};
pub use method::LrFreeConfig;
pub use module::{ModuleOptimizer, Rejected, StepModule};
pub use state::{OptimState, STATE_FORMAT};

/// Everything a Burn training loop needs, in one import: the configs of the eleven methods,
/// [`LrFreeConfig`] (for `init`), [`ModuleOptimizer`], the estimate and the error types.
pub mod prelude {
    pub use crate::adam::TorchAdamConfig;
    pub use crate::cocob::CocobConfig;
    pub use crate::dadapt_adam::DAdaptAdamConfig;
    pub use crate::dadapt_sgd::DAdaptSgdConfig;
    pub use crate::dog::DogConfig;
    pub use crate::ldog::LdogConfig;
    pub use crate::prodigy::ProdigyConfig;
    pub use crate::ps_da_sgd::PsDaSgdConfig;
    pub use crate::ps_sps::PsSpsConfig;
    pub use crate::registry::OptimizerConfig;
    pub use crate::sgd::SgdConfig;
    pub use crate::sps::SpsConfig;
    pub use crate::{Estimate, LrEstimate, LrFreeConfig, ModuleOptimizer, OptimError, OptimState};
}

/// The flat-vector interface, for implementing a new optimizer or stepping parameters that
/// are not a Burn module: every method works on the parameters concatenated into one vector
/// ([`LrFreeOptimizer::step_flat`]).
pub mod flat {
    pub use crate::api::{FlatStep, Layout, TensorSlot};
}

/// For this workspace's runners, benchmarks and tests, not part of the crate's API: the CPU
/// float mode of training threads, the switch of the fused CPU kernels, and the replay of the
/// golden reference trajectories.
#[doc(hidden)]
pub mod internals {
    pub use crate::fused::{FlushDenormals, flush_denormals, fused_cpu_applies, set_fused_cpu};
    pub mod golden;
}

/// `README.md`'s example is compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
