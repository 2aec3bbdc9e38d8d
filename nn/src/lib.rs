//! # lrfree-nn: a linear layer fused into one op on Burn's CPU backend
//!
//! `relu(x·W + b)` written with Burn's standard ops is, on the CPU backend (`flex`), a matrix
//! product into a fresh zero-filled buffer, a bias add into another buffer and a ReLU pass; its
//! backward adds a masking pass, a column sum for the bias and two more products. A SAC
//! update runs a few dozen of these at batch 256, and after the products themselves these
//! passes are most of its time. [`linear`] does the same arithmetic as one autodiff op
//! (a Burn backend extension, `#[backend_extension(Flex, Autodiff)]`):
//!
//! - forward: the same `gemm` kernels Burn calls write the product into the output buffer,
//!   and one pass over it in place adds the bias and applies ReLU;
//! - backward: one pass masks the incoming gradient by ReLU (in place when it is not shared)
//!   and sums its columns into the bias gradient; the weight and input gradients read the
//!   transposed operands through their strides, and the input gradient is computed only when
//!   the input needs one (not for the first layer, whose input is data).
//!
//! Every other device (CUDA, wgpu, …), and dtypes other than f32/f64, take the composite of
//! standard ops (`burn::nn::Linear::forward`, then ReLU), so models written with [`linear`] run
//! everywhere. The forwards are bit-identical; the gradients agree to float rounding (the bias
//! gradient is summed row by row): tested to 1e-6 relative in `tests/fused_linear.rs`.
//!
//! [`Mlp`] (ReLU layers) and [`torch_linear`] (PyTorch's default initialisation, drawn from a
//! caller's RNG) are the fully connected networks of the SAC agent and the supervised drivers.
//!
//! ```
//! use burn::nn::LinearConfig;
//! use burn::tensor::{Device, Tensor};
//! use lrfree_nn::{Activation, linear};
//!
//! let device = Device::default().autodiff();
//! let layer = LinearConfig::new(4, 3).init(&device);
//! let x = Tensor::<2>::ones([2, 4], &device);
//! let y = linear(&layer, x, Activation::Relu);
//! assert_eq!(y.dims(), [2, 3]);
//! assert!(y.into_data().to_vec::<f32>().unwrap().iter().all(|v| *v >= 0.0));
//! ```

#![warn(missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::Rng;

#[cfg(feature = "flex")]
mod extension;
#[cfg(feature = "flex")]
mod kernels;

/// What follows the affine map in [`linear`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x·W + b`.
    None,
    /// `max(x·W + b, 0)` (NaN stays NaN, as in Burn's `relu`).
    Relu,
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turn the fused CPU op on (the default) or off, process-wide. Off, [`linear`] is the
/// composite of standard ops on every device; for comparing the two paths and for benchmarks.
pub fn set_fused_linear(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether [`linear`] takes the fused op for this input and layer: fused op on, the crate built
/// with `flex`, a layer with a bias, input and weight in f32 or f64 on the flex device (with or
/// without autodiff).
pub fn fused_linear_applies(layer: &Linear, x: &Tensor<2>) -> bool {
    #[cfg(feature = "flex")]
    {
        let weight = layer.weight.val();
        ENABLED.load(Ordering::Relaxed)
            && layer.bias.is_some()
            && matches!(x.dtype(), DType::F32 | DType::F64)
            && weight.dtype() == x.dtype()
            && on_flex(&x.device())
            && on_flex(&weight.device())
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = (layer, x);
        false
    }
}

#[cfg(feature = "flex")]
fn on_flex(device: &burn::tensor::Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        burn::backend::DispatchDevice::Flex(_)
    )
}

/// `activation(x·W + b)` for `x` `[batch, d_in]` and a layer `d_in → d_out`: one fused op on
/// Burn's CPU backend (see the crate docs), the standard ops elsewhere. Gradients flow to `x`,
/// the weight and the bias as through `Linear::forward`.
pub fn linear(layer: &Linear, x: Tensor<2>, activation: Activation) -> Tensor<2> {
    let apply_relu = activation == Activation::Relu;
    #[cfg(feature = "flex")]
    if fused_linear_applies(layer, &x)
        && let Some(bias) = &layer.bias
    {
        return extension::fused_linear(x, layer.weight.val(), bias.val(), apply_relu);
    }
    let y = layer.forward(x);
    if apply_relu { relu(y) } else { y }
}

/// How many times the fused CPU forward ran on the calling thread (tests use it to make sure
/// the fused path is taken, not silently replaced by the composite).
#[doc(hidden)]
pub fn fused_linear_calls() -> u64 {
    #[cfg(feature = "flex")]
    {
        kernels::calls()
    }
    #[cfg(not(feature = "flex"))]
    {
        0
    }
}

/// A fully connected layer `fan_in → fan_out` with PyTorch's default initialisation,
/// U(−1/√fan_in, 1/√fan_in) for weight and bias, drawn from `rng` on the host (weight first,
/// row by row, then bias), never from Burn's global RNG: seeds stay reproducible with several
/// models in parallel threads.
pub fn torch_linear<R: Rng + ?Sized>(
    rng: &mut R,
    fan_in: usize,
    fan_out: usize,
    device: &Device,
) -> Linear {
    let k = 1.0 / (fan_in as f64).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-k..k) as f32).collect() };
    let weight = draw(fan_in * fan_out);
    let bias = draw(fan_out);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [fan_in, fan_out]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [fan_out]),
            device,
        ))),
    }
}

/// Layers `sizes[0] → sizes[1] → …` ([`torch_linear`] each), ReLU between them.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// One layer per consecutive pair of `sizes` (none for fewer than two sizes).
    pub fn new<R: Rng + ?Sized>(rng: &mut R, sizes: &[usize], device: &Device) -> Self {
        Self {
            layers: sizes
                .windows(2)
                .map(|w| torch_linear(rng, w[0], w[1], device))
                .collect(),
        }
    }

    /// `[B, sizes[0]] → [B, sizes[last]]`: ReLU between layers, `last` after the last one, each
    /// layer with its activation one [`linear`] op. Without layers, `x` unchanged.
    pub fn forward(&self, mut x: Tensor<2>, last: Activation) -> Tensor<2> {
        let n = self.layers.len();
        for (i, layer) in self.layers.iter().enumerate() {
            let activation = if i + 1 < n { Activation::Relu } else { last };
            x = linear(layer, x, activation);
        }
        x
    }
}
