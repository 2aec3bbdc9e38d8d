//! Fused element-wise kernels for Burn's CPU backend (`flex`).
//!
//! On the CPU every Burn op is one pass over memory with its own allocation, so an Adam step
//! written as a dozen tensor ops moves its state through memory a dozen times. Here the same
//! arithmetic runs in one loop over the host buffers, which `flex` hands over without a copy.
//! The loop does the same operations in the same order and precision as the tensor ops, so both
//! paths give bit-identical results (tested in `tests/fused.rs`). Other devices (CUDA, wgpu…)
//! always take the tensor-op path.
//!
//! ## Vector width
//!
//! The crate is built for baseline x86-64, where the compiler vectorises these loops 4-wide
//! (SSE), and they are bound by the throughput of division and square root. So each loop
//! function is marked `#[multiversion(targets("x86_64+avx2"))]` ([multiversion]): compiled
//! twice, and the AVX2 (8-wide f32) variant is picked at run time on CPUs that have it; other
//! CPUs and targets keep the plain loop. Measured on a Xeon with AVX-512 (SAC critic,
//! `examples/step_bench.rs` under `perf`): the loops take ~20 % less time with AVX2, and an
//! AVX-512 variant was slower than AVX2 (its divide and square root units have the same
//! per-element throughput at 512 bits), so there is none.
//!
//! The results do not depend on the width: `+ − × ÷ √` are exactly rounded element by element
//! at any width, the only reductions inside loops (Prodigy's, D-Adapt Adam's, PS-DA-SGD's)
//! add into fixed lanes in a fixed order ([`crate::lanes`]), which their tensor paths use too,
//! and no operations are contracted into FMAs (Rust never fuses `a * b + c` by itself, AVX2
//! does not even enable FMA, and the kernels do not use `mul_add`).

use std::ops::{Add, Div, Mul, Sub};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{DType, Tensor, TensorData};
use multiversion::multiversion;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turn the fused CPU kernels on (the default) or off, process-wide. Off, every optimizer runs
/// as tensor ops on every device; for comparing the two paths and for benchmarks.
pub fn set_fused_cpu(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether a step on `tensor` takes a fused kernel (where the optimizer has one): fused kernels
/// on, the crate built with the `flex` feature, and the tensor on the flex device in f32 or f64.
pub fn fused_cpu_applies(tensor: &Tensor<1>) -> bool {
    ENABLED.load(Ordering::Relaxed) && on_host(tensor)
}

/// Whether `tensor` is a host buffer the kernels can read: the crate built with the `flex`
/// feature, and the tensor on the flex device in f32 or f64 (whether the kernels are on or not).
pub(crate) fn on_host(tensor: &Tensor<1>) -> bool {
    #[cfg(feature = "flex")]
    {
        matches!(tensor.dtype(), DType::F32 | DType::F64)
            && matches!(
                tensor.device().as_dispatch(),
                burn_dispatch::DispatchDevice::Flex(_)
            )
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = tensor;
        false
    }
}

/// The float types the kernels run in; constants are rounded to them as `mul_scalar` does.
pub(crate) trait Real:
    burn::tensor::Element
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + PartialOrd
{
    fn of(x: f64) -> Self;
    /// Exactly, as f64 (the host-order reductions sum in f64).
    fn wide(self) -> f64;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn wide(self) -> f64 {
        self as f64
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn wide(self) -> f64 {
        self
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
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

/// The state tensors of a fused step as host buffers, taken out of their slots all or none:
/// when one is absent nothing is taken, and the caller falls back to the tensor path.
pub(crate) fn take_all<const N: usize>(
    slots: [&mut Option<Tensor<1>>; N],
) -> Option<[TensorData; N]> {
    if slots.iter().any(|slot| slot.is_none()) {
        return None;
    }
    let tensors: Vec<Tensor<1>> = slots.into_iter().map(Option::take).collect::<Option<_>>()?;
    tensors
        .into_iter()
        .map(host)
        .collect::<Vec<_>>()
        .try_into()
        .ok()
}

/// The fused paths' state check: a tensor that is present, in `params`' dtype and length.
pub(crate) fn state_like(params: &Tensor<1>) -> impl Fn(Option<&Tensor<1>>) -> bool {
    let (dtype, n) = (params.dtype(), params.shape().num_elements());
    move |t| t.is_some_and(|t| t.dtype() == dtype && t.shape().num_elements() == n)
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
    data.as_mut_slice::<T>()
        .expect("dtype checked by fused_cpu_applies")
}

/// `g ← g + p·wd`, the L2 weight decay term as the tensor path adds it.
#[multiversion(targets("x86_64+avx2"))]
pub(crate) fn add_decay<T: Real>(g: &mut [T], p: &[T], wd: T) {
    for (g, p) in g.iter_mut().zip(p) {
        *g = *g + *p * wd;
    }
}

/// Run `f` on host buffers as tensors on `device`, and take the buffers back afterwards.
///
/// For the reductions between fused passes (PS-SPS's norm, PS-DA-SGD's rare `shrink` test):
/// `ops::dot` and friends sum through a gemm whose order a host loop cannot reproduce, so the
/// fused path calls the very same tensor op. (Prodigy, D-Adapt Adam and PS-DA-SGD sum their
/// dot products and norms inside their pass instead, in [`crate::lanes`]' order, which their
/// tensor paths share.)
/// Wrapping and unwrapping do not copy on flex (once `f`'s temporary clones are dropped the
/// buffers are unique again; `tests::reductions_on_host_buffers_do_not_copy`).
pub(crate) fn on_tensors<const N: usize, R>(
    data: [&mut TensorData; N],
    device: &burn::tensor::Device,
    f: impl FnOnce(&[Tensor<1>; N]) -> R,
) -> R {
    let mut data = data;
    let tensors: [Tensor<1>; N] = std::array::from_fn(|i| {
        tensor(
            std::mem::replace(data[i], TensorData::new(Vec::<f32>::new(), [0])),
            device,
        )
    });
    let result = f(&tensors);
    for (slot, t) in data.into_iter().zip(tensors) {
        *slot = host(t);
    }
    result
}

/// Host buffers a fused kernel writes into and keeps for its next step (double buffering,
/// to save an allocation and a zeroing pass per buffer and step). Not optimizer state: never
/// saved, and a clone starts without any.
#[derive(Default)]
pub(crate) struct Spare(Vec<TensorData>);

impl Spare {
    /// A kept buffer if one fits `like` (length and dtype), else new zeros.
    pub(crate) fn take_like(&mut self, like: &TensorData) -> TensorData {
        while let Some(d) = self.0.pop() {
            if d.dtype() == like.dtype() && d.num_elements() == like.num_elements() {
                return d;
            }
        }
        zeros_like(like)
    }

    /// Keep `data` for the next step.
    pub(crate) fn put(&mut self, data: TensorData) {
        self.0.push(data);
    }
}

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|d| d.num_elements()))
            .finish()
    }
}

/// MXCSR bits: flush results that would be subnormal to zero (FTZ), treat subnormal inputs as
/// zero (DAZ).
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

/// Make float arithmetic *on the calling thread* treat subnormal numbers (below ~1.2e-38 in f32)
/// as zero, or restore IEEE gradual underflow; returns whether it was on before.
///
/// Why: x86 CPUs take a slow microcode path (tens to hundreds of cycles) for every operation
/// that reads or produces a subnormal. Training produces them — Adam's second moment of a
/// rarely-active unit decays towards zero, squared small gradients underflow — and then an
/// optimizer step can cost ten times its normal time. Flushing changes results only where a
/// value would be below the smallest normal float. XLA (JAX) runs this way on CPU; PyTorch
/// does not by default (`torch.set_flush_denormal`). No effect (returns `false`) off x86-64.
pub fn flush_denormals(enabled: bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write this thread's SSE control register; only the
        // FTZ and DAZ bits change (both supported by every x86-64 CPU with SSE3, i.e. all in use).
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            let was = csr & FTZ_DAZ == FTZ_DAZ;
            let new = if enabled {
                csr | FTZ_DAZ
            } else {
                csr & !FTZ_DAZ
            };
            std::arch::asm!("ldmxcsr [{}]", in(reg) &new, options(nostack, readonly));
            was
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = enabled;
        false
    }
}

/// [`flush_denormals`] for a scope: sets the mode on the calling thread and puts the previous
/// one back when dropped (including on an early return or a panic).
#[must_use = "the previous mode comes back when this guard is dropped"]
#[derive(Debug)]
pub struct FlushDenormals {
    was: bool,
}

impl FlushDenormals {
    /// Flush subnormals to zero (`true`) or not (`false`) on this thread until the guard drops.
    pub fn scoped(enabled: bool) -> Self {
        Self {
            was: flush_denormals(enabled),
        }
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        flush_denormals(self.was);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// Half the smallest normal f32, computed at run time (subnormal unless flushed).
    fn half_min() -> f32 {
        black_box(f32::MIN_POSITIVE) * black_box(0.5f32)
    }

    #[test]
    #[cfg(feature = "flex")]
    fn reductions_on_host_buffers_do_not_copy() {
        let device = burn::tensor::Device::default();
        let mut a = TensorData::new((0..1000).map(|i| i as f32).collect::<Vec<_>>(), [1000]);
        let mut b = TensorData::new(vec![2.0f32; 1000], [1000]);
        let (pa, pb) = (
            a.as_slice::<f32>().unwrap().as_ptr(),
            b.as_slice::<f32>().unwrap().as_ptr(),
        );
        let dot = on_tensors([&mut a, &mut b], &device, |[a, b]| crate::ops::dot(a, b));
        assert_eq!(dot, 999_000.0);
        assert_eq!(
            a.as_slice::<f32>().unwrap().as_ptr(),
            pa,
            "first buffer copied"
        );
        assert_eq!(
            b.as_slice::<f32>().unwrap().as_ptr(),
            pb,
            "second buffer copied"
        );
        assert_eq!(a.as_slice::<f32>().unwrap()[999], 999.0);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn flushing_zeroes_subnormals_on_this_thread_and_the_guard_restores() {
        assert!(
            !flush_denormals(false),
            "test threads start with IEEE subnormals"
        );
        assert!(half_min() > 0.0 && half_min().is_subnormal());
        {
            let _guard = FlushDenormals::scoped(true);
            assert_eq!(
                half_min(),
                0.0,
                "results below the smallest normal are flushed"
            );
            // Subnormal inputs read as zero too.
            let sub = f32::from_bits(1);
            assert_eq!(black_box(sub) * black_box(2.0f32), 0.0);
            // Another thread keeps its own mode.
            std::thread::spawn(|| {
                flush_denormals(false);
                assert!(half_min() > 0.0);
            })
            .join()
            .unwrap();
            assert_eq!(half_min(), 0.0);
        }
        assert!(
            half_min().is_subnormal(),
            "the guard put IEEE subnormals back"
        );
    }
}
