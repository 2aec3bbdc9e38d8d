//! Single-thread f32 matrix-product throughput of the `gemm` kernels the fused linear op (and
//! Burn's flex backend) call, at SAC's shapes and at a large one that approaches the core's
//! peak: the yardstick for "how far is an update from its FLOP bound" on this machine.
//!
//! ```text
//! cargo run --release -p lrfree-nn --example gemm_rate
//! ```

use std::time::Instant;

/// Best-of-`reps` GFLOP/s of `C = A·B` (row-major `m×k`, `k×n`, `m×n`); `swapped`: the same
/// product computed as `Cᵀ = Bᵀ·Aᵀ`, the same buffers read through swapped strides;
/// `column_major`: C written column-major (gemm then runs its kernels with m as their rows,
/// instead of n for a row-major C).
fn rate(m: usize, k: usize, n: usize, reps: usize, swapped: bool, column_major: bool) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; m * n];
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        // SAFETY: a, b, c are row-major m×k, k×n, m×n buffers of exactly that size, read
        // either directly or as their transposes.
        unsafe {
            if swapped {
                gemm::gemm(
                    n,
                    m,
                    k,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                    false,
                    b.as_ptr(),
                    n as isize,
                    1,
                    a.as_ptr(),
                    k as isize,
                    1,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            } else {
                // Row-major C (column stride 1, row stride n), or column-major.
                let (c_cs, c_rs) = if column_major {
                    (m as isize, 1)
                } else {
                    (1, n as isize)
                };
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    c_cs,
                    c_rs,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (m * n * k) as f64 / best / 1e9
}

fn main() {
    println!(
        "{:>6} {:>6} {:>6} {:>10} {:>12} {:>12}",
        "m", "k", "n", "GFLOP/s", "as Cᵀ=BᵀAᵀ", "C col-major"
    );
    for (m, k, n, reps) in [
        (2048, 2048, 2048, 5),
        (1024, 1024, 1024, 20),
        (256, 256, 256, 2000),
        (256, 14, 256, 5000),
        (256, 365, 256, 2000),
        (256, 256, 1, 5000),
        (256, 256, 3, 5000),
        (256, 256, 512, 1000),
        (256, 14, 512, 2000),
        (256, 256, 6, 5000),
        (256, 256, 17, 5000),
        (256, 3, 256, 5000),
        (256, 1, 256, 5000),
        (14, 256, 256, 5000),
        (11, 256, 256, 5000),
    ] {
        println!(
            "{m:>6} {k:>6} {n:>6} {:>10.1} {:>12.1} {:>12.1}",
            rate(m, k, n, reps, false, false),
            rate(m, k, n, reps, true, false),
            rate(m, k, n, reps, false, true)
        );
    }
}
