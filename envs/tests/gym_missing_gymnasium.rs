//! Gymnasium missing: any bridged id must say how to install it. Its own test binary (own
//! process), because it hides `gymnasium` from this process's Python.

#[cfg(feature = "gym")]
#[test]
fn missing_gymnasium_is_an_error_with_the_install_command() {
    use lrfree_envs::{EnvError, Kwargs, gym::run_python, make_env};
    match run_python("import sys; sys.modules['gymnasium'] = None") {
        Err(e @ EnvError::PythonUnavailable { .. }) => {
            eprintln!("SKIP missing_gymnasium_is_an_error_with_the_install_command: {e}");
            return;
        }
        other => other.unwrap(),
    }
    match make_env("Walker2d-v5", &Kwargs::new()) {
        Err(e @ EnvError::GymnasiumMissing { .. }) => {
            let msg = e.to_string();
            eprintln!("error as the user sees it: {msg}");
            assert!(
                msg.contains("-m pip install -r requirements.txt")
                    && msg.contains("gymnasium[mujoco]=="),
                "{msg}"
            );
        }
        other => panic!("expected GymnasiumMissing, got {:?}", other.err()),
    }
    // Native environments need no Python at all.
    assert!(make_env("Pendulum", &Kwargs::new()).is_ok());
}
