//! Memory of a full replay buffer: fill one with 1,000,000 Humanoid-v5-sized transitions
//! (348-dim observations, 17-dim actions) and compare the process's resident memory (current
//! and peak, from /proc/self/status) with the raw f32 size of the data.
//!
//! ```text
//! cargo run --release -p lrfree-agents --example replay_memory [-- CAPACITY OBS_DIM ACT_DIM]
//! ```

use lrfree_agents::ReplayBuffer;
use rand::SeedableRng;

/// The allocator `rl-train` uses, so that the figures are the ones a run sees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `VmRSS` and `VmHWM` (peak) in bytes; `None` off Linux.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (capacity, obs_dim, act_dim) = (
        args.first().copied().unwrap_or(1_000_000),
        args.get(1).copied().unwrap_or(348),
        args.get(2).copied().unwrap_or(17),
    );
    let (base, _) = rss().unwrap_or((0, 0));
    let mut buffer = ReplayBuffer::new(obs_dim, act_dim, capacity);
    let obs: Vec<f32> = (0..obs_dim).map(|i| i as f32 * 1e-3).collect();
    let action = vec![0.5f32; act_dim];
    for i in 0..capacity {
        buffer.push(&obs, &action, i as f32, &obs, i % 1000 == 999);
    }
    // Touch it as training does.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    std::hint::black_box(buffer.sample(256, &mut rng));
    let raw = (capacity * (2 * obs_dim + act_dim + 2) * 4) as u64;
    let (now, peak) = rss().expect("/proc/self/status");
    let gb = |b: u64| b as f64 / 1e9;
    println!(
        "transitions {capacity}, obs {obs_dim}, act {act_dim}: raw f32 size {:.3} GB",
        gb(raw)
    );
    println!(
        "resident now {:.3} GB ({:.3}x raw), peak {:.3} GB ({:.3}x raw), before the buffer {:.3} GB",
        gb(now - base),
        (now - base) as f64 / raw as f64,
        gb(peak - base),
        (peak - base) as f64 / raw as f64,
        gb(base)
    );
}
