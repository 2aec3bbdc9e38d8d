//! # lrfree-runkit: what `rl-train` and `sl-train` share
//!
//! Both runners train optimizers × seeds into one run directory, and `lrfree-plots` reads that
//! directory back. What they have in common lives here once, without Burn, so that the plots
//! crate reads records without compiling a deep-learning framework and a record cannot be
//! written one way and read another:
//!
//! - [`records`]: each record format with the one set of types that writes and reads it:
//!   [`records::rl`] (`docs/records.md`) and [`records::sl`] (`docs/sl.md`), and what the two
//!   share (the seed directory layout, CSV cells, reading a CSV that may be cut off);
//! - [`divergence`]: when a loss or a learning-rate estimate means a seed diverged;
//! - [`pool`]: the (optimizer, seed) jobs run by N threads, with progress bars;
//! - [`files`]: atomic writes, JSON reading, the run directory's creation and `--out` checks;
//! - [`array`]: which task of a job array (Slurm, a Kubernetes Indexed Job, `LRFREE_TASK_ID`)
//!   this process is;
//! - [`cli`]: the arguments both runners take (`--seeds`/`--seed-list`, `--jobs`);
//! - [`config`]: reading a TOML config with errors on one line;
//! - [`RunError`] (what stops a run) and [`RecordError`] (what makes a record unreadable).

pub mod array;
pub mod cli;
pub mod config;
pub mod divergence;
mod error;
pub mod files;
pub mod lock;
pub mod pool;
pub mod records;

pub use error::{RecordError, RunError};
