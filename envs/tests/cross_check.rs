//! The native ports against Gymnasium itself: same initial state (copied from Gymnasium after
//! each reset), same random actions, 1,000 steps with resets; observations and rewards must
//! agree to 1e-5 relative. Skips, saying why, where the bridge is unavailable.

mod common;

#[cfg(not(feature = "gym"))]
#[test]
fn native_ports_match_gymnasium() {
    eprintln!("SKIP native_ports_match_gymnasium: built without the `gym` feature");
}

#[cfg(feature = "gym")]
mod with_gym {
    use super::common::{Rng, bridge_available, rel_err};
    use lrfree_envs::gym::GymEnv;
    use lrfree_envs::{Env, Kwargs, MountainCarContinuous, Pendulum};

    const TOL: f64 = 1e-5;

    /// A native port that can adopt Gymnasium's state (`env.unwrapped.state`).
    trait Port: Env {
        fn adopt(&mut self, state: &[f64]) -> Vec<f32>;
    }
    impl Port for Pendulum {
        fn adopt(&mut self, s: &[f64]) -> Vec<f32> {
            self.set_state(s[0], s[1])
        }
    }
    impl Port for MountainCarContinuous {
        fn adopt(&mut self, s: &[f64]) -> Vec<f32> {
            self.set_state(s[0], s[1])
        }
    }

    /// Largest relative error between two observations; panics past the tolerance.
    fn compare(env: &str, what: &str, t: usize, a: &[f32], b: &[f32]) -> f64 {
        assert_eq!(a.len(), b.len());
        let mut worst = 0.0f64;
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            let e = rel_err(x.into(), y.into());
            assert!(
                e <= TOL,
                "{env}: step {t}: {what}[{i}] native {x} vs gymnasium {y} (rel {e:e})"
            );
            worst = worst.max(e);
        }
        worst
    }

    /// Steps `native` and `gym` in lockstep for 1,000 steps, copying Gymnasium's state into the
    /// native env after each reset. Returns (max relative error, episodes, terminations).
    fn lockstep(
        native: &mut impl Port,
        gym: &mut GymEnv,
        mut policy: impl FnMut(&[f32], &mut Rng) -> Vec<f32>,
        seed: u64,
    ) -> (f64, usize, usize) {
        let name = native.name().to_owned();
        let mut rng = Rng(seed);
        let (mut worst, mut resets, mut terminations) = (0.0f64, 0, 0);
        let mut obs = Vec::new();
        let mut need_reset = true;
        for t in 0..1_000 {
            if need_reset {
                let gym_obs = gym.reset(Some(seed + resets as u64)).unwrap();
                native.reset(Some(seed)).unwrap();
                let native_obs = native.adopt(&gym.unwrapped_attr("state").unwrap());
                worst = worst.max(compare(&name, "reset obs", t, &native_obs, &gym_obs));
                obs = gym_obs;
                resets += 1;
            }
            let action = policy(&obs, &mut rng);
            let (n, g) = (native.step(&action).unwrap(), gym.step(&action).unwrap());
            worst = worst.max(compare(&name, "obs", t, &n.obs, &g.obs));
            let e = rel_err(n.reward, g.reward);
            assert!(
                e <= TOL,
                "{name}: step {t}: reward native {} vs gymnasium {} (rel {e:e})",
                n.reward,
                g.reward
            );
            worst = worst.max(e);
            assert_eq!(
                (n.terminated, n.truncated),
                (g.terminated, g.truncated),
                "{name}: step {t}"
            );
            terminations += usize::from(g.terminated);
            need_reset = g.done();
            obs = g.obs;
        }
        (worst, resets, terminations)
    }

    #[test]
    fn pendulum_matches_gymnasium_pendulum_v1() {
        if !bridge_available("pendulum_matches_gymnasium_pendulum_v1", false) {
            return;
        }
        let mut gym = GymEnv::new("Pendulum-v1", &Kwargs::new()).unwrap();
        let mut native = Pendulum::default();
        assert_eq!(native.observation_space(), gym.observation_space());
        assert_eq!(native.action_space(), gym.action_space());
        assert_eq!(native.max_episode_steps(), gym.max_episode_steps());
        let (worst, resets, _) = lockstep(
            &mut native,
            &mut gym,
            |_, rng| vec![rng.uniform(-2.0, 2.0)],
            11,
        );
        eprintln!(
            "Pendulum vs Pendulum-v1: 1000 steps, {resets} episodes, max relative error {worst:e}"
        );
        assert_eq!(resets, 5, "200-step time limit");
    }

    #[test]
    fn mountain_car_matches_gymnasium_mountain_car_continuous_v0() {
        if !bridge_available(
            "mountain_car_matches_gymnasium_mountain_car_continuous_v0",
            false,
        ) {
            return;
        }
        let mut gym = GymEnv::new("MountainCarContinuous-v0", &Kwargs::new()).unwrap();
        let mut native = MountainCarContinuous::default();
        assert_eq!(native.observation_space(), gym.observation_space());
        assert_eq!(native.action_space(), gym.action_space());
        assert_eq!(native.max_episode_steps(), gym.max_episode_steps());
        let random = |_: &[f32], rng: &mut Rng| vec![rng.uniform(-1.0, 1.0)];
        let (worst, resets, _) = lockstep(&mut native, &mut gym, random, 21);
        eprintln!(
            "MountainCarContinuous vs -v0, random actions: 1000 steps, {resets} episodes, max relative error {worst:e}"
        );
        // Random actions rarely reach the goal; a noisy energy-pumping policy does, and also hits
        // the left wall, so the goal bonus, termination and wall branches are compared too.
        let pump = |obs: &[f32], rng: &mut Rng| {
            let push = if obs[1] >= 0.0 { 1.0 } else { -1.0 };
            vec![(push * rng.uniform(0.3, 1.0) + rng.uniform(-0.3, 0.3)).clamp(-1.0, 1.0)]
        };
        let (worst, resets, terminations) = lockstep(&mut native, &mut gym, pump, 22);
        eprintln!(
            "MountainCarContinuous vs -v0, noisy pumping: 1000 steps, {resets} episodes, {terminations} goals, max relative error {worst:e}"
        );
        assert!(
            terminations >= 2,
            "the pumping policy should reach the goal: {terminations}"
        );
    }
}
