//! The Gymnasium bridge: MuJoCo shapes, seeding, long rollouts, threads and every error case.
//! Each test skips, saying why, where Python/Gymnasium/MuJoCo is unavailable.

mod common;

#[cfg(not(feature = "gym"))]
#[test]
fn bridge() {
    eprintln!("SKIP gym_bridge: built without the `gym` feature");
}

#[cfg(feature = "gym")]
mod with_gym {
    use super::common::{Rng, bridge_available};
    use lrfree_envs::gym::{python_info, run_python};
    use lrfree_envs::{ActionPolicy, EnvError, KwargValue, Kwargs, kwargs, make_env};

    fn mujoco(test: &str) -> bool {
        let ok = bridge_available(test, true);
        if ok {
            eprintln!("{test}: {}", python_info().unwrap());
        }
        ok
    }

    #[test]
    fn hopper_and_humanoid_have_gymnasium_shapes_and_bounds() {
        if !mujoco("hopper_and_humanoid_have_gymnasium_shapes_and_bounds") {
            return;
        }
        for (name, id, obs, act, bound) in [
            ("Hopper", "Hopper-v5", 11, 3, 1.0),
            ("Humanoid", "Humanoid-v5", 348, 17, 0.4),
        ] {
            let mut env = make_env(name, &Kwargs::new()).unwrap();
            assert_eq!(env.name(), id);
            assert_eq!(env.observation_space().shape(), &[obs]);
            assert_eq!(env.action_space().shape(), &[act]);
            assert!(
                env.action_space().low().iter().all(|&l| l == -bound),
                "{:?}",
                env.action_space()
            );
            assert!(env.action_space().high().iter().all(|&h| h == bound));
            assert!(
                env.observation_space()
                    .low()
                    .iter()
                    .all(|l| l.is_infinite())
            );
            assert_eq!(env.max_episode_steps(), Some(1000));
            let o = env.reset(Some(0)).unwrap();
            assert_eq!(o.len(), obs);
            let s = env.step(&vec![0.0; act]).unwrap();
            assert_eq!(s.obs.len(), obs);
            assert!(s.reward.is_finite() && s.obs.iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn seeded_reset_is_reproducible() {
        if !mujoco("seeded_reset_is_reproducible") {
            return;
        }
        let mut a = make_env("Hopper-v5", &Kwargs::new()).unwrap();
        let mut b = make_env("Hopper-v5", &Kwargs::new()).unwrap();
        let first = a.reset(Some(42)).unwrap();
        assert_eq!(first, b.reset(Some(42)).unwrap());
        assert_ne!(first, b.reset(Some(43)).unwrap());
        // Reseeding the same env returns to the same start, and identical actions give
        // identical trajectories.
        b.reset(Some(42)).unwrap();
        let mut rng = Rng(1);
        for _ in 0..20 {
            let act = rng.action(a.action_space().low(), a.action_space().high());
            assert_eq!(a.step(&act).unwrap(), b.step(&act).unwrap());
        }
    }

    #[test]
    fn thousand_step_random_rollout_with_resets() {
        if !mujoco("thousand_step_random_rollout_with_resets") {
            return;
        }
        let mut env = make_env("Hopper", &Kwargs::new()).unwrap();
        let mut rng = Rng(5);
        let (mut episodes, mut len, mut longest) = (1, 0, 0);
        env.reset(Some(0)).unwrap();
        for _ in 0..1_000 {
            let act = rng.action(env.action_space().low(), env.action_space().high());
            let s = env.step(&act).unwrap();
            assert_eq!(s.obs.len(), 11);
            assert!(s.obs.iter().all(|x| x.is_finite()) && s.reward.is_finite());
            len += 1;
            if s.done() {
                // Random Hopper falls over: termination, not the 1000-step time limit.
                assert!(s.terminated && !s.truncated && len < 1000);
                assert!(matches!(env.step(&act), Err(EnvError::NeedsReset { .. })));
                longest = longest.max(len);
                len = 0;
                episodes += 1;
                env.reset(None).unwrap();
            }
        }
        eprintln!("Hopper-v5 random rollout: {episodes} episodes, longest {longest} steps");
        assert!(episodes > 5, "{episodes}");
    }

    #[test]
    fn time_limit_kwarg_passes_through_and_truncates() {
        if !mujoco("time_limit_kwarg_passes_through_and_truncates") {
            return;
        }
        let mut env = make_env(
            "Hopper",
            &kwargs([
                ("max_episode_steps", 5.into()),
                ("terminate_when_unhealthy", false.into()),
            ]),
        )
        .unwrap();
        assert_eq!(env.max_episode_steps(), Some(5));
        env.reset(Some(0)).unwrap();
        let flags: Vec<bool> = (0..5)
            .map(|_| env.step(&[0.0; 3]).unwrap().truncated)
            .collect();
        assert_eq!(flags, [false, false, false, false, true]);
        let e = env.step(&[0.0; 3]).unwrap_err();
        assert!(
            matches!(e, EnvError::NeedsReset { .. }) && e.to_string().contains("reset()"),
            "{e}"
        );
    }

    #[test]
    fn unknown_id_and_bad_kwargs_are_errors_with_gymnasiums_message() {
        if !bridge_available(
            "unknown_id_and_bad_kwargs_are_errors_with_gymnasiums_message",
            false,
        ) {
            return;
        }
        match make_env("Hopperr-v5", &Kwargs::new()) {
            Err(EnvError::UnknownGymId { id, message }) => {
                assert_eq!(id, "Hopperr-v5");
                assert!(
                    message.contains("Hopper"),
                    "Gymnasium suggests the right name: {message}"
                );
            }
            other => panic!("expected UnknownGymId, got {:?}", other.err()),
        }
        assert!(matches!(
            make_env("Pendulum-v0", &Kwargs::new()),
            Err(EnvError::UnknownGymId { .. })
        ));
        match make_env("Pendulum-v1", &kwargs([("no_such_option", 1.into())])) {
            Err(EnvError::Python {
                kind,
                message,
                during: "make",
                ..
            }) => {
                assert_eq!(kind, "TypeError");
                assert!(message.contains("no_such_option"), "{message}");
            }
            other => panic!("expected a TypeError from make, got {:?}", other.err()),
        }
    }

    #[test]
    fn actions_are_checked_before_python_sees_them() {
        if !bridge_available("actions_are_checked_before_python_sees_them", false) {
            return;
        }
        let mut env = make_env("Pendulum-v1", &Kwargs::new()).unwrap();
        assert!(
            matches!(env.step(&[0.0]), Err(EnvError::NeedsReset { .. })),
            "step before reset"
        );
        env.reset(Some(3)).unwrap();
        assert!(matches!(
            env.step(&[0.0, 1.0]),
            Err(EnvError::ActionLength {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            env.step(&[f32::INFINITY]),
            Err(EnvError::NonFiniteAction { .. })
        ));
        env.set_action_policy(ActionPolicy::Reject);
        assert!(matches!(
            env.step(&[2.5]),
            Err(EnvError::ActionOutOfBounds { high: 2.0, .. })
        ));
        // Clip (the default) sends the bound: same trajectory as sending the bound itself.
        let mut clipped = make_env("Pendulum-v1", &Kwargs::new()).unwrap();
        env.set_action_policy(ActionPolicy::Clip);
        env.reset(Some(8)).unwrap();
        clipped.reset(Some(8)).unwrap();
        assert_eq!(env.step(&[9.0]).unwrap(), clipped.step(&[2.0]).unwrap());
        assert_ne!(env.step(&[2.0]).unwrap(), clipped.step(&[-2.0]).unwrap());
    }

    #[test]
    fn python_exception_in_step_is_an_error_with_type_and_message() {
        if !bridge_available(
            "python_exception_in_step_is_an_error_with_type_and_message",
            false,
        ) {
            return;
        }
        // Gymnasium's Pendulum only uses `g` in step(), so a string there fails inside step.
        let mut env = make_env("Pendulum-v1", &kwargs([("g", KwargValue::from("ten"))])).unwrap();
        env.reset(Some(0)).unwrap();
        match env.step(&[0.0]) {
            Err(EnvError::Python {
                kind,
                during: "step",
                traceback,
                message,
                ..
            }) => {
                assert_eq!(kind, "TypeError", "{message}");
                assert!(traceback.contains("pendulum.py"), "{traceback}");
            }
            other => panic!("expected a Python TypeError, got {other:?}"),
        }
        // A custom environment that raises its own exception type.
        run_python(
            r#"
import gymnasium, numpy as np
class Exploding(gymnasium.Env):
    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}
    def step(self, action):
        if action[0] > 0.5:
            raise RuntimeError(f"boom at {float(action[0]):.2f}")
        return np.ones(2, np.float32), 1.5, False, False, {}
gymnasium.register(id="LrfreeExploding-v0", entry_point=Exploding, disable_env_checker=True)
"#,
        )
        .unwrap();
        let mut env = make_env("LrfreeExploding-v0", &Kwargs::new()).unwrap();
        env.reset(Some(0)).unwrap();
        let ok = env.step(&[0.0]).unwrap();
        assert_eq!((ok.obs, ok.reward), (vec![1.0, 1.0], 1.5));
        let e = env.step(&[0.75]).unwrap_err();
        assert!(
            matches!(&e, EnvError::Python { kind, message, .. } if kind == "RuntimeError" && message == "boom at 0.75"),
            "{e}"
        );
        assert!(
            e.to_string().contains("RuntimeError") && e.to_string().contains("boom at 0.75"),
            "{e}"
        );
        // A Python error is not an episode end: the env keeps working.
        assert!(env.step(&[0.0]).is_ok());
        // run_python reports syntax errors as values too.
        assert!(
            matches!(run_python("def ("), Err(EnvError::Python { kind, .. }) if kind == "SyntaxError")
        );
    }

    #[test]
    fn non_box_spaces_are_rejected_at_creation() {
        if !bridge_available("non_box_spaces_are_rejected_at_creation", false) {
            return;
        }
        let e = make_env("CartPole-v1", &Kwargs::new())
            .err()
            .expect("Discrete actions are unsupported");
        assert!(
            matches!(e, EnvError::UnsupportedSpace { what: "action", .. }),
            "{e}"
        );
    }

    #[test]
    fn closed_env_refuses_work() {
        if !bridge_available("closed_env_refuses_work", false) {
            return;
        }
        let mut env = make_env("Pendulum-v1", &Kwargs::new()).unwrap();
        env.reset(Some(0)).unwrap();
        env.close().unwrap();
        env.close().unwrap();
        assert!(matches!(env.reset(Some(0)), Err(EnvError::Closed { .. })));
        assert!(matches!(env.step(&[0.0]), Err(EnvError::Closed { .. })));
    }

    /// 200 seeded steps with seed-derived actions; returns the trajectory.
    fn rollout(seed: u64) -> Vec<(Vec<f32>, f64)> {
        let mut env = make_env("Hopper-v5", &Kwargs::new()).unwrap();
        let mut rng = Rng(seed);
        let mut out = vec![(env.reset(Some(seed)).unwrap(), 0.0)];
        for _ in 0..200 {
            let act = rng.action(env.action_space().low(), env.action_space().high());
            let s = env.step(&act).unwrap();
            let done = s.done();
            out.push((s.obs, s.reward));
            if done {
                out.push((env.reset(None).unwrap(), 0.0));
            }
        }
        out
    }

    #[test]
    fn one_env_per_thread_runs_in_parallel_and_matches_sequential_runs() {
        if !mujoco("one_env_per_thread_runs_in_parallel_and_matches_sequential_runs") {
            return;
        }
        let seeds = [1u64, 2, 3, 4];
        let threads: Vec<_> = seeds
            .iter()
            .map(|&s| std::thread::spawn(move || rollout(s)))
            .collect();
        let parallel: Vec<_> = threads
            .into_iter()
            .map(|t| t.join().expect("thread panicked"))
            .collect();
        for (seed, par) in seeds.iter().zip(&parallel) {
            assert_eq!(
                par,
                &rollout(*seed),
                "seed {seed}: a thread changed the trajectory"
            );
        }
        assert_ne!(parallel[0], parallel[1]);
        // Environments also move between threads (Send).
        let mut env = make_env("Hopper-v5", &Kwargs::new()).unwrap();
        env.reset(Some(0)).unwrap();
        let env = std::thread::spawn(move || {
            env.step(&[0.1, 0.1, 0.1]).unwrap();
            env
        })
        .join()
        .unwrap();
        drop(env);
    }
}
