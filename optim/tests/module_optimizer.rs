//! The Burn-style interface: `model = optim.step(lr, model, grads)`, refusals kept for
//! inspection, the estimate one call away, state files, and the registry built from the configs.

use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn_lrfree::prelude::*;
use burn_lrfree::registry::{self, NAMES};

mod common;
use common::{batch, device, filled_grads, loss, model, weights};

fn grads(model: &Linear, x: &Tensor<2>, y: &Tensor<2>) -> GradientsParams {
    GradientsParams::from_grads(loss(model, x, y).backward(), model)
}

#[test]
fn a_refused_step_returns_the_model_unchanged_and_is_kept_for_inspection() {
    let device = device();
    let (x, y) = batch(&device);
    let mut model = model(&device);
    let mut optim = PsDaSgdConfig::new().init();
    for _ in 0..3 {
        let g = grads(&model, &x, &y);
        model = optim.step(1.0, model, g);
    }
    assert!(optim.last_rejection().is_none());
    let (before, estimate) = (weights(&model), optim.estimate());

    let g = filled_grads(&model, f32::NAN);
    model = optim.step(1.0, model, g);
    assert_eq!(weights(&model), before, "a refused step moved the model");
    assert_eq!(
        optim.estimate(),
        estimate,
        "a refused step changed the state"
    );
    assert_eq!(optim.rejected_steps(), 1);
    assert!(
        matches!(
            optim.last_rejection(),
            Some(OptimError::NonFiniteGradient { .. })
        ),
        "{:?}",
        optim.last_rejection()
    );

    // Training goes on, and a taken step clears the last rejection (the count stays).
    let g = grads(&model, &x, &y);
    model = optim.step(1.0, model, g);
    assert_ne!(weights(&model), before);
    assert!(optim.last_rejection().is_none());
    assert_eq!(optim.rejected_steps(), 1);
    assert_eq!(optim.estimate().steps, estimate.steps + 1);
}

#[test]
fn an_invalid_option_refuses_every_step_and_try_init_reports_it() {
    let device = device();
    let (x, y) = batch(&device);
    let bad = PsDaSgdConfig::new().with_momentum(1.5);
    let err = bad.try_init().unwrap_err();
    assert!(err.to_string().contains("momentum"), "{err}");

    let mut optim = bad.init();
    let model = model(&device);
    let before = weights(&model);
    let g = grads(&model, &x, &y);
    let model = optim.step(1.0, model, g);
    assert_eq!(weights(&model), before);
    assert_eq!(optim.rejected_steps(), 1);
    assert_eq!(optim.last_rejection(), Some(&err));
    assert!(optim.lr().is_none() && optim.state().is_err());
}

#[test]
fn the_estimated_rate_is_one_call_away_and_matches_the_estimate() {
    let device = device();
    let (x, y) = batch(&device);
    let mut model = model(&device);
    let mut optim = ProdigyConfig::new().init();
    assert_eq!(optim.lr(), None);
    for _ in 0..5 {
        let g = grads(&model, &x, &y);
        model = optim.step(1.0, model, g);
    }
    let lr = optim.lr().expect("a rate after five steps");
    assert!(lr > 0.0 && lr.is_finite());
    assert_eq!(Some(lr), optim.estimate().lr);
}

#[test]
fn state_files_round_trip_and_resume_bit_exactly() {
    let device = device();
    let (x, y) = batch(&device);
    let dir = std::env::temp_dir().join(format!("lrfree-module-optim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("optim.bpk");

    let mut model = model(&device);
    let mut optim = DAdaptAdamConfig::new().init();
    for _ in 0..4 {
        let g = grads(&model, &x, &y);
        model = optim.step(1.0, model, g);
    }
    optim.save(&path).unwrap();
    let mut resumed = DAdaptAdamConfig::new().init();
    resumed.load(&path, &device).unwrap();
    assert_eq!(resumed.estimate(), optim.estimate());

    let g = grads(&model, &x, &y);
    let a = optim.step(1.0, model.clone(), g);
    let g = grads(&model, &x, &y);
    let b = resumed.step(1.0, model, g);
    assert_eq!(weights(&a), weights(&b));

    // Another optimizer's state is refused and changes nothing.
    let mut other = PsDaSgdConfig::new().init();
    assert!(other.load(&path, &device).is_err());
    assert_eq!(other.estimate().steps, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_registry_optimizer_steps_through_the_burn_style_interface() {
    let device = device();
    let (x, y) = batch(&device);
    for name in NAMES {
        let mut optim = OptimizerConfig::defaults(name).unwrap().init();
        let lr = registry::default_lr(name).unwrap();
        let mut model = model(&device);
        let before = weights(&model);
        for _ in 0..3 {
            let l = loss(&model, &x, &y);
            let value = l.clone().into_scalar::<f64>();
            let g = GradientsParams::from_grads(l.backward(), &model);
            model = optim.step_with_loss(lr, model, g, value);
        }
        assert_eq!(
            optim.rejected_steps(),
            0,
            "{name}: {:?}",
            optim.last_rejection()
        );
        assert_ne!(weights(&model), before, "{name} did not move");
        assert_eq!(optim.estimate().steps, 3, "{name}");
    }
}

/// The registry is generated from the configs: names, properties and options agree with what
/// each config declares, in Table 3's order.
#[test]
fn the_registry_reads_names_and_properties_from_the_configs() {
    assert_eq!(
        NAMES,
        [
            SgdConfig::NAME,
            SpsConfig::NAME,
            DogConfig::NAME,
            DAdaptSgdConfig::NAME,
            TorchAdamConfig::NAME,
            CocobConfig::NAME,
            LdogConfig::NAME,
            DAdaptAdamConfig::NAME,
            ProdigyConfig::NAME,
            PsSpsConfig::NAME,
            PsDaSgdConfig::NAME,
        ]
    );
    let adam_equivalent: Vec<&str> = NAMES
        .into_iter()
        .filter(|n| registry::adam_equivalent_lr(n).unwrap())
        .collect();
    assert_eq!(
        adam_equivalent,
        ["adam", "dadapt-adam", "prodigy", "ps-sps", "ps-da-sgd"]
    );
    let optimal_loss: Vec<&str> = NAMES
        .into_iter()
        .filter(|n| registry::needs_optimal_loss(n).unwrap())
        .collect();
    assert_eq!(optimal_loss, ["sps", "ps-sps"]);
    for name in NAMES {
        let config = OptimizerConfig::defaults(name).unwrap();
        assert_eq!(config.name(), name);
        assert_eq!(
            OptimizerConfig::from_json(name, config.options()).unwrap(),
            config
        );
    }
    // LDoG keeps DoG's options under its own name.
    let ldog = OptimizerConfig::from_toml("ldog", "reps_rel = 1e-4").unwrap();
    assert_eq!(
        ldog,
        OptimizerConfig::Ldog(LdogConfig(DogConfig::new().with_reps_rel(1e-4)))
    );
}
