//! Single-thread f32 matrix-product throughput of the `gemm` kernels the fused linear op (and
//! Burn's flex backend) call, at SAC's shapes and at a large one that approaches the core's
//! peak: the yardstick for "how far is an update from its FLOP bound" on this machine.
//!
//! ```text
//! cargo run --release -p lrfree-nn --example gemm_rate
//! ```

use std::time::Instant;

/// How `C = A·B` (row-major `m×k`, `k×n`, `m×n`) is handed to `gemm`.
#[derive(Clone, Copy)]
enum Call {
    /// As written.
    Direct,
    /// As `Cᵀ = Bᵀ·Aᵀ`: the same buffers read through swapped strides.
    Swapped,
    /// As written, but C column-major (gemm then runs its kernels with m as their rows,
    /// instead of n for a row-major C).
    ColumnMajorC,
}

/// Best-of-`reps` GFLOP/s of `C = A·B`, handed to `gemm` as `call` says.
fn rate(m: usize, k: usize, n: usize, reps: usize, call: Call) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; m * n];
    let (mi, ki, ni) = (m as isize, k as isize, n as isize);
    // (rows, cols, C's column and row strides, lhs and its strides, rhs and its strides)
    let (rows, cols, c_strides, (lhs, lhs_strides), (rhs, rhs_strides)) = match call {
        Call::Direct => (m, n, (1, ni), (&a, (1, ki)), (&b, (1, ni))),
        Call::Swapped => (n, m, (ni, 1), (&b, (ni, 1)), (&a, (ki, 1))),
        Call::ColumnMajorC => (m, n, (mi, 1), (&a, (1, ki)), (&b, (1, ni))),
    };
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        // SAFETY: a, b, c are m×k, k×n, m×n buffers of exactly that size; each call reads them
        // with strides that stay inside them.
        unsafe {
            gemm::gemm(
                rows,
                cols,
                k,
                c.as_mut_ptr(),
                c_strides.0,
                c_strides.1,
                false,
                lhs.as_ptr(),
                lhs_strides.0,
                lhs_strides.1,
                rhs.as_ptr(),
                rhs_strides.0,
                rhs_strides.1,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
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
            rate(m, k, n, reps, Call::Direct),
            rate(m, k, n, reps, Call::Swapped),
            rate(m, k, n, reps, Call::ColumnMajorC)
        );
    }
}
