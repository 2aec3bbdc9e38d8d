//! Products with a narrow output (at most [`NARROW`] columns: SAC's output heads, one Q-value
//! or a few action dimensions), which `gemm`'s register tiling handles poorly: 24 GFLOP/s for
//! `[256, 256]·[256, 3]` against 250 for a square product on the same core
//! (`examples/gemm_rate.rs`). Here they are dot products of contiguous rows, or column updates,
//! with lanes the compiler vectorises (AVX-512 or AVX2 picked at run time).
//!
//! The sums run in another order than `gemm`'s: results agree to rounding, not to the bit.

use multiversion::multiversion;

use crate::kernels::{Real, Strided};

/// Widest output handled here.
pub(crate) const NARROW: usize = 4;
/// Independent partial sums per dot product (one AVX-512 register of f32).
const LANES: usize = 16;

/// `dst (+)= a·b` when the output is narrow and one operand is laid out for it; `false` (and
/// nothing written) when `gemm` should do it.
///
/// # Safety
/// As `kernels::product`: `dst` holds `m·n` elements (initialised when `accumulate`), `a` and
/// `b` are valid `[m, k]` and `[k, n]` views.
pub(crate) unsafe fn try_product<T: Real>(
    dst: *mut T,
    accumulate: bool,
    a: Strided<T>,
    b: Strided<T>,
    [m, k, n]: [usize; 3],
) -> bool {
    if n == 0 || n > NARROW || m < LANES || k < LANES || b.rs < 0 || b.cs < 0 {
        return false;
    }
    // b's n columns, each contiguous (n·k elements at most NARROW·k).
    let columns: Vec<T> = (0..n)
        .flat_map(|j| (0..k).map(move |p| (j, p)))
        // SAFETY: (p, j) is inside b's [k, n] view.
        .map(|(j, p)| unsafe { *b.ptr.offset(p as isize * b.rs + j as isize * b.cs) })
        .collect();
    // SAFETY: dst holds m·n elements.
    let out = unsafe { std::slice::from_raw_parts_mut(dst, m * n) };
    if !accumulate {
        out.fill(T::ZERO);
    }
    if a.cs == 1 && a.rs >= k as isize {
        let rs = a.rs as usize;
        // SAFETY: rows i < m of a, k elements each from a.ptr + i·rs.
        let rows = unsafe { std::slice::from_raw_parts(a.ptr, (m - 1) * rs + k) };
        row_dots(rows, rs, &columns, [m, k, n], out);
        true
    } else if a.rs == 1 && a.cs >= m as isize {
        let cs = a.cs as usize;
        // SAFETY: columns p < k of a, m elements each from a.ptr + p·cs.
        let cols = unsafe { std::slice::from_raw_parts(a.ptr, (k - 1) * cs + m) };
        let mut sums = vec![T::ZERO; n * m];
        column_updates(cols, cs, &columns, [m, k, n], &mut sums);
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            for (j, o) in row.iter_mut().enumerate() {
                *o = *o + sums[j * m + i];
            }
        }
        true
    } else {
        false
    }
}

/// `out[i, j] += Σ_p a[i·rs + p]·columns[j·k + p]`: a's rows are contiguous.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn row_dots<T: Real>(a: &[T], rs: usize, columns: &[T], [m, k, n]: [usize; 3], out: &mut [T]) {
    for i in 0..m {
        let row = &a[i * rs..i * rs + k];
        for j in 0..n {
            let column = &columns[j * k..(j + 1) * k];
            let mut acc = [T::ZERO; LANES];
            let (row_chunks, row_tail) = row.split_at(k - k % LANES);
            let (col_chunks, col_tail) = column.split_at(k - k % LANES);
            for (x, y) in row_chunks
                .chunks_exact(LANES)
                .zip(col_chunks.chunks_exact(LANES))
            {
                for l in 0..LANES {
                    acc[l] = acc[l] + x[l] * y[l];
                }
            }
            for (l, (x, y)) in row_tail.iter().zip(col_tail).enumerate() {
                acc[l] = acc[l] + *x * *y;
            }
            let mut width = LANES;
            while width > 1 {
                width /= 2;
                for l in 0..width {
                    acc[l] = acc[l] + acc[l + width];
                }
            }
            out[i * n + j] = out[i * n + j] + acc[0];
        }
    }
}

/// `sums[j·m + i] += Σ_p a[p·cs + i]·columns[j·k + p]`: a's columns are contiguous, so each
/// step is a vector update of length m.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn column_updates<T: Real>(
    a: &[T],
    cs: usize,
    columns: &[T],
    [m, k, n]: [usize; 3],
    sums: &mut [T],
) {
    for p in 0..k {
        let column = &a[p * cs..p * cs + m];
        for j in 0..n {
            let s = columns[j * k + p];
            for (acc, x) in sums[j * m..(j + 1) * m].iter_mut().zip(column) {
                *acc = *acc + *x * s;
            }
        }
    }
}
