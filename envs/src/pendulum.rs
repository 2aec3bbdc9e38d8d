//! Native port of Gymnasium's `Pendulum-v1`: swing a pendulum up and keep it upright.
//!
//! The arithmetic mirrors Gymnasium's numpy code operation by operation, including NumPy 2's
//! promotion rules (the torque stays `float32` where numpy keeps it so), so trajectories agree
//! with Gymnasium's to f32 precision (see `tests/cross_check.rs`).

use std::f64::consts::PI;

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::episode::Episode;
use crate::{ActionPolicy, BoxSpace, Env, EnvError, KwargValue, Kwargs, Step};

const NAME: &str = "Pendulum";
const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const M: f64 = 1.0;
const L: f64 = 1.0;
/// Gymnasium's `TimeLimit` for `Pendulum-v1`.
pub const PENDULUM_MAX_STEPS: usize = 200;

/// The pendulum swing-up task with Gymnasium `Pendulum-v1`'s dynamics, reward, bounds,
/// initial-state distribution (θ ~ U[-π, π), θ̇ ~ U[-1, 1)) and 200-step limit.
#[derive(Clone, Debug)]
pub struct Pendulum {
    g: f64,
    theta: f64,
    theta_dot: f64,
    rng: StdRng,
    episode: Episode,
    policy: ActionPolicy,
    obs_space: BoxSpace,
    act_space: BoxSpace,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new(10.0)
    }
}

impl Pendulum {
    /// A pendulum under gravity `g` (Gymnasium's default is 10.0).
    pub fn new(g: f64) -> Self {
        Self {
            g,
            theta: 0.0,
            theta_dot: 0.0,
            rng: StdRng::from_os_rng(),
            episode: Episode::new(Some(PENDULUM_MAX_STEPS)),
            policy: ActionPolicy::Clip,
            obs_space: BoxSpace::new(vec![3], vec![-1.0, -1.0, -8.0], vec![1.0, 1.0, 8.0])
                .expect("valid bounds"),
            act_space: BoxSpace::uniform(1, -MAX_TORQUE, MAX_TORQUE).expect("valid bounds"),
        }
    }

    /// Builds from Gymnasium-style kwargs: `g` (gravity) and `max_episode_steps`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self, EnvError> {
        let mut env = Self::default();
        for (key, value) in kwargs {
            match key.as_str() {
                "g" => env.g = finite(value).ok_or_else(|| bad(key, "expected a finite number"))?,
                "max_episode_steps" => {
                    env.episode = Episode::new(steps(value).map_err(|r| bad(key, r))?)
                }
                "render_mode" if *value == KwargValue::None => {}
                _ => return Err(bad(key, "Pendulum accepts `g` and `max_episode_steps`")),
            }
        }
        Ok(env)
    }

    /// The physical state `(θ, θ̇)` in f64, as Gymnasium keeps it in `env.unwrapped.state`.
    pub fn state(&self) -> (f64, f64) {
        (self.theta, self.theta_dot)
    }

    /// Overrides the physical state, e.g. to copy Gymnasium's state right after a reset so both
    /// follow the same trajectory. Does not touch the episode clock; returns the observation.
    pub fn set_state(&mut self, theta: f64, theta_dot: f64) -> Vec<f32> {
        self.theta = theta;
        self.theta_dot = theta_dot;
        self.obs()
    }

    fn obs(&self) -> Vec<f32> {
        vec![
            self.theta.cos() as f32,
            self.theta.sin() as f32,
            self.theta_dot as f32,
        ]
    }
}

/// Gymnasium's `angle_normalize`: `((x + π) % 2π) - π` with Python's floored modulo.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl Env for Pendulum {
    fn name(&self) -> &str {
        "Pendulum"
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
        self.theta = self.rng.random_range(-PI..PI);
        self.theta_dot = self.rng.random_range(-1.0..1.0);
        Ok(self.obs())
    }

    fn step(&mut self, action: &[f32]) -> Result<Step, EnvError> {
        self.episode.check_step(self.name())?;
        let action = self
            .act_space
            .check_action(self.name(), action, self.policy)?;
        // Gymnasium: u = np.clip(u, -2, 2)[0] stays float32, and so do `0.001 * u**2` and
        // `3.0 / (m * l**2) * u` (Python floats are "weak" under NumPy 2); the rest is float64.
        let u = action[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        let (th, thdot) = (self.theta, self.theta_dot);
        let costs =
            angle_normalize(th).powi(2) + 0.1 * thdot.powi(2) + f64::from(0.001f32 * (u * u));
        let torque = f64::from((3.0 / (M * L * L)) as f32 * u);
        let newthdot = thdot + (3.0 * self.g / (2.0 * L) * th.sin() + torque) * DT;
        let newthdot = newthdot.clamp(-MAX_SPEED, MAX_SPEED);
        self.theta = th + newthdot * DT;
        self.theta_dot = newthdot;
        let truncated = self.episode.count_step();
        self.episode.finish_step(truncated);
        Ok(Step {
            obs: self.obs(),
            reward: -costs,
            terminated: false,
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

pub(crate) fn finite(value: &KwargValue) -> Option<f64> {
    value.as_f64().filter(|f| f.is_finite())
}

/// `max_episode_steps`: a positive integer, or `None` for no limit.
pub(crate) fn steps(value: &KwargValue) -> Result<Option<usize>, &'static str> {
    match value {
        KwargValue::None => Ok(None),
        v => v
            .as_usize()
            .filter(|&n| n > 0)
            .map(Some)
            .ok_or("expected a positive integer or None"),
    }
}

fn bad(key: &str, reason: &str) -> EnvError {
    EnvError::InvalidKwarg {
        env: "Pendulum".into(),
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kwargs;

    #[test]
    fn angle_normalize_wraps_into_minus_pi_pi() {
        for x in [-10.0, -PI - 0.1, -0.3, 0.0, 3.0, PI + 0.1, 25.0] {
            let y = angle_normalize(x);
            assert!((-PI..PI).contains(&y), "{x} -> {y}");
            let turns = (x - y) / (2.0 * PI);
            assert!(
                (turns - turns.round()).abs() < 1e-12,
                "{x} -> {y} is not a whole number of turns away"
            );
        }
    }

    #[test]
    fn upright_at_rest_with_no_torque_stays_with_zero_reward() {
        let mut env = Pendulum::default();
        env.reset(Some(0)).unwrap();
        env.set_state(0.0, 0.0);
        let s = env.step(&[0.0]).unwrap();
        assert_eq!(s.reward, 0.0);
        assert_eq!(s.obs, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn hanging_pendulum_worst_reward_matches_documented_minimum() {
        // Gymnasium documents -(π² + 0.1·8² + 0.001·2²) = -16.2736044 as the lowest reward.
        let mut env = Pendulum::default();
        env.reset(Some(0)).unwrap();
        env.set_state(PI - 1e-12, MAX_SPEED);
        let s = env.step(&[2.0]).unwrap();
        assert!((s.reward + 16.2736044).abs() < 1e-6, "{}", s.reward);
    }

    #[test]
    fn kwargs_set_gravity_and_limit_and_reject_unknown() {
        let mut heavy = Pendulum::from_kwargs(&kwargs([
            ("g", 20.0.into()),
            ("max_episode_steps", 3.into()),
        ]))
        .unwrap();
        let mut light = Pendulum::default();
        for env in [&mut heavy, &mut light] {
            env.reset(Some(1)).unwrap();
            env.set_state(1.0, 0.0);
        }
        let (h, l) = (heavy.step(&[0.0]).unwrap(), light.step(&[0.0]).unwrap());
        assert!(
            h.obs[2] > l.obs[2] && l.obs[2] > 0.0,
            "gravity must accelerate the fall: {h:?} {l:?}"
        );
        assert!(heavy.step(&[0.0]).is_ok());
        assert!(heavy.step(&[0.0]).unwrap().truncated);
        let e = Pendulum::from_kwargs(&kwargs([("gravity", 1.0.into())])).unwrap_err();
        assert!(
            matches!(e, EnvError::InvalidKwarg { ref key, .. } if key == "gravity"),
            "{e}"
        );
        assert!(Pendulum::from_kwargs(&kwargs([("g", "x".into())])).is_err());
    }
}
