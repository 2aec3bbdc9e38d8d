//! A small hand-made records directory: Pendulum, prodigy and ps-da-sgd × seeds 0 and 1.
//!
//! - `ps-da-sgd/seed-0`: finished, final return -150, a success.
//! - `ps-da-sgd/seed-1`: killed: no summary.json, last metrics line cut off mid-write.
//! - `prodigy/seed-0`: finished, final return -300, not a success.
//! - `prodigy/seed-1`: diverged at step 1200 (critic estimate to inf), final return -1200.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

pub const HEADER: &str = "step,event,episode_return,episode_length,eval_mean,eval_std,critic_loss,actor_loss,alpha_loss,alpha,critic_lr,critic_d,actor_lr,actor_d,alpha_lr,alpha_d";

/// Rows up to `last` steps: an episode every 200 steps, an eval every 500, an update every 100
/// from step 200 with estimates from `lr(step)`; `evals` gives the eval returns in order.
pub fn metrics(last: u64, evals: &[f64], lr: impl Fn(u64) -> f64) -> String {
    let mut s = format!("{HEADER}\n");
    let mut e = 0;
    for step in (100..=last).step_by(100) {
        if step % 200 == 0 {
            writeln!(
                s,
                "{step},episode,{},200,,,,,,,,,,,,",
                -1500.0 + step as f64 / 2.0
            )
            .unwrap();
        }
        if step % 500 == 0 && e < evals.len() {
            writeln!(s, "{step},eval,,,{},10.5,,,,,,,,,,", evals[e]).unwrap();
            e += 1;
        }
        if step >= 200 {
            let v = lr(step);
            let f = |v: f64| {
                if v.is_nan() {
                    "NaN".to_string()
                } else {
                    v.to_string()
                }
            };
            writeln!(
                s,
                "{step},update,,,,,1.5,-2.0,0.1,0.2,{},0.01,{},0.02,{},",
                f(v),
                f(v / 2.0),
                f(v / 4.0)
            )
            .unwrap();
        }
    }
    s
}

pub fn summary(
    opt: &str,
    seed: u64,
    done: u64,
    final_return: f64,
    success: bool,
    divergence: Option<u64>,
) -> String {
    let div = match divergence {
        Some(step) => format!(
            "{{\"step\": {step}, \"reason\": \"critic lr estimate inf exceeds the bound 1e3\"}}"
        ),
        None => "null".into(),
    };
    format!(
        "{{\"optimizer\": \"{opt}\", \"seed\": {seed}, \"env\": \"Pendulum\", \"steps\": 2000, \"steps_done\": {done},
 \"complete\": true, \"final_eval_return\": {final_return}, \"success\": {success},
 \"diverged\": {}, \"divergence\": {div}, \"max_lr\": {{\"critic\": 0.8, \"actor\": 0.3, \"alpha\": 2.1}},
 \"temperature_optimizer\": \"adam\"}}",
        divergence.is_some()
    )
}

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Build the records directory in `dir`.
pub fn make_run(dir: &Path) {
    write(
        &dir.join("run.json"),
        r#"{"env": "Pendulum", "steps": 2000, "optimizers": ["prodigy", "ps-da-sgd"], "seeds": [0, 1], "config": {}}"#,
    );
    // ps-da-sgd seed 0: bounded estimates, finished.
    let d = dir.join("ps-da-sgd/seed-0");
    write(
        &d.join("metrics.csv"),
        &metrics(2000, &[-900.0, -500.0, -200.0, -150.0], |s| {
            0.01 + 0.1 * (s as f64 / 2000.0)
        }),
    );
    write(
        &d.join("summary.json"),
        &summary("ps-da-sgd", 0, 2000, -150.0, true, None),
    );
    // ps-da-sgd seed 1: killed at step 1300, last line cut off.
    let d = dir.join("ps-da-sgd/seed-1");
    let mut m = metrics(1300, &[-950.0, -600.0], |s| {
        0.02 + 0.05 * (s as f64 / 2000.0)
    });
    m.push_str("1400,update,,,,,1.5,-2.0,0.1,0.2,0.0");
    write(&d.join("metrics.csv"), &m);
    // prodigy seed 0: growing estimates, finished, not a success.
    let d = dir.join("prodigy/seed-0");
    write(
        &d.join("metrics.csv"),
        &metrics(2000, &[-1000.0, -700.0, -400.0, -300.0], |s| {
            1e-4 * 10f64.powf(s as f64 / 500.0)
        }),
    );
    write(
        &d.join("summary.json"),
        &summary("prodigy", 0, 2000, -300.0, false, None),
    );
    // prodigy seed 1: critic estimate explodes, diverged at 1200.
    let d = dir.join("prodigy/seed-1");
    write(
        &d.join("metrics.csv"),
        &metrics(1200, &[-1100.0, -1200.0], |s| {
            if s >= 1200 {
                f64::INFINITY
            } else {
                1e-3 * 10f64.powf(s as f64 / 200.0)
            }
        }),
    );
    write(
        &d.join("summary.json"),
        &summary("prodigy", 1, 1200, -1200.0, false, Some(1200)),
    );
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}
