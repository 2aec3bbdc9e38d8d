//! The reset/step protocol and seeding of the native environments, through `Box<dyn Env>`.

mod common;

use lrfree_envs::{ActionPolicy, Env, EnvError, Kwargs, MountainCarContinuous, Pendulum, make_env};

fn natives() -> Vec<Box<dyn Env + Send>> {
    ["Pendulum", "MountainCarContinuous"]
        .iter()
        .map(|n| make_env(n, &Kwargs::new()).unwrap())
        .collect()
}

#[test]
fn step_before_reset_after_end_and_after_close_are_errors() {
    for mut env in natives() {
        let zero = vec![0.0; env.action_space().dim()];
        assert!(
            matches!(env.step(&zero), Err(EnvError::NeedsReset { .. })),
            "{}",
            env.name()
        );
        env.reset(Some(0)).unwrap();
        let limit = env.max_episode_steps().unwrap();
        for t in 1..=limit {
            let s = env.step(&zero).unwrap();
            assert_eq!(s.truncated, t == limit, "{} step {t}", env.name());
            if s.done() {
                break;
            }
        }
        let e = env.step(&zero).unwrap_err();
        assert!(matches!(e, EnvError::NeedsReset { .. }), "{e}");
        assert!(e.to_string().contains("reset()"), "{e}");
        env.reset(None).unwrap();
        env.step(&zero).unwrap();
        env.close().unwrap();
        assert!(matches!(env.reset(Some(1)), Err(EnvError::Closed { .. })));
        assert!(matches!(env.step(&zero), Err(EnvError::Closed { .. })));
    }
}

#[test]
fn seeded_resets_reproduce_and_seeds_differ() {
    for (mut a, mut b) in natives().into_iter().zip(natives()) {
        let mut rng = common::Rng(7);
        let first = a.reset(Some(123)).unwrap();
        assert_eq!(first, b.reset(Some(123)).unwrap());
        assert_ne!(first, b.reset(Some(124)).unwrap(), "{}", a.name());
        b.reset(Some(123)).unwrap();
        for _ in 0..50 {
            let act = rng.action(a.action_space().low(), a.action_space().high());
            assert_eq!(a.step(&act).unwrap(), b.step(&act).unwrap());
        }
        // An unseeded reset continues the stream, so it differs from the seeded first draw.
        assert_ne!(a.reset(None).unwrap(), first);
    }
}

#[test]
fn observations_stay_inside_the_observation_space() {
    for mut env in natives() {
        let mut rng = common::Rng(3);
        let mut obs = env.reset(Some(5)).unwrap();
        for _ in 0..2_000 {
            assert!(
                env.observation_space().contains(&obs),
                "{}: {obs:?}",
                env.name()
            );
            let act = rng.action(env.action_space().low(), env.action_space().high());
            let s = env.step(&act).unwrap();
            obs = if s.done() {
                env.reset(None).unwrap()
            } else {
                s.obs
            };
        }
    }
}

#[test]
fn bad_actions_are_errors_and_out_of_bounds_follow_the_policy() {
    for mut env in natives() {
        env.reset(Some(0)).unwrap();
        assert!(matches!(
            env.step(&[0.0, 0.0]),
            Err(EnvError::ActionLength {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert!(matches!(env.step(&[]), Err(EnvError::ActionLength { .. })));
        assert!(matches!(
            env.step(&[f32::NAN]),
            Err(EnvError::NonFiniteAction { .. })
        ));
        env.set_action_policy(ActionPolicy::Reject);
        let e = env.step(&[100.0]).unwrap_err();
        assert!(matches!(e, EnvError::ActionOutOfBounds { .. }), "{e}");
        // Errors leave the episode running.
        env.step(&[0.0]).unwrap();
    }
}

#[test]
fn clipping_an_action_equals_sending_the_bound() {
    let mut a = Pendulum::default();
    let mut b = Pendulum::default();
    a.reset(Some(9)).unwrap();
    b.reset(Some(9)).unwrap();
    assert_eq!(a.step(&[50.0]).unwrap(), b.step(&[2.0]).unwrap());
    let mut a = MountainCarContinuous::default();
    let mut b = MountainCarContinuous::default();
    a.reset(Some(9)).unwrap();
    b.reset(Some(9)).unwrap();
    assert_eq!(a.step(&[-3.0]).unwrap(), b.step(&[-1.0]).unwrap());
}

#[test]
fn envs_are_send() {
    fn is_send<T: Send>(_: &T) {}
    for env in natives() {
        is_send(&env);
        std::thread::spawn(move || {
            let mut env = env;
            env.reset(Some(1)).unwrap();
        })
        .join()
        .unwrap();
    }
}
