//! `make_env`: one lookup from a config's environment name to a boxed [`Env`].

use crate::{Env, EnvError, Kwargs, MountainCarContinuous, Pendulum};

/// The environments known by a short name, in the one table every part of the workspace
/// reads: the name's canonical spelling, the Gymnasium id it stands for (`None`: a native
/// port, no Python), and what it is. Anything else with a version suffix goes to Gymnasium.
pub const SHORT_NAMES: &[(&str, Option<&str>, &str)] = &[
    ("Pendulum", None, "native port of Pendulum-v1"),
    (
        "MountainCarContinuous",
        None,
        "native port of MountainCarContinuous-v0",
    ),
    (
        "Hopper",
        Some("Hopper-v5"),
        "Hopper-v5 through the Gymnasium bridge",
    ),
    (
        "Humanoid",
        Some("Humanoid-v5"),
        "Humanoid-v5 through the Gymnasium bridge",
    ),
];

/// The one case rule for environment names: a short name in any case (`hopper`, `HOPPER`)
/// is that name in its canonical spelling; `None` for anything else (a Gymnasium id is
/// case-sensitive and is used as written).
pub fn canonical_env(name: &str) -> Option<&'static str> {
    SHORT_NAMES
        .iter()
        .map(|(n, _, _)| *n)
        .find(|n| n.eq_ignore_ascii_case(name.trim()))
}

/// Creates an environment by name.
///
/// * `Pendulum`, `MountainCarContinuous`: native Rust ports (no Python involved); kwargs as in
///   Gymnasium (`g`; `goal_velocity`) plus `max_episode_steps`.
/// * `Hopper`, `Humanoid`: `Hopper-v5`, `Humanoid-v5` through the bridge.
/// * Any full Gymnasium id (`Walker2d-v5`, `Pendulum-v1`, `ale_py:...`): `gymnasium.make(id,
///   **kwargs)` through the bridge.
pub fn make_env(name: &str, kwargs: &Kwargs) -> Result<Box<dyn Env + Send>, EnvError> {
    let short = SHORT_NAMES
        .iter()
        .find(|(n, _, _)| Some(*n) == canonical_env(name));
    match short {
        Some(("Pendulum", ..)) => Ok(Box::new(Pendulum::from_kwargs(kwargs)?)),
        Some(("MountainCarContinuous", ..)) => {
            Ok(Box::new(MountainCarContinuous::from_kwargs(kwargs)?))
        }
        Some((_, Some(id), _)) => gym(id, kwargs),
        _ => {
            check_name(name)?;
            gym(name, kwargs)
        }
    }
}

/// Whether `name` names an environment at all: a short name (any case) or a Gymnasium id
/// with its version; otherwise the error lists the short names.
pub fn check_name(name: &str) -> Result<(), EnvError> {
    match canonical_env(name) {
        Some(_) => Ok(()),
        None if looks_like_gym_id(name) => Ok(()),
        None => Err(EnvError::UnknownEnv {
            name: name.to_owned(),
            hint: format!(
                "use one of {} or a full Gymnasium id with its version, e.g. `Walker2d-v5`",
                SHORT_NAMES
                    .iter()
                    .map(|(n, _, _)| format!("`{n}`"))
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
    fn short_names_are_matched_in_any_case_and_spelled_one_way() {
        for name in ["pendulum", "PENDULUM", " Pendulum "] {
            assert_eq!(canonical_env(name), Some("Pendulum"), "{name}");
        }
        assert_eq!(canonical_env("hopper"), Some("Hopper"));
        assert_eq!(canonical_env("Walker2d-v5"), None);
        let env = make_env("pendulum", &Kwargs::new()).unwrap();
        assert_eq!(env.name(), "Pendulum");
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
