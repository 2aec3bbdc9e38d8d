//! Sums and inner products in one fixed order over host buffers, so that a fused pass can
//! reduce *inside* its loop and still give the bits of the tensor path (Prodigy, D-Adapt Adam,
//! PS-DA-SGD).
//!
//! Why: [`crate::ops::dot`] sums through a gemm, whose order no loop reproduces. A fused pass
//! that needs a reduction then has to write its terms to a scratch buffer and call the gemm
//! afterwards: a write and a read of a whole parameter-sized vector per reduction, plus the
//! gemm call. Measured on SAC/Hopper, that made Prodigy's steps 11 % slower than Adam's.
//!
//! The order: element `i` is added to lane `i mod LANES`, an f64 accumulator, in index order;
//! the lanes are added in a fixed tree at the end. Products of two f32 values are exact in
//! f64, so in f32 only the additions round (less than the f32 gemm does). A pass feeds the
//! lanes block by block, every block but the last a multiple of `LANES` long.
//!
//! 16 lanes are four AVX2 registers of four f64: enough independent additions in flight to
//! hide their latency. Each lane line is straight code over a fixed-size chunk, which the
//! compiler turns into packed f32→f64 conversions, multiplies and adds.

use multiversion::multiversion;

use crate::fused::Real;

/// Accumulators of the fixed order.
pub(crate) const LANES: usize = 16;

/// Elements per block in the fused passes that reduce inside their loop: their scratch values
/// stay in L1 (a multiple of [`LANES`]).
pub(crate) const BLOCK: usize = 256;

/// Running f64 sums in the fixed order (module docs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes {
    acc: [f64; LANES],
    /// Elements added so far; every feed but the last must leave it a multiple of `LANES`.
    count: usize,
}

impl Lanes {
    pub(crate) fn new() -> Self {
        Self {
            acc: [0.0; LANES],
            count: 0,
        }
    }

    /// Adds `a[i]·b[i]` for every `i` (the slices have one length).
    pub(crate) fn add_products<T: Real>(&mut self, a: &[T], b: &[T]) {
        debug_assert!(self.count.is_multiple_of(LANES) && a.len() == b.len());
        add_products_to::<T>(&mut self.acc, a, b);
        self.count += a.len();
    }

    /// Adds `|a[i]|` for every `i`.
    pub(crate) fn add_abs<T: Real>(&mut self, a: &[T]) {
        debug_assert!(self.count.is_multiple_of(LANES));
        add_abs_to::<T>(&mut self.acc, a);
        self.count += a.len();
    }

    /// The sum: lanes added pairwise, (0+1)+(2+3), … up a balanced tree.
    pub(crate) fn total(&self) -> f64 {
        let mut level = self.acc;
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                level[i] = level[2 * i] + level[2 * i + 1];
            }
        }
        level[0]
    }
}

// The lane loops are functions of their own, not inlined into the passes that call them per
// block: inlined, the compiler interleaved them with the pass's loop and kept the lanes on the
// stack in 128-bit pieces (D-Adapt Adam's pass took 2.3× as long, perf); alone, each is a clean
// loop of packed conversions, multiplies and adds with the lanes in four AVX2 registers.

/// The lane loop of [`Lanes::add_products`].
#[multiversion(targets("x86_64+avx2"))]
fn add_products_to<T: Real>(lanes: &mut [f64; LANES], a: &[T], b: &[T]) {
    let mut acc = *lanes;
    let (a_chunks, a_rest) = a.as_chunks::<LANES>();
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    for (a, b) in a_chunks.iter().zip(b_chunks) {
        for (acc, (a, b)) in acc.iter_mut().zip(a.iter().zip(b)) {
            *acc += a.wide() * b.wide();
        }
    }
    for (acc, (a, b)) in acc.iter_mut().zip(a_rest.iter().zip(b_rest)) {
        *acc += a.wide() * b.wide();
    }
    *lanes = acc;
}

/// The lane loop of [`Lanes::add_abs`].
#[multiversion(targets("x86_64+avx2"))]
fn add_abs_to<T: Real>(lanes: &mut [f64; LANES], a: &[T]) {
    let mut acc = *lanes;
    let (chunks, rest) = a.as_chunks::<LANES>();
    for a in chunks {
        for (acc, a) in acc.iter_mut().zip(a) {
            *acc += a.abs().wide();
        }
    }
    for (acc, a) in acc.iter_mut().zip(rest) {
        *acc += a.abs().wide();
    }
    *lanes = acc;
}

/// `Σ a[i]·b[i]` in the fixed order.
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> f64 {
    let mut lanes = Lanes::new();
    lanes.add_products(a, b);
    lanes.total()
}

/// `Σ |a[i]|` in the fixed order.
pub(crate) fn l1<T: Real>(a: &[T]) -> f64 {
    let mut lanes = Lanes::new();
    lanes.add_abs(a);
    lanes.total()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fed_in_blocks_gives_the_bits_of_one_feed() {
        // Values of very different sizes, so that the order of the additions shows in the bits.
        let a: Vec<f32> = (0..1003)
            .map(|i| ((i * 7919) % 1000) as f32 * 10f32.powi(i % 9 - 4) - 3.0)
            .collect();
        let b: Vec<f32> = (0..1003).map(|i| 1.0 / (1.0 + i as f32)).collect();
        let whole = dot(&a, &b);
        let mut lanes = Lanes::new();
        for start in (0..a.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(a.len());
            lanes.add_products(&a[start..end], &b[start..end]);
        }
        assert_eq!(lanes.total().to_bits(), whole.to_bits());
        let exact: f64 = a.iter().zip(&b).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert!((whole - exact).abs() <= 1e-12 * exact.abs().max(1.0));
        let minus: Vec<f32> = a.iter().map(|a| -a).collect();
        assert_eq!(l1(&minus), l1(&a));
        let abs_sum: f64 = a.iter().map(|a| a.abs() as f64).sum();
        assert!((l1(&a) - abs_sum).abs() <= 1e-12 * abs_sum);
    }

    #[test]
    fn the_order_is_lane_by_index() {
        // 1e16 + 1 − 1e16 loses the 1 in f64; in separate lanes it survives.
        let mut a = vec![0.0f64; LANES + 1];
        (a[0], a[1], a[LANES]) = (1e16, 1.0, -1e16);
        let ones = vec![1.0f64; a.len()];
        // Lane 0 holds 1e16 − 1e16 = 0, lane 1 holds 1.
        assert_eq!(dot(&a, &ones), 1.0);
        // Lane 0 holds 2e16, and 2e16 + 1 rounds to 2e16.
        assert_eq!(l1(&a), 2e16);
        assert_eq!(dot::<f64>(&[], &[]), 0.0);
    }
}
