//! Every environment of this crate as a [`burn::rl::Environment`], so burn-rl agents and
//! burn-train's `RLTraining` can use them, and the tensor types that policies of this toolkit
//! exchange with them.
//!
//! burn-rl's interface differs from [`Env`] in three ways, which [`BurnEnv`] bridges:
//! - **No errors.** `Environment::step` cannot fail. A step or reset that fails (a non-finite
//!   action, a closed Gymnasium process) ends the episode (`done`) with reward 0, and the error
//!   waits in [`BurnEnv::take_error`]; nothing panics.
//! - **No seed in `reset`.** Every `reset` takes the next seed of the instance's own sequence,
//!   [`training_reset_seed`]: the one `rl-train` uses, so an instance started with seed `s`
//!   meets the same start states as `rl-train`'s seed `s`.
//! - **Time limits stay the environment's.** `MAX_STEPS` is `usize::MAX`: the wrapped
//!   environment truncates its own episodes (`StepResult::truncated`). burn-train's off-policy
//!   loop (0.22) stores a truncation as terminal, so its agents do not bootstrap past a time
//!   limit; `rl-train` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::rl::{Batchable, Environment, SliceAccess, StepResult, ToAction, ToObservation};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::{Env, EnvError, Kwargs, make_env};

/// The reset seed of training episode `episode` of seed `seed` (instance 0): distinct per
/// episode and per seed, and apart from the evaluation seeds of `rl-train`.
pub fn training_reset_seed(seed: u64, episode: u64) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(episode)
}

/// The reset seed of evaluation episode `episode` of seed `seed` (every evaluation replays
/// the same episodes, apart from all training seeds).
pub fn evaluation_reset_seed(seed: u64, episode: u64) -> u64 {
    (1u64 << 40) + seed.wrapping_mul(10_007) + episode
}

/// A batch of observations, `[batch, obs_dim]` (one row per environment).
#[derive(Clone, Debug)]
pub struct Observations(pub Tensor<2>);

/// A batch of actions, `[batch, act_dim]`, in the environment's action box.
#[derive(Clone, Debug)]
pub struct Actions(pub Tensor<2>);

/// Rows of `[n, width]` tensors: batching stacks them, unbatching splits them one per row.
macro_rules! rows {
    ($name:ident) => {
        impl Batchable for $name {
            /// Stacks the items' rows. An empty list has no width: burn-rl never batches one.
            fn batch(items: Vec<Self>) -> Self {
                Self(Tensor::cat(
                    items.into_iter().map(|item| item.0).collect(),
                    0,
                ))
            }

            fn unbatch(self) -> Vec<Self> {
                let rows = self.0.dims()[0];
                (0..rows)
                    .map(|i| Self(self.0.clone().slice(i..i + 1)))
                    .collect()
            }
        }

        impl SliceAccess for $name {
            fn zeros_like(sample: &Self, capacity: usize, device: &Device) -> Self {
                Self(<Tensor<2> as SliceAccess>::zeros_like(
                    &sample.0, capacity, device,
                ))
            }

            fn select(self, dim: usize, indices: Tensor<1, Int>) -> Self {
                Self(self.0.select(dim, indices))
            }

            fn slice_assign_inplace(&mut self, index: usize, value: Self) {
                self.0.slice_assign_inplace(index, value.0)
            }
        }

        impl $name {
            /// One row of host values, `[1, values.len()]`, on `device`.
            pub fn from_row(values: &[f32], device: &Device) -> Self {
                Self(Tensor::from_data(
                    TensorData::new(values.to_vec(), [1, values.len()]),
                    device,
                ))
            }

            /// The values, row-major, on the host.
            pub fn to_host(&self) -> Vec<f32> {
                self.0
                    .clone()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap_or_default()
            }
        }
    };
}

rows!(Observations);
rows!(Actions);

/// An observation on the host, as [`Env`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvState(pub Vec<f32>);

impl ToObservation<Observations> for EnvState {
    fn to_observation(&self, device: &Device) -> Observations {
        Observations::from_row(&self.0, device)
    }
}

/// An action on the host, as [`Env`] takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvAction(pub Vec<f32>);

impl From<Actions> for EnvAction {
    /// The first row (burn-train hands each environment its own one-row action).
    fn from(actions: Actions) -> Self {
        let width = actions.0.dims()[1];
        let mut values = actions.to_host();
        values.truncate(width);
        Self(values)
    }
}

impl ToAction<Actions> for EnvAction {
    fn to_action(&self, device: &Device) -> Actions {
        Actions::from_row(&self.0, device)
    }
}

/// An [`Env`] behind burn-rl's [`Environment`] (see the module docs for what it bridges).
pub struct BurnEnv {
    env: Box<dyn Env + Send>,
    obs: Vec<f32>,
    seed: u64,
    /// Added to every reset seed: 0 for the first instance, `k << 32` for the k-th.
    offset: u64,
    episodes: u64,
    error: Option<EnvError>,
}

impl BurnEnv {
    /// Wraps `env` and starts its first episode (seed [`training_reset_seed`]`(seed, 0)`), so
    /// that `state()` is valid at once.
    pub fn new(env: Box<dyn Env + Send>, seed: u64) -> Result<Self, EnvError> {
        Self::instance(env, seed, 0)
    }

    fn instance(env: Box<dyn Env + Send>, seed: u64, instance: u64) -> Result<Self, EnvError> {
        let mut this = Self {
            env,
            obs: Vec::new(),
            seed,
            offset: instance << 32,
            episodes: 0,
            error: None,
        };
        this.obs = this.next_episode()?;
        Ok(this)
    }

    /// An [`EnvironmentInit`](burn::rl::EnvironmentInit) for burn-train: each call builds a
    /// new instance of `name` with its own reset seeds (instance k adds `k << 32`). The first
    /// instance is built here, so a bad name or a missing Gymnasium is an error now, not a
    /// panic inside the training loop.
    pub fn init(
        name: &str,
        kwargs: &Kwargs,
        seed: u64,
    ) -> Result<impl Fn() -> BurnEnv + Clone + Send + Sync + 'static, EnvError> {
        let first = Self::new(make_env(name, kwargs)?, seed)?;
        let first = Arc::new(std::sync::Mutex::new(Some(first)));
        let next = Arc::new(AtomicU64::new(1));
        let (name, kwargs) = (name.to_string(), kwargs.clone());
        Ok(move || {
            // A poisoned lock only means another init panicked; the slot is still usable.
            let ready = first.lock().unwrap_or_else(|p| p.into_inner()).take();
            ready.unwrap_or_else(|| {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let env = make_env(&name, &kwargs).and_then(|env| Self::instance(env, seed, k));
                // It was built once above; only a failure of the machine itself lands here.
                env.unwrap_or_else(|e| panic!("environment `{name}`, instance {k}: {e}"))
            })
        })
    }

    /// The wrapped environment.
    pub fn env(&self) -> &dyn Env {
        self.env.as_ref()
    }

    /// The error that ended the last episode early, if any (taking it clears it).
    pub fn take_error(&mut self) -> Option<EnvError> {
        self.error.take()
    }

    /// Episodes started so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    fn next_episode(&mut self) -> Result<Vec<f32>, EnvError> {
        let seed = training_reset_seed(self.seed, self.episodes).wrapping_add(self.offset);
        self.episodes += 1;
        self.env.reset(Some(seed))
    }
}

impl Environment for BurnEnv {
    type State = EnvState;
    type Action = EnvAction;
    /// No limit of its own: the wrapped environment truncates its episodes.
    const MAX_STEPS: usize = usize::MAX;

    fn state(&self) -> EnvState {
        EnvState(self.obs.clone())
    }

    fn step(&mut self, action: EnvAction) -> StepResult<EnvState> {
        match self.env.step(&action.0) {
            Ok(step) => {
                self.obs = step.obs;
                StepResult {
                    next_state: EnvState(self.obs.clone()),
                    reward: step.reward,
                    done: step.terminated,
                    truncated: step.truncated,
                }
            }
            Err(e) => {
                self.error = Some(e);
                StepResult {
                    next_state: EnvState(self.obs.clone()),
                    reward: 0.0,
                    done: true,
                    truncated: false,
                }
            }
        }
    }

    fn reset(&mut self) {
        match self.next_episode() {
            Ok(obs) => self.obs = obs,
            Err(e) => self.error = Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pendulum;

    fn pendulum(seed: u64) -> BurnEnv {
        BurnEnv::new(Box::new(Pendulum::default()), seed).unwrap()
    }

    #[test]
    fn resets_follow_rl_trains_seeds() {
        let mut env = pendulum(3);
        let mut direct = Pendulum::default();
        for episode in 0..3 {
            let expected = direct.reset(Some(training_reset_seed(3, episode))).unwrap();
            assert_eq!(env.state().0, expected, "episode {episode}");
            env.reset();
        }
        assert_eq!(env.episodes(), 4);
    }

    #[test]
    fn steps_match_the_wrapped_environment_and_truncate_on_its_limit() {
        let mut env = pendulum(0);
        let mut direct = Pendulum::default();
        direct.reset(Some(training_reset_seed(0, 0))).unwrap();
        let mut steps = 0;
        loop {
            let a = [((steps as f32) * 0.1).sin() * 2.0];
            let ours = env.step(EnvAction(a.to_vec()));
            let theirs = direct.step(&a).unwrap();
            assert_eq!(
                (ours.next_state.0, ours.reward),
                (theirs.obs, theirs.reward)
            );
            assert_eq!(
                (ours.done, ours.truncated),
                (theirs.terminated, theirs.truncated)
            );
            steps += 1;
            if ours.truncated || ours.done {
                break;
            }
        }
        assert_eq!(steps, crate::PENDULUM_MAX_STEPS);
    }

    #[test]
    fn a_failing_step_ends_the_episode_and_keeps_the_error() {
        let mut env = pendulum(0);
        let before = env.state();
        let step = env.step(EnvAction(vec![f32::NAN]));
        assert!(step.done && step.reward == 0.0);
        assert_eq!(step.next_state, before);
        let error = env.take_error().expect("the NaN action's error");
        assert!(error.to_string().contains("NaN"), "{error}");
        assert!(env.take_error().is_none());
        env.reset();
        assert!(env.step(EnvAction(vec![0.5])).reward.is_finite());
    }

    #[test]
    fn init_builds_instances_with_their_own_seeds_and_refuses_bad_names() {
        let init = BurnEnv::init("Pendulum", &Kwargs::default(), 7).unwrap();
        let (a, b) = (init(), init());
        assert_eq!(a.state(), pendulum(7).state());
        assert_ne!(a.state(), b.state());
        let err = BurnEnv::init("NoSuchEnv", &Kwargs::default(), 0)
            .err()
            .unwrap();
        assert!(err.to_string().contains("NoSuchEnv"), "{err}");
    }

    #[test]
    fn batches_stack_and_split_rows() {
        let device = Device::default();
        let rows = [[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let batch = Observations::batch(
            rows.iter()
                .map(|r| EnvState(r.to_vec()).to_observation(&device))
                .collect(),
        );
        assert_eq!(batch.0.dims(), [3, 2]);
        assert_eq!(batch.to_host(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let back: Vec<Vec<f32>> = batch.unbatch().iter().map(Observations::to_host).collect();
        assert_eq!(back, rows.map(|r| r.to_vec()).to_vec());
        let action = EnvAction::from(Actions::from_row(&[0.25, -0.5], &device));
        assert_eq!(action, EnvAction(vec![0.25, -0.5]));
        assert_eq!(action.to_action(&device).to_host(), vec![0.25, -0.5]);
    }
}
