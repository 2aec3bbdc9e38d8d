//! The fused linear op against the composite of Burn's standard ops (`Linear::forward`, then
//! `relu`), value and every gradient, on several shapes, batch 1 and 256, f32 (and f64).
//!
//! The forward must be bit-identical: the fused op adds the bias to the finished product, as
//! the composite does. The gradients differ only in rounding (the bias gradient is summed row
//! by row): the largest difference within 1e-6 of the largest magnitude of the reference tensor
//! (f32; 1e-12 in f64).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{DType, Device, Tensor, TensorData};
use lrfree_nn::{Activation, fused_linear_applies, fused_linear_calls, linear};

/// Deterministic values in (−1, 1) (a 64-bit LCG), so no test depends on Burn's global RNG.
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn tensor<const D: usize>(
    seed: u64,
    shape: [usize; D],
    dtype: DType,
    device: &Device,
) -> Tensor<D> {
    let n = shape.iter().product();
    let data = TensorData::new(values(seed, n), shape).convert_dtype(dtype);
    Tensor::from_data(data, (device, dtype))
}

fn layer(seed: u64, d_in: usize, d_out: usize, dtype: DType, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(tensor(seed, [d_in, d_out], dtype, device)),
        bias: Some(Param::from_tensor(tensor(seed + 1, [d_out], dtype, device))),
    }
}

fn host(t: Tensor<2>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn host1(t: Tensor<1>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

#[track_caller]
fn assert_close(what: &str, fused: &[f64], reference: &[f64], tol: f64) {
    assert_eq!(fused.len(), reference.len(), "{what}: lengths");
    let scale = reference
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-30);
    let worst = fused
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst <= tol * scale,
        "{what}: largest difference {worst:e} > {tol:e} × {scale:e}"
    );
}

struct Outcome {
    y: Vec<f64>,
    grad_x: Option<Vec<f64>>,
    grad_w: Vec<f64>,
    grad_b: Vec<f64>,
}

/// `y = act(x·W + b)` and the gradients of `Σ y ⊙ r` (r fixed, not all ones, so every
/// gradient entry differs), by the fused op or by the composite.
fn run(fused: bool, shape: [usize; 3], act: Activation, x_grad: bool, dtype: DType) -> Outcome {
    let [m, k, n] = shape;
    let device = Device::flex().autodiff();
    let layer = layer(7, k, n, dtype, &device);
    let mut x = tensor(3, [m, k], dtype, &device);
    if x_grad {
        x = x.require_grad();
    }
    let r = tensor(11, [m, n], dtype, &device);
    let y = if fused {
        assert!(fused_linear_applies(&layer, &x));
        let before = fused_linear_calls();
        let y = linear(&layer, x.clone(), act);
        assert_eq!(
            fused_linear_calls(),
            before + 1,
            "the fused op was not taken"
        );
        y
    } else {
        let y = layer.forward(x.clone());
        if act == Activation::Relu { relu(y) } else { y }
    };
    let grads = (y.clone() * r).sum().backward();
    Outcome {
        y: host(y),
        grad_x: x.grad(&grads).map(host),
        grad_w: host(layer.weight.grad(&grads).expect("weight gradient")),
        grad_b: host1(
            layer
                .bias
                .as_ref()
                .unwrap()
                .grad(&grads)
                .expect("bias gradient"),
        ),
    }
}

fn compare(shape: [usize; 3], act: Activation, x_grad: bool, dtype: DType, tol: f64) {
    let fused = run(true, shape, act, x_grad, dtype);
    let reference = run(false, shape, act, x_grad, dtype);
    let what = |part: &str| format!("{part} of {shape:?} {act:?} {dtype:?}");
    assert_close(&what("y"), &fused.y, &reference.y, 0.0);
    assert_close(&what("dW"), &fused.grad_w, &reference.grad_w, tol);
    assert_close(&what("db"), &fused.grad_b, &reference.grad_b, tol);
    match (fused.grad_x, reference.grad_x) {
        (Some(a), Some(b)) => assert_close(&what("dx"), &a, &b, tol),
        (None, None) => assert!(!x_grad),
        (a, b) => panic!(
            "{}: dx present {} vs {}",
            what("dx"),
            a.is_some(),
            b.is_some()
        ),
    }
    if act == Activation::Relu {
        assert!(
            reference.y.contains(&0.0),
            "{shape:?}: ReLU never clipped, the mask is untested"
        );
    }
}

/// SAC's shapes (Hopper critic input 14, Humanoid 365, hidden 256, heads 1 and A) and odd ones.
const SHAPES: [[usize; 3]; 8] = [
    [256, 256, 3],
    [256, 14, 256],
    [256, 256, 256],
    [256, 256, 1],
    [256, 365, 256],
    [1, 14, 256],
    [1, 256, 17],
    [5, 3, 7],
];

#[test]
fn matches_the_composite_with_relu_f32() {
    for shape in SHAPES {
        compare(shape, Activation::Relu, true, DType::F32, 1e-6);
    }
}

#[test]
fn matches_the_composite_without_activation_f32() {
    for shape in SHAPES {
        compare(shape, Activation::None, true, DType::F32, 1e-6);
    }
}

#[test]
fn input_without_gradient_gets_none_and_the_rest_matches() {
    for shape in [[256, 14, 256], [1, 17, 3]] {
        compare(shape, Activation::Relu, false, DType::F32, 1e-6);
    }
}

#[test]
fn matches_the_composite_in_f64() {
    for shape in [[256, 256, 256], [1, 14, 256], [5, 3, 7]] {
        compare(shape, Activation::Relu, true, DType::F64, 1e-12);
        compare(shape, Activation::None, true, DType::F64, 1e-12);
    }
}

#[test]
fn off_the_autodiff_graph_and_on_strided_input() {
    let device = Device::flex();
    let layer = layer(5, 6, 4, DType::F32, &device);
    // A transposed view: [6, 3] storage read as [3, 6], strides (1, 3).
    let x = tensor::<2>(9, [6, 3], DType::F32, &device).transpose();
    let before = fused_linear_calls();
    let fused = host(linear(&layer, x.clone(), Activation::Relu));
    assert_eq!(fused_linear_calls(), before + 1);
    let reference = host(relu(layer.forward(x)));
    assert_close("strided y", &fused, &reference, 0.0);
}

#[test]
fn nan_propagates_through_relu_and_its_mask_as_in_burn() {
    let device = Device::flex().autodiff();
    let layer = layer(5, 3, 2, DType::F32, &device);
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![f32::NAN, 0.0, 0.0, 1.0, -2.0, 0.5], [2, 3]),
        &device,
    )
    .require_grad();
    let fused = linear(&layer, x.clone(), Activation::Relu);
    let reference = relu(layer.forward(x.clone()));
    let (f, r) = (host(fused.clone()), host(reference.clone()));
    for (a, b) in f.iter().zip(&r) {
        assert!(
            a.is_nan() == b.is_nan() && (a.is_nan() || (a - b).abs() < 1e-6),
            "{f:?} vs {r:?}"
        );
    }
    let gf = host(x.grad(&fused.sum().backward()).unwrap());
    let gr = host(x.grad(&reference.sum().backward()).unwrap());
    for (a, b) in gf.iter().zip(&gr) {
        assert!(
            a.is_nan() == b.is_nan() && (a.is_nan() || (a - b).abs() < 1e-6),
            "{gf:?} vs {gr:?}"
        );
    }
}

#[test]
fn a_layer_without_bias_takes_the_composite() {
    let device = Device::flex();
    let mut layer = layer(5, 3, 2, DType::F32, &device);
    layer.bias = None;
    let x = tensor::<2>(1, [4, 3], DType::F32, &device);
    assert!(!fused_linear_applies(&layer, &x));
    let before = fused_linear_calls();
    let y = host(linear(&layer, x.clone(), Activation::None));
    assert_eq!(fused_linear_calls(), before);
    assert_close("no bias", &y, &host(layer.forward(x)), 0.0);
}
