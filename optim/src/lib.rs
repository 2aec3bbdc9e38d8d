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
//! the reference trajectories (PyTorch, float64) to within 1e-10 relative; see [`golden`].
//!
//! ## Why not Burn's `Optimizer` trait
//! In Burn 0.22 `Optimizer` updates one tensor at a time. D-Adaptation, Prodigy, DoG, SPS and
//! the PS methods need norms and inner products over *all* parameters before any of them
//! moves. So every optimizer here works on the parameters concatenated into one flat vector
//! ([`LrFreeOptimizer::step_flat`]), and [`StepModule`] steps a whole module. All eleven share
//! one object-safe trait, so a run can choose the optimizer by name at run time
//! ([`registry`]).
//!
//! ## Example: PS-DA-SGD in your own Burn project
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig, Relu};
//! use burn::optim::GradientsParams;
//! use burn::tensor::{Device, Distribution, Tensor};
//! use burn_lrfree::ps_da_sgd::PsDaSgdConfig;
//! use burn_lrfree::{LrEstimate, LrFreeOptimizer, OptimState, StepModule};
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
//! // No learning rate to tune: `lr` is a multiplier of the estimated step, 1.0 by default.
//! let mut optimizer = PsDaSgdConfig::default().init()?;
//!
//! let x = Tensor::<2>::random([128, 3], Distribution::Normal(0.0, 1.0), &device);
//! let y = x.clone().sum_dim(1).sin();
//! let first = (net.forward(x.clone()) - y.clone()).square().mean().into_scalar::<f64>();
//! for _ in 0..200 {
//!     let loss = (net.forward(x.clone()) - y.clone()).square().mean();
//!     let grads = GradientsParams::from_grads(loss.backward(), &net);
//!     net = optimizer.step(1.0, net, grads)?;
//! }
//! let last = (net.forward(x) - y).square().mean().into_scalar::<f64>();
//! assert!(last < 0.2 * first, "{first} -> {last}");
//!
//! // The estimated (Adam-equivalent) learning rate λ and the distance estimate D.
//! let estimate = optimizer.estimate();
//! println!("λ = {:?}, D = {:?}", estimate.lr, estimate.d);
//! assert!(estimate.lr.unwrap() > 0.0 && estimate.d.unwrap() > 1e-6);
//!
//! // Checkpoint and resume: the state round-trips bit for bit.
//! let bytes = optimizer.save_state().to_bytes()?;
//! let mut resumed = PsDaSgdConfig::default().init()?;
//! resumed.load_state(OptimState::from_bytes(bytes)?, &device)?;
//! assert_eq!(resumed.estimate(), optimizer.estimate());
//! # Ok(())
//! # }
//! ```
//!
//! Choosing by name (for example from a command line):
//! ```
//! use burn_lrfree::registry::{OptimizerConfig, default_lr};
//! let config = OptimizerConfig::from_toml("prodigy", "d_coef = 0.5\ngrowth_rate = inf").unwrap();
//! let optimizer = config.build().unwrap(); // Box<dyn LrFreeOptimizer>
//! assert_eq!((optimizer.name(), default_lr("prodigy").unwrap()), ("prodigy", 1.0));
//! ```
//!
//! ## Errors, not panics
//! A non-finite gradient, a missing loss for `sps`/`ps-sps`, a model whose parameter shapes
//! changed, or a saved state of another optimizer are [`OptimError`] values. A refused module
//! step hands the module back untouched ([`Rejected`]) and leaves the optimizer's state as it
//! was, so a caller can skip the batch or stop cleanly.
//!
//! ## Saving state
//! [`LrFreeOptimizer::save_state`] returns an [`OptimState`] (named scalars and tensors, the
//! configuration and the parameter layout), written as a burnpack (`.bpk`) file or bytes.

#![warn(missing_docs)]

mod api;
pub(crate) mod config;
mod error;
mod fused;
mod module;
mod ops;
mod scaling;
mod state;

pub mod adam;
pub mod cocob;
pub mod dadapt_adam;
pub mod dadapt_sgd;
pub mod dog;
pub mod golden;
pub mod ldog;
pub mod prodigy;
pub mod ps_da_sgd;
pub mod ps_sps;
pub mod registry;
pub mod sgd;
pub mod sps;

pub use api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer, TensorSlot};
pub use config::f64_or_inf;
pub use error::{OptimError, Result};
pub use fused::{FlushDenormals, flush_denormals, fused_cpu_applies, set_fused_cpu};
pub use module::{Rejected, StepModule};
pub use state::{OptimState, STATE_FORMAT};
