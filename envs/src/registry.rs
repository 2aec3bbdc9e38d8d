//! `make_env`: one lookup from a config's environment name to a boxed [`Env`].

use crate::{Env, EnvError, Kwargs, MountainCarContinuous, Pendulum};

/// Short names and what they mean; anything else with a version suffix goes to Gymnasium.
pub const SHORT_NAMES: &[(&str, &str)] = &[
    ("Pendulum", "native port of Pendulum-v1"),
    (
        "MountainCarContinuous",
        "native port of MountainCarContinuous-v0",
    ),
    ("Hopper", "Hopper-v5 through the Gymnasium bridge"),
    ("Humanoid", "Humanoid-v5 through the Gymnasium bridge"),
];

/// Creates an environment by name.
///
/// * `Pendulum`, `MountainCarContinuous`: native Rust ports (no Python involved); kwargs as in
///   Gymnasium (`g`; `goal_velocity`) plus `max_episode_steps`.
/// * `Hopper`, `Humanoid`: `Hopper-v5`, `Humanoid-v5` through the bridge.
/// * Any full Gymnasium id (`Walker2d-v5`, `Pendulum-v1`, `ale_py:...`): `gymnasium.make(id,
///   **kwargs)` through the bridge.
pub fn make_env(name: &str, kwargs: &Kwargs) -> Result<Box<dyn Env + Send>, EnvError> {
    match name {
        "Pendulum" => Ok(Box::new(Pendulum::from_kwargs(kwargs)?)),
        "MountainCarContinuous" => Ok(Box::new(MountainCarContinuous::from_kwargs(kwargs)?)),
        "Hopper" => gym("Hopper-v5", kwargs),
        "Humanoid" => gym("Humanoid-v5", kwargs),
        id if looks_like_gym_id(id) => gym(id, kwargs),
        _ => Err(EnvError::UnknownEnv {
            name: name.to_owned(),
            hint: format!(
                "use one of {} or a full Gymnasium id with its version, e.g. `Walker2d-v5`",
                SHORT_NAMES
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Gymnasium ids end in `-v<N>` (optionally after a `namespace/` or `module:` prefix).
fn looks_like_gym_id(id: &str) -> bool {
    id.rsplit_once("-v").is_some_and(|(name, v)| {
        !name.is_empty() && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(feature = "gym")]
fn gym(id: &str, kwargs: &Kwargs) -> Result<Box<dyn Env + Send>, EnvError> {
    Ok(Box::new(crate::gym::GymEnv::new(id, kwargs)?))
}

#[cfg(not(feature = "gym"))]
fn gym(id: &str, _kwargs: &Kwargs) -> Result<Box<dyn Env + Send>, EnvError> {
    Err(EnvError::BridgeDisabled { id: id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gym_ids_need_a_numeric_version() {
        for id in ["Walker2d-v5", "Pendulum-v1", "ALE/Pong-v5", "mod:Env-v0"] {
            assert!(looks_like_gym_id(id), "{id}");
        }
        for id in ["Walker2d", "-v5", "Hopper-v", "Hopper-vX", "pendulum"] {
            assert!(!looks_like_gym_id(id), "{id}");
        }
    }

    #[test]
    fn unknown_names_list_the_short_names() {
        let e = make_env("Cartpole", &Kwargs::new())
            .err()
            .expect("must fail");
        let msg = e.to_string();
        assert!(
            matches!(e, EnvError::UnknownEnv { .. })
                && msg.contains("`Hopper`")
                && msg.contains("Walker2d-v5"),
            "{msg}"
        );
    }

    #[test]
    fn native_names_build_native_envs_and_forward_kwargs() {
        let env = make_env(
            "Pendulum",
            &crate::kwargs([("max_episode_steps", 7.into())]),
        )
        .unwrap();
        assert_eq!((env.name(), env.max_episode_steps()), ("Pendulum", Some(7)));
        let env = make_env("MountainCarContinuous", &Kwargs::new()).unwrap();
        assert_eq!(
            (env.name(), env.max_episode_steps()),
            ("MountainCarContinuous", Some(999))
        );
        assert!(matches!(
            make_env("Pendulum", &crate::kwargs([("x", 1.into())])),
            Err(EnvError::InvalidKwarg { .. })
        ));
    }

    #[cfg(not(feature = "gym"))]
    #[test]
    fn gym_ids_without_the_bridge_say_how_to_get_it() {
        let e = make_env("Hopper", &Kwargs::new()).err().expect("no bridge");
        assert!(
            matches!(&e, EnvError::BridgeDisabled { id } if id == "Hopper-v5"),
            "{e}"
        );
        assert!(e.to_string().contains("`gym` cargo feature"), "{e}");
    }
}
