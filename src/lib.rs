//! # lrfree-rl: the `rl-train` runner
//!
//! Trains Soft Actor-Critic ([`lrfree_agents`]) with any optimizer of [`burn_lrfree`] on any
//! environment of [`lrfree_envs`], over several seeds, and records what the paper's Table 3
//! and Figure 1 report: returns, the training success rate, and each optimizer's estimated
//! learning rate (and whether it diverged). The record format is in `docs/records.md`;
//! success and divergence are defined in [`outcome`].
//!
//! The record types, their writers and readers, the seed-parallel job pool and the
//! divergence rule are shared with `sl-train` (crate `lrfree-sl`) in [`lrfree_runkit`].

pub mod cli;
pub mod config;
pub use lrfree_device as device;
pub mod outcome;
pub mod run;
pub mod tasks;
pub mod trainer;
