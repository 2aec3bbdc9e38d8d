//! The losses of the supervised models: cross-entropy, cross-entropy over the labelled pixels
//! (segmentation), and SimCLR's NT-Xent.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

/// `−mean log softmax(logits)[target]`; `targets` is `[N]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let n = targets.dims()[0];
    log_softmax(logits, 1)
        .gather(1, targets.reshape([n, 1]))
        .mean()
        .neg()
}

/// Cross-entropy over the pixels whose `weight` is 1 (the others are ignored): `logits`
/// `[N, K]`, `targets` and `weight` `[N]`.
pub fn masked_cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    weight: Tensor<1>,
) -> Tensor<1> {
    let n = targets.dims()[0];
    let nll = log_softmax(logits, 1)
        .gather(1, targets.reshape([n, 1]))
        .reshape([n])
        .neg();
    (nll * weight.clone()).sum() / weight.sum().clamp_min(1.0)
}

/// SimCLR's NT-Xent loss of two views' projections `[B, P]` at temperature `tau`: each of the
/// 2B rows has its other view as the positive among the 2B − 1 others.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, tau: f64) -> Tensor<1> {
    let [b, _] = z1.dims();
    let device = z1.device();
    let z = Tensor::cat(vec![z1, z2], 0);
    let z = z.clone() / (z.square().sum_dim(1).sqrt().clamp_min(1e-8));
    let eye = Tensor::<2>::from_data(
        TensorData::new(
            (0..4 * b * b)
                .map(|i| {
                    if i / (2 * b) == i % (2 * b) {
                        1e9f32
                    } else {
                        0.0
                    }
                })
                .collect::<Vec<_>>(),
            [2 * b, 2 * b],
        ),
        &device,
    );
    let sim = z.clone().matmul(z.transpose()).div_scalar(tau) - eye;
    let targets: Vec<i64> = (0..2 * b).map(|i| ((i + b) % (2 * b)) as i64).collect();
    cross_entropy(
        sim,
        Tensor::from_data(TensorData::new(targets, [2 * b]), &device),
    )
}
