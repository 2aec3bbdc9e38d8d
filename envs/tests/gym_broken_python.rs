//! A Python that cannot start is an error value, not an abort. Its own test binary (own
//! process), because the embedded interpreter starts once per process.

#[cfg(feature = "gym")]
#[test]
fn unstartable_python_is_an_error_not_an_abort() {
    use lrfree_envs::{EnvError, Kwargs, make_env};
    // SAFETY: the only test in this binary; no other thread reads the environment.
    unsafe { std::env::set_var("PYTHONHOME", "/nonexistent/lrfree-envs-test") };
    for _ in 0..2 {
        match make_env("Hopper-v5", &Kwargs::new()) {
            Err(e @ EnvError::PythonUnavailable { .. }) => {
                let msg = e.to_string();
                eprintln!("error as the user sees it: {msg}");
                assert!(
                    msg.contains("PYTHONHOME") && msg.contains("LRFREE_PYTHON"),
                    "{msg}"
                );
            }
            other => panic!("expected PythonUnavailable, got {:?}", other.err()),
        }
    }
    assert!(make_env("Pendulum", &Kwargs::new()).is_ok());
}
