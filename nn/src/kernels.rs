//! Host loops and `gemm` calls of the fused linear op, on flex's buffers without copies.
//!
//! f32 and f64 run here; any other dtype falls back to flex's own ops (same results as the
//! composite path, just not fused).

use std::cell::Cell;
use std::ops::Add;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ModuleOps};
use burn::tensor::{DType, TensorData};
use multiversion::multiversion;

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

/// Fused forwards run on this thread so far.
pub(crate) fn calls() -> u64 {
    CALLS.with(Cell::get)
}

/// One thread inside `gemm`, as flex's own products run in this build (Burn's `flex` feature
/// leaves gemm's rayon support off).
const PARALLELISM: gemm::Parallelism = gemm::Parallelism::None;

/// The float types with a fused path.
trait Real: Copy + PartialOrd + Add<Output = Self> + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    fn is_nan(self) -> bool;
    /// Burn's ReLU mask: kept where positive or NaN. Written as a select, not a branch, so
    /// the loops over it vectorise (a branch on random signs mispredicts half the time).
    #[inline(always)]
    fn keep(self) -> bool {
        self > Self::ZERO || self.is_nan()
    }
    /// The whole storage buffer (the layout's offset and strides index into it).
    fn storage(t: &FlexTensor) -> &[Self];
    /// The storage, mutable, when the tensor owns it alone.
    fn storage_unique(t: &mut FlexTensor) -> Option<&mut [Self]>;
    /// A contiguous row-major tensor of `values`.
    fn tensor(values: Vec<Self>, shape: [usize; 2]) -> FlexTensor;
    fn vector(values: Vec<Self>) -> FlexTensor;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn storage(t: &FlexTensor) -> &[Self] {
                t.storage::<$t>()
            }
            fn storage_unique(t: &mut FlexTensor) -> Option<&mut [Self]> {
                t.try_storage_mut::<$t>()
            }
            fn tensor(values: Vec<Self>, shape: [usize; 2]) -> FlexTensor {
                FlexTensor::from_data(TensorData::new(values, shape))
            }
            fn vector(values: Vec<Self>) -> FlexTensor {
                let n = values.len();
                FlexTensor::from_data(TensorData::new(values, [n]))
            }
        }
    };
}
real!(f32);
real!(f64);

/// A matrix as `gemm` reads it: first element, row stride, column stride (in elements; any
/// sign, so transposed and flipped views need no copy).
#[derive(Clone, Copy)]
struct Strided<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

impl<T: Real> Strided<T> {
    fn of(t: &FlexTensor) -> Self {
        let layout = t.layout();
        let strides = layout.strides();
        Self {
            ptr: T::storage(t).as_ptr().wrapping_add(layout.start_offset()),
            rs: strides[0],
            cs: strides[1],
        }
    }

    /// The transpose, as a view.
    fn t(self) -> Self {
        Self {
            ptr: self.ptr,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// `a·b` for `a` `[m, k]`, `b` `[k, n]` into a new row-major `[m, n]` buffer, written once by
/// gemm (no zero fill first).
fn product<T: Real>(a: Strided<T>, b: Strided<T>, [m, k, n]: [usize; 3]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(m * n);
    // SAFETY: `out` has room for m·n elements, which gemm writes (it does not read the
    // destination when told not to) before the length covers them; `a` and `b` are valid for
    // their shapes and strides (callers build them from live tensors of those shapes).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.ptr,
            a.cs,
            a.rs,
            b.ptr,
            b.cs,
            b.rs,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            PARALLELISM,
        );
        out.set_len(m * n);
    }
    out
}

/// [`product`] as a tensor.
fn new_product<T: Real>(a: Strided<T>, b: Strided<T>, [m, k, n]: [usize; 3]) -> FlexTensor {
    T::tensor(product(a, b, [m, k, n]), [m, n])
}

/// A vector's values, contiguous (copied only if the tensor is a strided view).
fn contiguous<T: Real>(t: &FlexTensor) -> std::borrow::Cow<'_, [T]> {
    match t.layout().contiguous_offsets() {
        Some((start, end)) => std::borrow::Cow::Borrowed(&T::storage(t)[start..end]),
        None => {
            let t = t.to_contiguous();
            std::borrow::Cow::Owned(T::storage(&t).to_vec())
        }
    }
}

fn dims2(t: &FlexTensor) -> [usize; 2] {
    let shape = t.layout().shape();
    [shape[0], shape[1]]
}

/// `relu?(x·weight + bias)`.
pub(crate) fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    relu: bool,
) -> FlexTensor {
    let same = x.dtype() == weight.dtype() && x.dtype() == bias.dtype();
    match x.dtype() {
        DType::F32 if same => forward_real::<f32>(x, weight, bias, relu),
        DType::F64 if same => forward_real::<f64>(x, weight, bias, relu),
        _ => {
            let y = Flex::linear(x.clone(), weight.clone(), Some(bias.clone()));
            if relu { Flex::relu(y) } else { y }
        }
    }
}

fn forward_real<T: Real>(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    relu: bool,
) -> FlexTensor {
    CALLS.with(|c| c.set(c.get() + 1));
    let [m, k] = dims2(x);
    let [k_w, n] = dims2(weight);
    assert_eq!(
        k, k_w,
        "fused linear: input has {k} features, the weight expects {k_w}"
    );
    let bias = contiguous::<T>(bias);
    assert_eq!(
        bias.len(),
        n,
        "fused linear: bias of {} for {n} outputs",
        bias.len()
    );
    let mut out = product(Strided::of(x), Strided::of(weight), [m, k, n]);
    add_bias_in_place(&mut out, &bias, relu);
    T::tensor(out, [m, n])
}

/// `row ← relu?(row + bias)` for every row, in one pass over the product: `(x·W) + b` rounds
/// as the composite's `matmul` then `add`, and ReLU is Burn's (`v` where `v > 0` or NaN,
/// else 0).
///
/// Why after the product rather than as its starting value: gemm accumulating into rows
/// pre-filled with the bias costs a copy of the bias into every row plus a read of them by
/// gemm; Hopper's update spent 1.8 % of its time in that copy (perf).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2"))]
fn add_bias_in_place<T: Real>(out: &mut [T], bias: &[T], relu: bool) {
    if bias.is_empty() {
        return;
    }
    for row in out.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            let y = *v + *b;
            *v = if !relu || y.keep() { y } else { T::ZERO };
        }
    }
}

/// The gradients the backward pass should compute, with what each needs.
pub(crate) struct Wanted<'a> {
    /// The input's gradient, from the weight.
    pub x_from_weight: Option<&'a FlexTensor>,
    /// The weight's gradient, from the input.
    pub weight_from_x: Option<&'a FlexTensor>,
    /// The bias's gradient.
    pub bias: bool,
}

/// The gradients asked for in [`Wanted`].
pub(crate) struct Grads {
    pub x: Option<FlexTensor>,
    pub weight: Option<FlexTensor>,
    pub bias: Option<FlexTensor>,
}

/// Gradients of `relu?(x·W + b)` from the output's gradient; `output` is the forward's
/// output when it applied ReLU (its mask), `None` without ReLU.
pub(crate) fn backward(grad: FlexTensor, wanted: Wanted<'_>, output: Option<&FlexTensor>) -> Grads {
    let uniform = [wanted.x_from_weight, wanted.weight_from_x, output]
        .into_iter()
        .flatten()
        .all(|t| t.dtype() == grad.dtype());
    match grad.dtype() {
        DType::F32 if uniform => backward_real::<f32>(grad, wanted, output),
        DType::F64 if uniform => backward_real::<f64>(grad, wanted, output),
        _ => {
            let grad = match output {
                Some(output) => Flex::relu_backward(output.clone(), grad),
                None => grad,
            };
            Grads {
                x: wanted
                    .x_from_weight
                    .map(|w| Flex::linear_x_backward(w.clone(), grad.clone())),
                weight: wanted
                    .weight_from_x
                    .map(|x| Flex::linear_weight_backward(x.clone(), grad.clone())),
                bias: wanted.bias.then(|| Flex::linear_bias_backward(grad)),
            }
        }
    }
}

fn backward_real<T: Real>(
    grad: FlexTensor,
    wanted: Wanted<'_>,
    output: Option<&FlexTensor>,
) -> Grads {
    let [m, n] = dims2(&grad);
    let mut bias = wanted.bias.then(|| vec![T::ZERO; n]);
    // The gradient before the activation, row-major [m, n]: masked in place when the incoming
    // gradient is a contiguous buffer of its own, else into a new one.
    let pre = match output {
        None => {
            let grad = if grad.layout().contiguous_offsets() == Some((0, m * n)) {
                grad
            } else {
                grad.to_contiguous()
            };
            if let Some(bias) = &mut bias {
                // The buffer may be larger than the tensor (a view at offset 0): its rows only.
                sum_rows(&T::storage(&grad)[..m * n], bias);
            }
            grad
        }
        Some(output) => {
            let output = contiguous::<T>(output);
            let mut grad = grad;
            let exclusive = grad.layout().contiguous_offsets() == Some((0, m * n));
            match T::storage_unique(&mut grad).filter(|_| exclusive) {
                Some(values) => {
                    mask_in_place(values, &output, bias.as_deref_mut());
                    grad
                }
                None => {
                    let mut values = contiguous::<T>(&grad).into_owned();
                    mask_in_place(&mut values, &output, bias.as_deref_mut());
                    T::tensor(values, [m, n])
                }
            }
        }
    };
    let g = Strided::<T>::of(&pre);
    Grads {
        x: wanted.x_from_weight.map(|w| {
            let [k, _] = dims2(w);
            new_product(g, Strided::of(w).t(), [m, n, k])
        }),
        weight: wanted.weight_from_x.map(|x| {
            let [_, k] = dims2(x);
            new_product(Strided::of(x).t(), g, [k, m, n])
        }),
        bias: bias.map(T::vector),
    }
}

/// ReLU's backward in place (`g` kept where the output is positive or NaN, as Burn's
/// `relu_backward`), adding each masked row into `bias` while it is in cache, when asked.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2"))]
fn mask_in_place<T: Real>(grad: &mut [T], output: &[T], bias: Option<&mut [T]>) {
    let mask = |g: &mut [T], y: &[T]| {
        for (g, y) in g.iter_mut().zip(y) {
            *g = if y.keep() { *g } else { T::ZERO };
        }
    };
    match bias {
        Some(bias) if !bias.is_empty() => {
            let n = bias.len();
            for (g, y) in grad.chunks_exact_mut(n).zip(output.chunks_exact(n)) {
                mask(g, y);
                add_row(bias, g);
            }
        }
        _ => mask(grad, output),
    }
}

/// `acc[j] += Σ_i rows[i, j]`, row by row.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2"))]
fn sum_rows<T: Real>(rows: &[T], acc: &mut [T]) {
    if acc.is_empty() {
        return;
    }
    for row in rows.chunks_exact(acc.len()) {
        add_row(acc, row);
    }
}

/// `acc[j] += row[j]`; inlined into the callers, so compiled at their width.
#[inline(always)]
fn add_row<T: Real>(acc: &mut [T], row: &[T]) {
    for (a, v) in acc.iter_mut().zip(row) {
        *a = *a + *v;
    }
}
