//! The Gymnasium bridge: any Gymnasium environment, driven from Rust through embedded CPython.
//!
//! Each call attaches to the interpreter (takes the GIL) only for its own duration, so
//! environments can live in different threads of one process (one environment per thread;
//! Python code itself still runs one thread at a time). Arrays cross through the buffer
//! protocol. Every failure, including Python exceptions, comes back as an [`EnvError`].
//!
//! The embedded interpreter adopts the prefix of `LRFREE_PYTHON`, else of the active
//! virtualenv (`VIRTUAL_ENV`), else of the `python3` the crate was built with, so packages
//! installed with that interpreter's `pip` are importable (`PYTHONPATH` is honoured too).

mod convert;
mod runtime;

use std::ffi::CString;

use pyo3::buffer::PyBuffer;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::episode::Episode;
use crate::{ActionPolicy, BoxSpace, Env, EnvError, Kwargs, Step};
use convert::{box_space, exception_kind, py_kwargs, python_error, read_f32};
use runtime::{executable, install_command, with_python};

/// A Gymnasium environment created with `gymnasium.make(id, **kwargs)`.
///
/// Time limits are Gymnasium's own (`TimeLimit`, from the registration or the
/// `max_episode_steps` kwarg); `truncated` comes from Python. Actions are checked on the Rust
/// side (length, finiteness, bounds under the [`ActionPolicy`]) before Python sees them.
/// A Python exception in `step` is returned as [`EnvError::Python`] and does not end the
/// episode; the environment's state is then whatever Python left, so `reset` is advisable.
pub struct GymEnv {
    id: String,
    env: Py<PyAny>,
    np_empty: Py<PyAny>,
    action_dtype: Py<PyAny>,
    action_f64: bool,
    obs_f64: bool,
    obs_space: BoxSpace,
    act_space: BoxSpace,
    max_steps: Option<usize>,
    episode: Episode,
    policy: ActionPolicy,
}

impl std::fmt::Debug for GymEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GymEnv")
            .field("id", &self.id)
            .field("obs_space", &self.obs_space)
            .field("act_space", &self.act_space)
            .finish()
    }
}

impl GymEnv {
    /// Creates the environment. Errors say what to install when Python, Gymnasium or MuJoCo is
    /// missing, and pass on Gymnasium's message (with its suggestions) for unknown ids.
    pub fn new(id: &str, kwargs: &Kwargs) -> Result<Self, EnvError> {
        with_python(|py| {
            let gym = py
                .import("gymnasium")
                .map_err(|e| EnvError::GymnasiumMissing {
                    python: executable(py),
                    detail: e.value(py).to_string(),
                    install: install_command(py),
                })?;
            let np = py
                .import("numpy")
                .map_err(|e| python_error(py, id, "make", e))?;
            let kw = py_kwargs(py, kwargs).map_err(|e| python_error(py, id, "make", e))?;
            let env = gym
                .call_method("make", (id,), Some(&kw))
                .map_err(|e| make_error(py, id, e))?;
            // From here on, close the Python env if anything else fails.
            let built = Self::wrap(py, id, &np, &env);
            if built.is_err() {
                let _ = env.call_method0("close");
            }
            built
        })
    }

    fn wrap(
        py: Python<'_>,
        id: &str,
        np: &Bound<'_, PyAny>,
        env: &Bound<'_, PyAny>,
    ) -> Result<Self, EnvError> {
        let attr = |name: &str| {
            env.getattr(name)
                .map_err(|e| python_error(py, id, "make", e))
        };
        let (obs_space, obs_f64) = box_space(py, id, "observation", &attr("observation_space")?)?;
        let act_box = attr("action_space")?;
        let (act_space, action_f64) = box_space(py, id, "action", &act_box)?;
        let action_dtype = act_box
            .getattr("dtype")
            .map_err(|e| python_error(py, id, "make", e))?;
        let is_float32_or_64 = action_dtype
            .getattr("kind")
            .and_then(|k| k.extract::<String>())
            .is_ok_and(|k| k == "f")
            && action_dtype
                .getattr("itemsize")
                .and_then(|s| s.extract::<usize>())
                .is_ok_and(|s| s == 4 || s == 8);
        if !is_float32_or_64 {
            return Err(EnvError::UnsupportedSpace {
                env: id.to_owned(),
                what: "action",
                space: act_box.to_string(),
            });
        }
        let max_steps = attr("spec")?
            .getattr("max_episode_steps")
            .ok()
            .and_then(|m| m.extract::<Option<usize>>().ok())
            .flatten();
        Ok(Self {
            id: id.to_owned(),
            env: env.clone().unbind(),
            np_empty: np
                .getattr("empty")
                .map_err(|e| python_error(py, id, "make", e))?
                .unbind(),
            action_dtype: action_dtype.unbind(),
            action_f64,
            obs_f64,
            obs_space,
            act_space,
            max_steps,
            episode: Episode::new(None),
            policy: ActionPolicy::Clip,
        })
    }

    /// Reads `env.unwrapped.<name>` as a flat f64 vector, e.g. `state` of the classic-control
    /// environments (used to start a native port from Gymnasium's exact state).
    pub fn unwrapped_attr(&self, name: &str) -> Result<Vec<f64>, EnvError> {
        with_python(|py| {
            let read = || -> PyResult<Vec<f64>> {
                let value = self
                    .env
                    .bind(py)
                    .getattr(intern!(py, "unwrapped"))?
                    .getattr(name)?;
                let np = py.import("numpy")?;
                let array = np
                    .call_method1("asarray", (value, "float64"))?
                    .call_method0("ravel")?;
                PyBuffer::<f64>::get(&array)?.to_vec(py)
            };
            read().map_err(|e| python_error(py, &self.id, "unwrapped_attr", e))
        })
    }

    fn action_array<'py>(&self, py: Python<'py>, action: &[f32]) -> PyResult<Bound<'py, PyAny>> {
        let array = self
            .np_empty
            .bind(py)
            .call1((action.len(), self.action_dtype.bind(py)))?;
        if self.action_f64 {
            let wide: Vec<f64> = action.iter().map(|&a| f64::from(a)).collect();
            PyBuffer::<f64>::get(&array)?.copy_from_slice(py, &wide)?;
        } else {
            PyBuffer::<f32>::get(&array)?.copy_from_slice(py, action)?;
        }
        Ok(array)
    }

    fn observation(
        &self,
        py: Python<'_>,
        during: &'static str,
        obs: &Bound<'_, PyAny>,
    ) -> Result<Vec<f32>, EnvError> {
        let obs =
            read_f32(py, obs, self.obs_f64).map_err(|e| python_error(py, &self.id, during, e))?;
        if obs.len() != self.obs_space.dim() {
            return Err(EnvError::BadReturn {
                env: self.id.clone(),
                during,
                detail: format!(
                    "an observation of {} elements, the observation space has {}",
                    obs.len(),
                    self.obs_space.dim()
                ),
            });
        }
        Ok(obs)
    }
}

/// Sorts a `gymnasium.make` failure into the error a user can act on.
fn make_error(py: Python<'_>, id: &str, err: PyErr) -> EnvError {
    let kind = exception_kind(py, &err);
    let message = err.value(py).to_string();
    let is = |name: &str| {
        py.import("gymnasium.error")
            .and_then(|m| m.getattr(name))
            .is_ok_and(|cls| err.get_type(py).is_subclass(&cls).unwrap_or(false))
    };
    if is("UnregisteredEnv") || is("DeprecatedEnv") {
        return EnvError::UnknownGymId {
            id: id.to_owned(),
            message,
        };
    }
    if is("DependencyNotInstalled") {
        let install = if message.to_lowercase().contains("mujoco") {
            install_command(py)
        } else {
            "the command in the message above".to_owned()
        };
        return EnvError::DependencyMissing {
            id: id.to_owned(),
            detail: format!("{kind}: {message}"),
            install,
        };
    }
    python_error(py, id, "make", err)
}

impl Env for GymEnv {
    fn name(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &BoxSpace {
        &self.obs_space
    }

    fn action_space(&self) -> &BoxSpace {
        &self.act_space
    }

    fn max_episode_steps(&self) -> Option<usize> {
        self.max_steps
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<Vec<f32>, EnvError> {
        self.episode.begin(&self.id)?;
        let obs = with_python(|py| {
            let kw = PyDict::new(py);
            let out = kw
                .set_item(intern!(py, "seed"), seed)
                .and_then(|()| {
                    self.env
                        .bind(py)
                        .call_method(intern!(py, "reset"), (), Some(&kw))
                })
                .and_then(|out| out.cast_into::<PyTuple>()?.get_item(0))
                .map_err(|e| python_error(py, &self.id, "reset", e))?;
            self.observation(py, "reset", &out)
        });
        if obs.is_err() {
            // Leave no half-started episode behind.
            self.episode.finish_step(true);
        }
        obs
    }

    fn step(&mut self, action: &[f32]) -> Result<Step, EnvError> {
        self.episode.check_step(&self.id)?;
        let action = self.act_space.check_action(&self.id, action, self.policy)?;
        let step = with_python(|py| {
            let raw = self
                .action_array(py, &action)
                .and_then(|a| self.env.bind(py).call_method1(intern!(py, "step"), (a,)))
                .map_err(|e| python_error(py, &self.id, "step", e))?;
            let tuple = raw
                .cast::<PyTuple>()
                .ok()
                .filter(|t| t.len() == 5)
                .ok_or_else(|| EnvError::BadReturn {
                    env: self.id.clone(),
                    during: "step",
                    detail: format!(
                        "{raw:.80}, not the 5-tuple (obs, reward, terminated, truncated, info)"
                    ),
                })?;
            let item = |i| {
                tuple
                    .get_item(i)
                    .map_err(|e| python_error(py, &self.id, "step", e))
            };
            let obs = self.observation(py, "step", &item(0)?)?;
            let reward = item(1)?
                .extract::<f64>()
                .map_err(|e| python_error(py, &self.id, "step", e))?;
            let terminated = item(2)?
                .is_truthy()
                .map_err(|e| python_error(py, &self.id, "step", e))?;
            let truncated = item(3)?
                .is_truthy()
                .map_err(|e| python_error(py, &self.id, "step", e))?;
            Ok(Step {
                obs,
                reward,
                terminated,
                truncated,
            })
        })?;
        self.episode.finish_step(step.done());
        Ok(step)
    }

    fn set_action_policy(&mut self, policy: ActionPolicy) {
        self.policy = policy;
    }

    fn close(&mut self) -> Result<(), EnvError> {
        if self.episode.is_closed() {
            return Ok(());
        }
        self.episode.close();
        with_python(|py| {
            self.env
                .bind(py)
                .call_method0(intern!(py, "close"))
                .map_err(|e| python_error(py, &self.id, "close", e))?;
            Ok(())
        })
    }
}

impl Drop for GymEnv {
    fn drop(&mut self) {
        // Closing frees MuJoCo's native resources (and renderers) now, not at Python's next GC.
        let _ = self.close();
    }
}

/// Runs Python statements in `__main__`, e.g. to register a custom environment with
/// `gymnasium.register` or extend `sys.path` before [`make_env`](crate::make_env).
pub fn run_python(code: &str) -> Result<(), EnvError> {
    with_python(|py| {
        let err = |e| python_error(py, "<run_python>", "run_python", e);
        let code = CString::new(code)
            .map_err(|e| err(pyo3::exceptions::PyValueError::new_err(e.to_string())))?;
        let main = py.import("__main__").map_err(err)?;
        let globals = main.dict();
        py.run(&code, Some(&globals), None).map_err(err)
    })
}

/// A one-line description of the embedded interpreter (version, executable, prefix), to check
/// that it is the Python where `requirements.txt` was installed.
pub fn python_info() -> Result<String, EnvError> {
    with_python(|py| {
        let info = || -> PyResult<String> {
            let sys = py.import("sys")?;
            Ok(format!(
                "Python {} (executable {}, prefix {})",
                sys.getattr("version")?.to_string().replace('\n', " "),
                sys.getattr("executable")?,
                sys.getattr("prefix")?
            ))
        };
        info().map_err(|e| python_error(py, "<python_info>", "python_info", e))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_messages_pin_the_same_versions_as_requirements_txt() {
        let requirements = include_str!("../../../requirements.txt");
        let pins: Vec<&str> = requirements
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert!(!pins.is_empty());
        let quoted: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
        assert_eq!(super::runtime::PINNED_PACKAGES, quoted.join(" "));
    }
}
