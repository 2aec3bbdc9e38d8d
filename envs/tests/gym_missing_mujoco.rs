//! MuJoCo missing: `make_env("Hopper-v5")` must say what to install. Its own test binary (own
//! process), because it hides the `mujoco` module from this process's Python.

mod common;

#[cfg(feature = "gym")]
#[test]
fn missing_mujoco_is_an_error_with_the_install_command() {
    use lrfree_envs::{EnvError, Kwargs, gym::run_python, make_env};
    if !common::bridge_available("missing_mujoco_is_an_error_with_the_install_command", false) {
        return;
    }
    // `None` in sys.modules makes `import mujoco` fail exactly as if it were not installed.
    run_python("import sys; sys.modules['mujoco'] = None").unwrap();
    match make_env("Hopper", &Kwargs::new()) {
        Err(e @ EnvError::DependencyMissing { .. }) => {
            let msg = e.to_string();
            eprintln!("error as the user sees it: {msg}");
            assert!(msg.contains("Hopper-v5") && msg.contains("MuJoCo"), "{msg}");
            assert!(
                msg.contains("-m pip install -r requirements.txt") && msg.contains("mujoco=="),
                "{msg}"
            );
        }
        other => panic!("expected DependencyMissing, got {:?}", other.err()),
    }
}
