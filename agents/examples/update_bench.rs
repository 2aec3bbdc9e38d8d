//! Time one `Sac::update()` (batch 256, hidden [256, 256], f32, CPU) at Hopper and Humanoid
//! sizes (median and mean over UPDATES updates after 20 warm-up ones), and one stochastic `act`.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run --release -p lrfree-agents --example update_bench [-- OPTIMIZER UPDATES [hopper|humanoid]]
//! ```
//! `LRFREE_FUSED=0` turns off the optimizers' fused CPU kernels (`burn_lrfree::internals::set_fused_cpu`);
//! `LRFREE_FTZ=0` keeps IEEE subnormals (rl-train flushes them by default, `flush_denormals`);
//! `HIDDEN=16,16` changes the hidden layers (with tiny layers what is left is per-op overhead).
//! `LRFREE_FUSED_LINEAR=0` runs the networks' layers as Burn's standard ops instead of the fused
//! linear op (`lrfree_nn::set_fused_linear`); `LRFREE_FUSED_LINEAR=ab` times both in the same
//! process, alternating blocks of 10 updates, and prints one line each (`fused`, `composite`).

use std::time::Instant;

use burn::tensor::Device;
use burn_lrfree::registry::{OptimizerConfig, default_lr};
use lrfree_agents::{Sac, SacConfig, SacOptimizers};

/// The same allocator as `rl-train` (see its `main`): Burn's CPU backend allocates a fresh
/// buffer per op, and glibc hands large ones back to the OS each time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: single-threaded at this point; rayon reads it when its pool starts.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    if std::env::var("LRFREE_FUSED").is_ok_and(|v| v == "0") {
        burn_lrfree::internals::set_fused_cpu(false);
    }
    let _denormals = burn_lrfree::internals::FlushDenormals::scoped(
        !std::env::var("LRFREE_FTZ").is_ok_and(|v| v == "0"),
    );
    let linear_mode = std::env::var("LRFREE_FUSED_LINEAR").unwrap_or_default();
    lrfree_nn::set_fused_linear(linear_mode != "0");
    let modes: &[(&str, bool)] = if linear_mode == "ab" {
        &[("fused", true), ("composite", false)]
    } else {
        &[("", linear_mode != "0")]
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("adam");
    let updates: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let only = args.get(2).map(String::as_str);
    let optimizers = SacOptimizers::same(
        OptimizerConfig::defaults(name).expect("optimizer"),
        default_lr(name).unwrap(),
    );
    let hidden: Vec<usize> = match std::env::var("HIDDEN") {
        Ok(h) => h
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .expect("HIDDEN: comma-separated layer widths")
            })
            .collect(),
        Err(_) => vec![256, 256],
    };
    let config = SacConfig {
        buffer_size: 10_000,
        hidden,
        ..SacConfig::default()
    };
    println!(
        "{:<10} {:>4} {:>4} {:>12} {:>12} {:>12}",
        "env", "obs", "act", "update_ms", "mean_ms", "act_ms"
    );
    for (env, obs_dim, act_dim) in [("hopper", 11, 3), ("humanoid", 348, 17)] {
        if only.is_some_and(|o| o != env) {
            continue;
        }
        let low = vec![-1.0f32; act_dim];
        let high = vec![1.0f32; act_dim];
        let mut sac = Sac::new(
            obs_dim,
            &low,
            &high,
            &config,
            &optimizers,
            0,
            &Device::default(),
        )
        .expect("sac");
        let obs: Vec<f32> = (0..obs_dim).map(|i| (i as f32 * 0.1).sin()).collect();
        for i in 0..2000 {
            let action = sac.random_action();
            let next: Vec<f32> = obs.iter().map(|v| v + 0.01 * i as f32).collect();
            sac.observe(&obs, &action, action[0], &next, i % 100 == 99);
        }
        for _ in 0..20 {
            sac.update().expect("update"); // warm up
        }
        // Blocks of 10 updates per mode, alternating, so both see the same machine speed.
        let mut times = vec![Vec::new(); modes.len()];
        for block in 0..updates.div_ceil(10) {
            for (slot, (_, fused)) in modes.iter().enumerate() {
                lrfree_nn::set_fused_linear(*fused);
                for _ in 0..10.min(updates - block * 10) {
                    let start = Instant::now();
                    let stats = sac.update().expect("update");
                    times[slot].push(start.elapsed().as_secs_f64());
                    std::hint::black_box(stats);
                }
            }
        }
        let mut act_times = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            std::hint::black_box(sac.act(&obs, false));
            act_times.push(start.elapsed().as_secs_f64());
        }
        for ((label, fused), times) in modes.iter().zip(times) {
            lrfree_nn::set_fused_linear(*fused);
            let mean = times.iter().sum::<f64>() / times.len() as f64;
            println!(
                "{env:<10} {obs_dim:>4} {act_dim:>4} {:>12.3} {:>12.3} {:>12.4} {label}",
                median(times) * 1e3,
                mean * 1e3,
                median(act_times.clone()) * 1e3
            );
        }
    }
}
