//! The fused CPU kernels (src/fused.rs) against the tensor-op path they replace: the same
//! steps, in f32 and f64, with and without weight decay and amsgrad, must give bit-identical
//! parameters and state. One test in its own binary, because the switch is process-wide.

use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_lrfree::registry::OptimizerConfig;
use burn_lrfree::{FlatStep, Layout, fused_cpu_applies, set_fused_cpu};
use rand::{Rng, SeedableRng};

fn flat(values: &[f64], dtype: DType, device: &Device) -> Tensor<1> {
    let data = match dtype {
        DType::F64 => TensorData::new(values.to_vec(), [values.len()]),
        _ => TensorData::new(values.iter().map(|v| *v as f32).collect::<Vec<f32>>(), [values.len()]),
    };
    let t = Tensor::from_data(data, (device, dtype));
    assert_eq!(t.dtype(), dtype);
    t
}

fn bits(t: &Tensor<1>) -> Vec<u64> {
    let data = t.to_data();
    match data.dtype() {
        DType::F64 => data.as_slice::<f64>().unwrap().iter().map(|v| v.to_bits()).collect(),
        _ => data.as_slice::<f32>().unwrap().iter().map(|v| v.to_bits() as u64).collect(),
    }
}

/// 40 steps on a fixed gradient sequence; the parameters after each step, and the saved state.
fn run(name: &str, options: &str, dtype: DType, fused: bool) -> (Vec<Vec<u64>>, Vec<u8>) {
    set_fused_cpu(fused);
    let device = Device::default();
    let n = 1000;
    let layout = Layout::from_sizes(&[600, 400]);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut optimizer = OptimizerConfig::from_toml(name, options).unwrap().build().unwrap();
    let mut params = flat(&(0..n).map(|_| rng.random_range(-1.0..1.0)).collect::<Vec<f64>>(), dtype, &device);
    assert_eq!(fused_cpu_applies(&params), fused, "the switch decides the path on the CPU backend");
    let mut trace = Vec::new();
    for step in 0..40 {
        // Gradients of very different sizes, some exactly zero.
        let grads: Vec<f64> = (0..n)
            .map(|i| if i % 97 == 0 { 0.0 } else { rng.random_range(-1.0..1.0) * 10f64.powi((i % 7) as i32 - 3) })
            .collect();
        let g = flat(&grads, dtype, &device);
        params = optimizer
            .step_flat(FlatStep { lr: 1e-2, params, grads: g, layout: &layout, loss: Some(1.0 + step as f64) })
            .unwrap();
        assert_eq!(params.dtype(), dtype, "step {step} changed the dtype");
        trace.push(bits(&params));
    }
    let state = optimizer.save_state().to_bytes().unwrap();
    set_fused_cpu(true);
    (trace, state)
}

#[test]
fn fused_kernels_match_the_tensor_ops_bit_for_bit() {
    for dtype in [DType::F32, DType::F64] {
        for options in ["", "weight_decay = 0.01", "amsgrad = true\nweight_decay = 0.1"] {
            let (fused, fused_state) = run("adam", options, dtype, true);
            let (plain, plain_state) = run("adam", options, dtype, false);
            let first_diff = fused.iter().zip(&plain).position(|(a, b)| a != b);
            assert_eq!(first_diff, None, "adam {options:?} {dtype:?}: paths differ from step {first_diff:?}");
            assert_eq!(fused_state, plain_state, "adam {options:?} {dtype:?}: saved states differ");
            // And the parameters moved (the comparison is not between two no-ops).
            assert_ne!(fused[0], fused[39]);
        }
    }
}
