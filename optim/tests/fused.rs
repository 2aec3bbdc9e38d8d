//! The fused CPU kernels (src/fused.rs) against the tensor-op path they replace: the same
//! steps, in f32 and f64, with and without weight decay and amsgrad, must give bit-identical
//! parameters and state. Adam, D-Adapt Adam, Prodigy, PS-SPS and PS-DA-SGD (also along a
//! trajectory where its `shrink` transport shrinks). One test in its own binary, because the switch is process-wide.

use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_lrfree::flat::{FlatStep, Layout};
use burn_lrfree::internals::{fused_cpu_applies, set_fused_cpu};
use burn_lrfree::registry::{OptimizerConfig, default_lr};
use rand::{Rng, SeedableRng};

fn flat(values: &[f64], dtype: DType, device: &Device) -> Tensor<1> {
    let data = match dtype {
        DType::F64 => TensorData::new(values.to_vec(), [values.len()]),
        _ => TensorData::new(
            values.iter().map(|v| *v as f32).collect::<Vec<f32>>(),
            [values.len()],
        ),
    };
    let t = Tensor::from_data(data, (device, dtype));
    assert_eq!(t.dtype(), dtype);
    t
}

fn bits(t: &Tensor<1>) -> Vec<u64> {
    let data = t.to_data();
    match data.dtype() {
        DType::F64 => data
            .as_slice::<f64>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect(),
        _ => data
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect(),
    }
}

/// The gradient sequences the paths are compared on.
#[derive(Clone, Copy, Debug)]
enum Grads {
    /// Of very different sizes per coordinate, some exactly zero throughout.
    Mixed,
    /// Zero for the first three steps, which the D-methods skip (or, D-Adapt Adam, half-take),
    /// then `Mixed`.
    ZeroFirst,
    /// All non-zero and shrinking ten-fold every few steps: every scale falls, so PS-DA-SGD's
    /// `shrink` transport finds ρ < 1.
    Decaying,
}

/// What one run leaves: the parameters' bits after each step, the saved state, and the steps
/// at which the D the step used was below the D the previous step left (a `shrink`).
struct Run {
    trace: Vec<Vec<u64>>,
    state: Vec<u8>,
    shrinks: Vec<usize>,
}

/// 40 steps on a fixed gradient sequence.
fn run(name: &str, options: &str, grads: Grads, dtype: DType, fused: bool) -> Run {
    set_fused_cpu(fused);
    let device = Device::default();
    let n = 1000;
    let layout = Layout::from_sizes(&[600, 400]);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut optimizer = OptimizerConfig::from_toml(name, options)
        .unwrap()
        .build()
        .unwrap();
    let lr = if name == "adam" {
        1e-2
    } else {
        default_lr(name).unwrap()
    };
    // Parameters from 1 down to 1e-8 in size, so that even the tiny first steps of the
    // D-adapting methods (D starts at 1e-6) show in the bits of some of them.
    let init: Vec<f64> = (0..n)
        .map(|i| rng.random_range(-1.0..1.0) * 10f64.powi(-2 * (i % 5) as i32))
        .collect();
    let mut params = flat(&init, dtype, &device);
    assert_eq!(
        fused_cpu_applies(&params),
        fused,
        "the switch decides the path on the CPU backend"
    );
    let (mut trace, mut shrinks) = (Vec::new(), Vec::new());
    let mut d_before = None;
    for step in 0..40 {
        let grads: Vec<f64> = match grads {
            Grads::ZeroFirst if step < 3 => vec![0.0; n],
            Grads::Mixed | Grads::ZeroFirst => (0..n)
                .map(|i| {
                    if i % 97 == 0 {
                        0.0
                    } else {
                        rng.random_range(-1.0..1.0) * 10f64.powi((i % 7) as i32 - 3)
                    }
                })
                .collect(),
            Grads::Decaying => (0..n)
                .map(|_| {
                    rng.random_range(0.5..1.0)
                        * 0.1f64.powi(step / 4)
                        * if rng.random_bool(0.5) { 1.0 } else { -1.0 }
                })
                .collect(),
        };
        let g = flat(&grads, dtype, &device);
        params = optimizer
            .step_flat(FlatStep {
                lr,
                params,
                grads: g,
                layout: &layout,
                loss: Some(1.0 + step as f64),
            })
            .unwrap();
        assert_eq!(params.dtype(), dtype, "step {step} changed the dtype");
        trace.push(bits(&params));
        let estimate = optimizer.estimate();
        if let (Some(before), Some(used)) = (d_before, estimate.d)
            && used < before
        {
            shrinks.push(step as usize);
        }
        d_before = estimate.d_next;
    }
    let state = optimizer.save_state().to_bytes().unwrap();
    set_fused_cpu(true);
    Run {
        trace,
        state,
        shrinks,
    }
}

/// Both paths on `name` with `options`, in f32 and f64: bit-identical parameters after every
/// step and identical saved states. Returns the fused runs' shrink steps, per dtype.
fn assert_paths_agree(name: &str, options: &str, grads: Grads) -> Vec<Vec<usize>> {
    let mut shrinks = Vec::new();
    for dtype in [DType::F32, DType::F64] {
        let fused = run(name, options, grads, dtype, true);
        let plain = run(name, options, grads, dtype, false);
        let first_diff = fused
            .trace
            .iter()
            .zip(&plain.trace)
            .position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "{name} {options:?} {grads:?} {dtype:?}: paths differ from step {first_diff:?}"
        );
        assert_eq!(
            fused.state, plain.state,
            "{name} {options:?} {grads:?} {dtype:?}: saved states differ"
        );
        // And the parameters moved (the comparison is not between two no-ops).
        assert_ne!(
            fused.trace[1], fused.trace[39],
            "{name} {options:?} {dtype:?}: parameters did not move"
        );
        shrinks.push(fused.shrinks);
    }
    shrinks
}

// One test, because the switch is process-wide.
#[test]
fn fused_kernels_match_the_tensor_ops_bit_for_bit() {
    for options in [
        "",
        "weight_decay = 0.01",
        "amsgrad = true\nweight_decay = 0.1",
    ] {
        assert_paths_agree("adam", options, Grads::Mixed);
    }

    let ps_da_sgd = [
        "",
        "d0 = 1e-2",
        "weight_decay = 0.01",
        "scaling = \"amsgrad\"",
        "transport = \"none\"\nscaling = \"amsgrad\"",
    ];
    for options in ps_da_sgd {
        assert_paths_agree("ps-da-sgd", options, Grads::Mixed);
    }
    for options in ["", "scaling = \"amsgrad\"", "gamma_b = 1e-3\nbeta2 = 0.99"] {
        assert_paths_agree("ps-sps", options, Grads::Mixed);
    }
    let dadapt_adam = [
        "",
        "weight_decay = 0.01",
        "weight_decay = 0.01\ndecouple = true",
        "use_bias_correction = true\ngrowth_rate = 1.05",
    ];
    for options in dadapt_adam {
        assert_paths_agree("dadapt-adam", options, Grads::Mixed);
    }
    let prodigy = [
        "",
        "weight_decay = 0.01",
        "weight_decay = 0.01\ndecouple = false",
        "use_bias_correction = true\nsafeguard_warmup = true",
        "d_coef = 2.0\ngrowth_rate = 1.05\nbeta3 = 0.9",
    ];
    for options in prodigy {
        assert_paths_agree("prodigy", options, Grads::Mixed);
    }
    for options in ["", "weight_decay = 0.01", "alpha = 10.0\neps = 1e-4"] {
        assert_paths_agree("cocob", options, Grads::Mixed);
    }
    for name in [
        "adam",
        "ps-sps",
        "ps-da-sgd",
        "dadapt-adam",
        "prodigy",
        "cocob",
    ] {
        assert_paths_agree(name, "", Grads::ZeroFirst);
    }
    // (Not under amsgrad, whose scales never fall.)
    for options in ["", "weight_decay = 1e-4"] {
        for shrinks in assert_paths_agree("ps-da-sgd", options, Grads::Decaying) {
            assert!(
                shrinks.len() >= 3,
                "ps-da-sgd {options:?}: the shrink transport should have shrunk D; shrinks at {shrinks:?}"
            );
        }
    }
}
