//! Global reductions read back as f64: the handful of scalars each step needs.

use burn::tensor::Tensor;

/// Sum of all elements, as f64.
pub(crate) fn sum(t: Tensor<1>) -> f64 {
    t.sum().into_scalar::<f64>()
}

/// Squared Euclidean norm.
pub(crate) fn sq_norm(t: &Tensor<1>) -> f64 {
    sum(t.clone().square())
}

/// Inner product.
pub(crate) fn dot(a: &Tensor<1>, b: &Tensor<1>) -> f64 {
    sum(a.clone().mul(b.clone()))
}

/// L1 norm.
pub(crate) fn l1_norm(t: &Tensor<1>) -> f64 {
    sum(t.clone().abs())
}

/// Largest element.
pub(crate) fn max(t: Tensor<1>) -> f64 {
    t.max().into_scalar::<f64>()
}

/// Whether every element is finite (the slow, exact check behind a non-finite norm).
pub(crate) fn all_finite(t: &Tensor<1>) -> bool {
    t.clone().is_finite().all().into_scalar::<bool>()
}

/// Per-tensor squared norms of a flat vector cut by `sizes`.
pub(crate) fn segment_sq_norms(t: &Tensor<1>, sizes: &[usize]) -> Vec<f64> {
    if sizes.len() == 1 {
        return vec![sq_norm(t)];
    }
    t.clone().split_with_sizes(sizes.to_vec(), 0).iter().map(sq_norm).collect()
}

/// A flat vector holding `values[i]` over the `i`-th segment (per-tensor step sizes).
pub(crate) fn segment_fill(like: &Tensor<1>, sizes: &[usize], values: &[f64]) -> Tensor<1> {
    if sizes.len() == 1 {
        return like.full_like(values[0]);
    }
    let device = like.device();
    let parts = sizes
        .iter()
        .zip(values)
        .map(|(&n, &v)| Tensor::<1>::full([n], v, (&device, like.dtype())))
        .collect();
    Tensor::cat(parts, 0)
}
