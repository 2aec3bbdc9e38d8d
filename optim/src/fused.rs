//! Fused element-wise kernels for Burn's CPU backend (`flex`).
//!
//! On the CPU every Burn op is one pass over memory with its own allocation, so an Adam step
//! written as a dozen tensor ops moves its state through memory a dozen times. Here the same
//! arithmetic runs in one loop over the host buffers, which `flex` hands over without a copy.
//! The loop does the same operations in the same order and precision as the tensor ops, so both
//! paths give bit-identical results (tested in `tests/fused.rs`). Other devices (CUDA, wgpu…)
//! always take the tensor-op path.

use std::ops::{Add, Div, Mul, Sub};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{DType, Tensor, TensorData};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turn the fused CPU kernels on (the default) or off, process-wide. Off, every optimizer runs
/// as tensor ops on every device; for comparing the two paths and for benchmarks.
pub fn set_fused_cpu(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether a step on `tensor` takes a fused kernel (where the optimizer has one): fused kernels
/// on, the crate built with the `flex` feature, and the tensor on the flex device in f32 or f64.
pub fn fused_cpu_applies(tensor: &Tensor<1>) -> bool {
    #[cfg(feature = "flex")]
    {
        ENABLED.load(Ordering::Relaxed)
            && matches!(tensor.dtype(), DType::F32 | DType::F64)
            && matches!(tensor.device().as_dispatch(), burn_dispatch::DispatchDevice::Flex(_))
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = tensor;
        false
    }
}

/// The float types the kernels run in; constants are rounded to them as `mul_scalar` does.
pub(crate) trait Real:
    burn::tensor::Element + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + PartialOrd
{
    fn of(x: f64) -> Self;
    fn sqrt(self) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// A flat tensor's values on the host (zero-copy on flex when the tensor is not shared).
pub(crate) fn host(tensor: Tensor<1>) -> TensorData {
    tensor.into_data()
}

/// Back to a tensor on `device`, in the data's own dtype.
pub(crate) fn tensor(data: TensorData, device: &burn::tensor::Device) -> Tensor<1> {
    let dtype = data.dtype();
    Tensor::from_data(data, (device, dtype))
}

/// Host zeros of the same length and dtype as `data`.
pub(crate) fn zeros_like(data: &TensorData) -> TensorData {
    let n = data.num_elements();
    match data.dtype() {
        DType::F64 => TensorData::new(vec![0.0f64; n], [n]),
        _ => TensorData::new(vec![0.0f32; n], [n]),
    }
}

/// Mutable typed view of host data (its dtype was checked by [`fused_cpu_applies`]).
pub(crate) fn slice_mut<T: Real>(data: &mut TensorData) -> &mut [T] {
    data.as_mut_slice::<T>().expect("dtype checked by fused_cpu_applies")
}
