//! # Supervised drivers (`sl-train`)
//!
//! The paper also tests its optimizers outside RL: image classification (ResNet-32, VGG-19
//! without batch norm, ViT-Tiny), semantic segmentation and SimCLR pre-training. This module
//! gives those drivers with the same optimizer registry ([`burn_lrfree`]), records in the
//! style of `docs/records.md`, and figures and a Table-3 report from [`lrfree_plots::sl`].
//! See `docs/sl.md`.

pub mod augment;
pub mod cli;
pub mod config;
pub mod data;
pub mod formats;
pub mod models;
pub mod records;
pub mod run;
pub mod train;
