//! # lrfree-sl: the supervised drivers (`sl-train`)
//!
//! The paper also tests its optimizers outside RL: image classification (ResNet-32, VGG-19
//! without batch norm, ViT-Tiny), semantic segmentation and SimCLR pre-training. This crate
//! gives those drivers with the same optimizer registry ([`burn_lrfree`]) as `rl-train`, the
//! same job pool, divergence rule and record machinery ([`lrfree_runkit`]; the format of its
//! records is [`lrfree_runkit::records::sl`]), and figures and a Table-3 report from
//! [`lrfree_plots::sl`]. See `docs/sl.md`.
//!
//! [`cli`] (arguments, main) → [`run`] (plan, checks, seeds in parallel) → [`train`] (one
//! seed's drivers) → [`learner`] (burn-train's `Learner` runs the epochs) on the [`device`]
//! chosen, over [`config`], [`data`] and [`formats`] (loaders), [`augment`], [`models`].

pub mod augment;
pub mod cli;
pub mod config;
pub mod data;
pub use lrfree_device as device;
pub mod formats;
pub mod learner;
pub mod models;
pub mod run;
pub mod train;
