//! Native port of Gymnasium's `MountainCarContinuous-v0`: drive an underpowered car up a hill.
//!
//! Gymnasium mixes Python floats, `float32` and `float64` here (the state is `float64` right
//! after `reset` and `float32` after every step; an in-bounds force is `float32`, a clipped one a
//! Python float). We reproduce that precision step by step so trajectories match Gymnasium's.

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::episode::Episode;
use crate::pendulum::{finite, steps};
use crate::{ActionPolicy, BoxSpace, Env, EnvError, KwargValue, Kwargs, Step};

const NAME: &str = "MountainCarContinuous";
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;
/// Gymnasium's `TimeLimit` for `MountainCarContinuous-v0`.
pub const MOUNTAIN_CAR_MAX_STEPS: usize = 999;

/// The continuous mountain car with Gymnasium `MountainCarContinuous-v0`'s dynamics, reward
/// (+100 at the goal, −0.1·a² per step), bounds, initial state (x ~ U[-0.6, -0.4), v = 0) and
/// 999-step limit.
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    goal_velocity: f64,
    position: f64,
    velocity: f64,
    /// True right after reset/set_state, when Gymnasium's state is still `float64`.
    fresh: bool,
    rng: StdRng,
    episode: Episode,
    policy: ActionPolicy,
    obs_space: BoxSpace,
    act_space: BoxSpace,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new(0.0)
    }
}

/// Rounds an exact f64 result of `+`, `-` or `*` on state values to Gymnasium's state precision:
/// float64 while the state is fresh from reset, float32 afterwards (exact: f64 holds f32 products).
fn in_state_precision(fresh: bool, value: f64) -> f64 {
    if fresh {
        value
    } else {
        f64::from(value as f32)
    }
}

impl MountainCarContinuous {
    /// A car that must reach x ≥ 0.45 with velocity ≥ `goal_velocity` (Gymnasium's default 0).
    pub fn new(goal_velocity: f64) -> Self {
        Self {
            goal_velocity,
            position: 0.0,
            velocity: 0.0,
            fresh: true,
            rng: StdRng::from_os_rng(),
            episode: Episode::new(Some(MOUNTAIN_CAR_MAX_STEPS)),
            policy: ActionPolicy::Clip,
            obs_space: BoxSpace::new(
                vec![2],
                vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                vec![MAX_POSITION as f32, MAX_SPEED as f32],
            )
            .expect("valid bounds"),
            act_space: BoxSpace::uniform(1, -1.0, 1.0).expect("valid bounds"),
        }
    }

    /// Builds from Gymnasium-style kwargs: `goal_velocity` and `max_episode_steps`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self, EnvError> {
        let mut env = Self::default();
        for (key, value) in kwargs {
            match key.as_str() {
                "goal_velocity" => {
                    env.goal_velocity =
                        finite(value).ok_or_else(|| bad(key, "expected a finite number"))?
                }
                "max_episode_steps" => {
                    env.episode = Episode::new(steps(value).map_err(|r| bad(key, r))?)
                }
                "render_mode" if *value == KwargValue::None => {}
                _ => {
                    return Err(bad(
                        key,
                        "MountainCarContinuous accepts `goal_velocity` and `max_episode_steps`",
                    ));
                }
            }
        }
        Ok(env)
    }

    /// `(position, velocity)` as Gymnasium keeps them in `env.unwrapped.state`.
    pub fn state(&self) -> (f64, f64) {
        (self.position, self.velocity)
    }

    /// Overrides the state as if `reset` had drawn it (still `float64`, like Gymnasium's freshly
    /// reset state). Does not touch the episode clock; returns the observation.
    pub fn set_state(&mut self, position: f64, velocity: f64) -> Vec<f32> {
        self.position = position;
        self.velocity = velocity;
        self.fresh = true;
        self.obs()
    }

    fn obs(&self) -> Vec<f32> {
        vec![self.position as f32, self.velocity as f32]
    }
}

impl Env for MountainCarContinuous {
    fn name(&self) -> &str {
        "MountainCarContinuous"
    }

    fn observation_space(&self) -> &BoxSpace {
        &self.obs_space
    }

    fn action_space(&self) -> &BoxSpace {
        &self.act_space
    }

    fn max_episode_steps(&self) -> Option<usize> {
        self.episode.max_steps()
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<Vec<f32>, EnvError> {
        self.episode.begin(NAME)?;
        if let Some(seed) = seed {
            self.rng = StdRng::seed_from_u64(seed);
        }
        let position = self.rng.random_range(-0.6..-0.4);
        Ok(self.set_state(position, 0.0))
    }

    fn step(&mut self, action: &[f32]) -> Result<Step, EnvError> {
        self.episode.check_step(self.name())?;
        let action = self
            .act_space
            .check_action(self.name(), action, self.policy)?;
        let a = action[0];
        let fresh = self.fresh;
        let s = |v: f64| in_state_precision(fresh, v);
        // Comparisons against Python floats happen in the state's precision too.
        let gt = |x: f64, bound: f64| {
            if fresh {
                x > bound
            } else {
                (x as f32) > (bound as f32)
            }
        };

        // `a` is within [-1, 1] here (check_action clipped or rejected it), so Gymnasium's
        // `force = min(max(a, -1.0), 1.0)` is the float32 action and `force * power - hill` is
        // float32 arithmetic.
        let hill = 0.0025 * s(3.0 * self.position).cos();
        let delta = f64::from(a * POWER as f32 - hill as f32);
        let mut velocity = s(self.velocity + delta);
        if gt(velocity, MAX_SPEED) {
            velocity = MAX_SPEED;
        }
        if gt(-MAX_SPEED, velocity) {
            velocity = -MAX_SPEED;
        }
        let mut position = s(self.position + s(velocity));
        if gt(position, MAX_POSITION) {
            position = MAX_POSITION;
        }
        if gt(MIN_POSITION, position) {
            position = MIN_POSITION;
        }
        let at_wall = if fresh {
            position == MIN_POSITION
        } else {
            position as f32 == MIN_POSITION as f32
        };
        if at_wall && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = !gt(GOAL_POSITION, position) && !gt(self.goal_velocity, velocity);
        // Gymnasium's reward uses the unclipped action.
        let reward = if terminated { 100.0 } else { 0.0 } - f64::from(a).powi(2) * 0.1;

        // Gymnasium stores the new state as float32.
        self.position = f64::from(position as f32);
        self.velocity = f64::from(velocity as f32);
        self.fresh = false;
        let truncated = self.episode.count_step();
        self.episode.finish_step(terminated || truncated);
        Ok(Step {
            obs: self.obs(),
            reward,
            terminated,
            truncated,
        })
    }

    fn set_action_policy(&mut self, policy: ActionPolicy) {
        self.policy = policy;
    }

    fn close(&mut self) -> Result<(), EnvError> {
        self.episode.close();
        Ok(())
    }
}

fn bad(key: &str, reason: &str) -> EnvError {
    EnvError::InvalidKwarg {
        env: "MountainCarContinuous".into(),
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_throttle_from_the_valley_does_not_reach_the_goal_directly() {
        // The car is underpowered: pushing right only, from rest at the bottom, it stalls.
        let mut env = MountainCarContinuous::default();
        env.reset(Some(0)).unwrap();
        env.set_state(-0.5, 0.0);
        let mut max_x = f32::MIN;
        for _ in 0..200 {
            let s = env.step(&[1.0]).unwrap();
            assert!(!s.terminated);
            max_x = max_x.max(s.obs[0]);
        }
        assert!(max_x < 0.45 && max_x > -0.5, "{max_x}");
    }

    #[test]
    fn rocking_reaches_the_goal_with_the_bonus() {
        // Push along the velocity (energy pumping): the classic solution.
        let mut env = MountainCarContinuous::default();
        let mut obs = env.reset(Some(3)).unwrap();
        let mut total = 0.0;
        for t in 0..999 {
            let push = if obs[1] >= 0.0 { 1.0 } else { -1.0 };
            let s = env.step(&[push]).unwrap();
            total += s.reward;
            obs = s.obs;
            if s.terminated {
                assert!(obs[0] >= 0.45, "{obs:?}");
                assert!(total > 80.0 && t < 300, "{total} after {t} steps");
                return;
            }
        }
        panic!("energy pumping never reached the goal");
    }

    #[test]
    fn left_wall_stops_the_car() {
        let mut env = MountainCarContinuous::default();
        env.reset(Some(0)).unwrap();
        env.set_state(-1.19, -0.05);
        let s = env.step(&[-1.0]).unwrap();
        assert_eq!(s.obs, vec![MIN_POSITION as f32, 0.0]);
    }

    #[test]
    fn reset_draws_from_the_documented_interval_deterministically() {
        let mut a = MountainCarContinuous::default();
        let mut b = MountainCarContinuous::default();
        for seed in 0..20 {
            let (oa, ob) = (a.reset(Some(seed)).unwrap(), b.reset(Some(seed)).unwrap());
            assert_eq!(oa, ob);
            assert!((-0.6..-0.4).contains(&oa[0]) && oa[1] == 0.0, "{oa:?}");
        }
    }
}
