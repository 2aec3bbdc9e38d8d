//! Bad input, state round trips and f32 training, for all eleven optimizers through the
//! public module API.

use burn::module::Param;
use burn::nn::LinearConfig;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn_lrfree::registry::{NAMES, OptimizerConfig, build, default_lr};
use burn_lrfree::{LrFreeOptimizer, OptimError, OptimState, StepModule};

mod common;
use common::{batch, device, filled_grads, loss, model, train_step, weights};

#[test]
fn registry_knows_all_eleven_and_lists_them_on_error() {
    assert_eq!(NAMES.len(), 11);
    for name in NAMES {
        assert_eq!(build(name).unwrap().name(), name);
        assert_eq!(
            build(&name.replace('-', "_").to_uppercase())
                .unwrap()
                .name(),
            name
        );
    }
    let err = build("adamw")
        .err()
        .expect("unknown name must fail")
        .to_string();
    for name in NAMES {
        assert!(err.contains(name), "error `{err}` does not list `{name}`");
    }
}

#[test]
fn configs_parse_from_toml_and_reject_bad_values() {
    let c = OptimizerConfig::from_toml(
        "prodigy",
        "growth_rate = inf\nd_coef = 0.5\nbetas = [0.9, 0.99]",
    )
    .unwrap();
    let OptimizerConfig::Prodigy(p) = &c else {
        panic!("wrong variant")
    };
    assert!(p.growth_rate.is_infinite() && p.d_coef == 0.5 && p.betas == [0.9, 0.99]);
    // Options round-trip through their JSON form (infinity as "inf").
    assert_eq!(
        OptimizerConfig::from_json("prodigy", c.options()).unwrap(),
        c
    );

    for (name, toml, needle) in [
        ("ps-da-sgd", "momentum = 1.5", "momentum"),
        ("ps-da-sgd", "transport = \"sideways\"", "sideways"),
        ("dadapt-sgd", "growth_rate = 0.5", "growth_rate"),
        ("adam", "lr_typo = 1.0", "lr_typo"),
        ("sps", "c = -1", "`c`"),
        ("cocob", "alpha = \"many\"", "alpha"),
        ("prodigy", "slice_p = 0", "slice_p"),
        ("dog", "not toml at all [", "dog"),
    ] {
        let err = OptimizerConfig::from_toml(name, toml)
            .err()
            .unwrap_or_else(|| panic!("{name} accepted `{toml}`"));
        assert!(matches!(err, OptimError::InvalidConfig { .. }), "{err:?}");
        assert!(
            err.to_string().contains(needle),
            "`{err}` does not mention `{needle}`"
        );
    }
}

#[test]
fn default_lr_is_a_step_for_sgd_and_adam_and_a_multiplier_otherwise() {
    assert_eq!(default_lr("adam").unwrap(), 3e-4);
    assert_eq!(default_lr("sgd").unwrap(), 3e-4);
    assert_eq!(default_lr("ps-da-sgd").unwrap(), 1.0);
    assert!(default_lr("nope").is_err());
}

#[test]
fn a_module_without_gradients_is_refused_and_returned() {
    let device = device();
    for name in NAMES {
        let mut opt = build(name).unwrap();
        let m = model(&device);
        let before = weights(&m);
        let rejected = opt
            .step_with_loss(1.0, m, GradientsParams::new(), 1.0)
            .expect_err("must refuse");
        assert!(
            matches!(rejected.error, OptimError::NoGradients),
            "{name}: {:?}",
            rejected.error
        );
        assert_eq!(weights(&rejected.module), before);
    }
    // A module with no parameters at all.
    let empty: Vec<Param<Tensor<1>>> = Vec::new();
    let mut opt = build("ps-da-sgd").unwrap();
    assert!(matches!(
        opt.step(1.0, empty, GradientsParams::new())
            .err()
            .unwrap()
            .error,
        OptimError::NoGradients
    ));
}

#[test]
fn a_zero_gradient_at_step_zero_moves_nothing_and_training_goes_on() {
    let device = device();
    let (x, y) = batch(&device);
    for name in NAMES {
        let mut opt = build(name).unwrap();
        let m = model(&device);
        let before = weights(&m);
        let grads = filled_grads(&m, 0.0);
        let m = opt
            .step_with_loss(default_lr(name).unwrap(), m, grads, 0.5)
            .expect("zero gradient step");
        assert_eq!(weights(&m), before, "{name} moved on a zero gradient");
        let m = train_step(opt.as_mut(), default_lr(name).unwrap(), m, &x, &y);
        let m = train_step(opt.as_mut(), default_lr(name).unwrap(), m, &x, &y);
        let after = weights(&m);
        assert!(
            after.iter().all(|v| v.is_finite()),
            "{name}: non-finite parameters after a zero first gradient"
        );
        assert_ne!(after, before, "{name} never moved after the zero gradient");
    }
}

#[test]
fn a_non_finite_gradient_is_refused_and_leaves_the_state_unchanged() {
    let device = device();
    let (x, y) = batch(&device);
    for name in NAMES {
        let lr = default_lr(name).unwrap();
        let mut clean = build(name).unwrap();
        let mut poisoned = build(name).unwrap();
        let mut a = model(&device);
        let mut b = a.clone();
        for step in 0..6 {
            if step == 3 {
                for bad in [f32::NAN, f32::INFINITY] {
                    let rejected = poisoned
                        .step_with_loss(lr, b, filled_grads(&a, bad), 0.5)
                        .expect_err("must refuse");
                    assert!(
                        matches!(rejected.error, OptimError::NonFiniteGradient { .. }),
                        "{name}: {:?}",
                        rejected.error
                    );
                    b = rejected.module;
                }
            }
            a = train_step(clean.as_mut(), lr, a, &x, &y);
            b = train_step(poisoned.as_mut(), lr, b, &x, &y);
        }
        assert_eq!(
            weights(&a),
            weights(&b),
            "{name}: the refused step changed the trajectory"
        );
        assert_eq!(clean.estimate(), poisoned.estimate(), "{name}");
    }
}

#[test]
fn polyak_steps_need_the_loss() {
    let device = device();
    for name in ["sps", "ps-sps"] {
        let mut opt = build(name).unwrap();
        assert!(opt.needs_loss());
        let m = model(&device);
        let grads = filled_grads(&m, 0.1);
        let err = opt.step(1.0, m, grads).expect_err("must refuse").error;
        assert!(matches!(err, OptimError::LossRequired { .. }), "{err:?}");
        assert!(err.to_string().contains("step_with_loss"));
        let m = model(&device);
        let grads = filled_grads(&m, 0.1);
        assert!(matches!(
            opt.step_with_loss(1.0, m, grads, f64::NAN)
                .err()
                .unwrap()
                .error,
            OptimError::NonFiniteLoss { .. }
        ));
    }
}

#[test]
fn a_different_model_is_refused() {
    let device = device();
    let (x, y) = batch(&device);
    let mut opt = build("ps-da-sgd").unwrap();
    let _ = train_step(opt.as_mut(), 1.0, model(&device), &x, &y);
    let other = LinearConfig::new(3, 2).init(&device);
    let grads = {
        let mut g = GradientsParams::new();
        g.register(other.weight.id, other.weight.val().inner().ones_like());
        g.register(
            other.bias.as_ref().unwrap().id,
            other.bias.as_ref().unwrap().val().inner().ones_like(),
        );
        g
    };
    let err = opt.step(1.0, other, grads).err().unwrap().error;
    assert!(matches!(err, OptimError::LayoutMismatch { .. }), "{err:?}");
}

#[test]
fn saved_state_resumes_bit_exactly_for_every_optimizer() {
    let device = device();
    let (x, y) = batch(&device);
    let dir = std::env::temp_dir().join(format!("lrfree-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in NAMES {
        let lr = default_lr(name).unwrap();
        let mut opt = build(name).unwrap();
        let mut m = model(&device);
        for _ in 0..5 {
            m = train_step(opt.as_mut(), lr, m, &x, &y);
        }
        let path = dir.join(format!("{name}.bpk"));
        opt.save_state().save(&path).unwrap();
        let bytes = opt.save_state().to_bytes().unwrap();

        let mut from_file = build(name).unwrap();
        from_file
            .load_state(OptimState::load(&path).unwrap(), &device)
            .unwrap();
        let mut from_bytes = build(name).unwrap();
        from_bytes
            .load_state(OptimState::from_bytes(bytes).unwrap(), &device)
            .unwrap();
        assert_eq!(from_file.estimate(), opt.estimate(), "{name}");

        let (mut m1, mut m2, mut m3) = (m.clone(), m.clone(), m);
        for _ in 0..5 {
            m1 = train_step(opt.as_mut(), lr, m1, &x, &y);
            m2 = train_step(from_file.as_mut(), lr, m2, &x, &y);
            m3 = train_step(from_bytes.as_mut(), lr, m3, &x, &y);
        }
        assert_eq!(
            weights(&m1),
            weights(&m2),
            "{name}: resumed-from-file trajectory differs"
        );
        assert_eq!(
            weights(&m1),
            weights(&m3),
            "{name}: resumed-from-bytes trajectory differs"
        );
        assert_eq!(opt.estimate(), from_file.estimate(), "{name}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn loading_another_optimizers_state_is_an_error() {
    let device = device();
    let (x, y) = batch(&device);
    let mut adam = build("adam").unwrap();
    let _ = train_step(adam.as_mut(), 3e-4, model(&device), &x, &y);
    let state = adam.save_state();
    for name in NAMES.iter().filter(|n| **n != "adam") {
        let mut other = build(name).unwrap();
        let err = other
            .load_state(state.clone(), &device)
            .expect_err("must refuse");
        assert!(
            matches!(err, OptimError::StateMismatch { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("adam") && err.to_string().contains(name));
    }
    let garbage = std::env::temp_dir().join(format!("lrfree-garbage-{}.bpk", std::process::id()));
    std::fs::write(&garbage, b"not a burnpack").unwrap();
    assert!(matches!(
        OptimState::load(&garbage),
        Err(OptimError::Io { .. })
    ));
    std::fs::remove_file(&garbage).ok();
    assert!(matches!(
        OptimState::load(std::path::Path::new("/nonexistent/state.bpk")),
        Err(OptimError::Io { .. })
    ));
}

#[test]
fn every_optimizer_trains_an_f32_model() {
    let device = device();
    let (x, y) = batch(&device);
    for name in NAMES {
        let lr = match name {
            "sgd" => 0.1,
            "adam" => 0.01,
            _ => 1.0,
        };
        let mut opt = build(name).unwrap();
        let mut m = LinearConfig::new(4, 2).init(&device);
        let start = loss(&m, &x, &y).into_scalar::<f64>();
        for _ in 0..300 {
            m = train_step(opt.as_mut(), lr, m, &x, &y);
        }
        let end = loss(&m, &x, &y).into_scalar::<f64>();
        let est = opt.estimate();
        eprintln!(
            "{name:<12} f32 loss {start:.4} -> {end:.4}; estimate lr {:?} d {:?}",
            est.lr, est.d
        );
        assert!(end < 0.5 * start, "{name} did not train: {start} -> {end}");
        assert_eq!(est.steps, 300);
        assert!(
            m.weight.val().is_require_grad(),
            "{name}: parameters lost require_grad"
        );
    }
}
