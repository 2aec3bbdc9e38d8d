//! Continuous-control environments for lrfree-rl, behind one small interface.
//!
//! * [`Env`]: Gymnasium's protocol in Rust. `reset(seed) -> obs`, `step(action) -> Step { obs,
//!   reward, terminated, truncated }`, [`BoxSpace`] observation/action spaces with bounds, time
//!   limits and a name. Observations and actions are flat `f32`; rewards `f64`. The trait is
//!   object-safe: agents hold a `Box<dyn Env + Send>`.
//! * [`make_env`]: `make_env("Hopper", &kwargs)` resolves short names (`Pendulum` and
//!   `MountainCarContinuous` are native; `Hopper`, `Humanoid` are `-v5` MuJoCo tasks) and
//!   passes any full Gymnasium id with its kwargs to the bridge.
//! * Native ports ([`Pendulum`], [`MountainCarContinuous`]) reproduce Gymnasium's
//!   `Pendulum-v1` and `MountainCarContinuous-v0` to f32 precision, with no Python at all.
//! * [`gym`] (cargo feature `gym`, on by default): any Gymnasium environment through embedded
//!   CPython (pyo3). Building it needs a Python 3 with its shared library; running it needs
//!   `pip install -r requirements.txt` in that Python. Without the feature, Gymnasium ids give
//!   [`EnvError::BridgeDisabled`].
//!
//! Protocol, the same for every environment: `step` before the first `reset` or after an episode
//! ended is [`EnvError::NeedsReset`]; actions of the wrong length or with NaN/inf are errors;
//! finite actions outside the bounds are clipped by default ([`ActionPolicy::Clip`]) or rejected
//! ([`ActionPolicy::Reject`]). Nothing here panics on bad input: every failure is an
//! [`EnvError`].
//!
//! # Building and running the bridge
//!
//! * Build: pyo3 links the `libpython` of `PYO3_PYTHON` if set, else of `python3` on `PATH`;
//!   that Python must have its shared library (pyenv: `PYTHON_CONFIGURE_OPTS=--enable-shared`).
//!   On a machine without it, build with `--no-default-features` (native envs only).
//! * Install: `python3 -m pip install -r requirements.txt` with that same Python.
//! * Run: the embedded interpreter adopts the prefix (and `site-packages`) of `LRFREE_PYTHON`
//!   if set, else of `$VIRTUAL_ENV/bin/python`, else of the build-time `python3`;
//!   `PYTHONPATH` is honoured. [`gym::python_info`] says which Python is in use.
//! * This package's tests and examples get an rpath to the build-time `libpython`, so the
//!   loader cannot pick another Python's library of the same soname. Crates building binaries
//!   on top can do the same with a two-line `build.rs`:
//!   `if let Ok(dir) = std::env::var("DEP_LRFREE_PYTHON_LIBDIR") {
//!   println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}"); }`. Without it the bridge still works
//!   (it adds the adopted prefix's `site-packages` itself), but may run on another build's core.
//!
//! ```
//! use lrfree_envs::{make_env, Kwargs};
//! let mut env = make_env("Pendulum", &Kwargs::new())?;
//! let mut obs = env.reset(Some(42))?;
//! let mut steps = 0;
//! loop {
//!     let step = env.step(&[0.5])?;
//!     steps += 1;
//!     let done = step.done();
//!     obs = step.obs;
//!     if done { break; }
//! }
//! assert_eq!((obs.len(), Some(steps)), (env.observation_space().dim(), env.max_episode_steps()));
//! # Ok::<(), lrfree_envs::EnvError>(())
//! ```

pub mod burn_env;
mod env;
mod episode;
mod error;
mod kwargs;
mod mountain_car;
mod pendulum;
mod registry;
mod space;

#[cfg(feature = "gym")]
pub mod gym;

pub use burn_env::{
    Actions, BurnEnv, EnvAction, EnvState, Observations, evaluation_reset_seed, training_reset_seed,
};
pub use env::{Env, Step};
pub use error::EnvError;
pub use kwargs::{KwargValue, Kwargs, kwargs};
pub use mountain_car::{MOUNTAIN_CAR_MAX_STEPS, MountainCarContinuous};
pub use pendulum::{PENDULUM_MAX_STEPS, Pendulum};
pub use registry::{SHORT_NAMES, canonical_env, check_name, make_env};
pub use space::{ActionPolicy, BoxSpace};
