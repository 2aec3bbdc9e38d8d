//! Steps per second: Hopper-v5 through the bridge vs the same loop in pure Python (run by the
//! embedded interpreter in this same process, from `bench/env_speed.py`), and native Pendulum
//! vs Gymnasium's Pendulum-v1.
//!
//! `cargo run --release -p lrfree-envs --example env_speed -- [steps] [repeats]`

use std::time::Instant;

use lrfree_envs::{Kwargs, make_env};

/// Seconds for `steps` steps with pre-drawn uniform actions, resetting at episode ends (the
/// same loop as `loop()` in bench/env_speed.py).
fn rust_loop(name: &str, steps: usize, seed: u64) -> f64 {
    let mut env = make_env(name, &Kwargs::new()).unwrap_or_else(|e| panic!("{e}"));
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let space = env.action_space().clone();
    let actions: Vec<Vec<f32>> = (0..steps)
        .map(|_| {
            space
                .low()
                .iter()
                .zip(space.high())
                .map(|(l, h)| l + (h - l) * uniform())
                .collect()
        })
        .collect();
    env.reset(Some(seed)).unwrap();
    let start = Instant::now();
    for action in &actions {
        let step = env.step(action).unwrap_or_else(|e| panic!("{e}"));
        if step.done() {
            env.reset(None).unwrap();
        }
    }
    start.elapsed().as_secs_f64()
}

#[cfg(feature = "gym")]
fn python_loop(id: &str, steps: usize, seed: u64) -> f64 {
    use lrfree_envs::gym::run_python;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/env_speed.py");
    run_python(&format!(
        "import runpy\n_bench = runpy.run_path({script:?}, run_name='env_speed')\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    // Time the Python loop from Rust; one run_python call adds microseconds to seconds.
    let start = Instant::now();
    run_python(&format!("_bench['loop']({id:?}, {steps}, {seed})"))
        .unwrap_or_else(|e| panic!("{e}"));
    start.elapsed().as_secs_f64()
}

fn best(repeats: u64, f: impl Fn(u64) -> f64) -> f64 {
    (0..repeats).map(f).fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| {
        a.parse::<u64>()
            .expect("usage: env_speed [steps] [repeats]")
    });
    let steps = args.next().unwrap_or(20_000) as usize;
    let repeats = args.next().unwrap_or(3);
    let rate = |secs: f64, n: usize| n as f64 / secs;

    let native_steps = steps * 50;
    let native = rate(
        best(repeats, |s| rust_loop("Pendulum", native_steps, s)),
        native_steps,
    );
    println!(
        "native  Pendulum     {native:>12.0} steps/s  (best of {repeats} x {native_steps} steps)"
    );

    #[cfg(feature = "gym")]
    {
        // Interleave the two loops so machine load affects both alike.
        let (mut bridge, mut python) = (f64::INFINITY, f64::INFINITY);
        for s in 0..repeats {
            python = python.min(python_loop("Hopper-v5", steps, s));
            bridge = bridge.min(rust_loop("Hopper-v5", steps, s));
        }
        let (bridge, python) = (rate(bridge, steps), rate(python, steps));
        println!(
            "bridge  Hopper-v5    {bridge:>12.0} steps/s  (best of {repeats} x {steps} steps)"
        );
        println!(
            "python  Hopper-v5    {python:>12.0} steps/s  (same process, bench/env_speed.py loop)"
        );
        println!(
            "bridge overhead on Hopper-v5: {:+.1}% time per step",
            (python / bridge - 1.0) * 100.0
        );
        let gym_pendulum = rate(
            best(repeats, |s| python_loop("Pendulum-v1", steps, s)),
            steps,
        );
        println!("python  Pendulum-v1  {gym_pendulum:>12.0} steps/s  (same process)");
        let bridged_pendulum = rate(best(repeats, |s| rust_loop("Pendulum-v1", steps, s)), steps);
        println!(
            "bridge  Pendulum-v1  {bridged_pendulum:>12.0} steps/s  (bridge cost per step: {:.2} us)",
            (1.0 / bridged_pendulum - 1.0 / gym_pendulum) * 1e6
        );
        println!(
            "native Pendulum speed-up over Gymnasium: {:.0}x",
            native / gym_pendulum
        );
    }
}
