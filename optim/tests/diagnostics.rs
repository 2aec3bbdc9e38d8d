//! The D-Adaptation diagnostics (`Estimate::diagnostics`) say what the step really computed,
//! measuring them changes nothing, and the remedies of issue 25 (`d_coef`, `g_estimate =
//! running_max`, the `inverse_sqrt` schedule) do what their documentation says. Small f64
//! problems with host gradients, so every expected value is computed here independently.

use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_lrfree::flat::{FlatStep, Layout};
use burn_lrfree::ps_da_sgd::{GEstimate, PsDaSgdConfig, Schedule};
use burn_lrfree::registry::OptimizerConfig;
use burn_lrfree::{Diagnostics, Estimate, LrEstimate, LrFreeConfig, LrFreeOptimizer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn tensor(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(v.to_vec(), [v.len()]),
        (&Device::default(), DType::F64),
    )
}

fn read(t: &Tensor<1>) -> Vec<f64> {
    t.to_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// A noisy diagonal quadratic `scale(k)·Σ h_i (w_i − t_i)²/2`: gradients per step.
struct Problem {
    h: Vec<f64>,
    target: Vec<f64>,
    rng: StdRng,
}

impl Problem {
    fn new(n: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let h = (0..n)
            .map(|i| 10f64.powf(i as f64 / n as f64 * 2.0))
            .collect();
        let target = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        Self { h, target, rng }
    }

    fn grad(&mut self, w: &[f64], scale: f64) -> (f64, Vec<f64>) {
        let mut loss = 0.0;
        let g = w
            .iter()
            .zip(&self.h)
            .zip(&self.target)
            .map(|((w, h), t)| {
                loss += scale * h * (w - t) * (w - t) / 2.0;
                scale * (h * (w - t) + 0.05 * self.rng.random_range(-1.0..1.0))
            })
            .collect();
        (loss, g)
    }
}

/// `steps` steps of `opt` on the problem with loss scale `scale(k)`: per step the gradient
/// given, the estimate after the step, and the parameters after it.
fn run(
    opt: &mut dyn LrFreeOptimizer,
    steps: usize,
    scale: impl Fn(usize) -> f64,
) -> Vec<(Vec<f64>, Estimate, Vec<f64>)> {
    let n = 12;
    let mut problem = Problem::new(n, 7);
    let layout = Layout::flat(n);
    let mut w = vec![0.0; n];
    let mut out = Vec::new();
    for k in 0..steps {
        let (loss, g) = problem.grad(&w, scale(k));
        let next = opt
            .step_flat(FlatStep {
                lr: 1.0,
                params: tensor(&w),
                grads: tensor(&g),
                layout: &layout,
                loss: Some(loss),
            })
            .unwrap();
        w = read(&next);
        out.push((g, opt.estimate(), w.clone()));
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

fn diag(e: &Estimate) -> Diagnostics {
    e.diagnostics.expect("a D-Adaptation step has diagnostics")
}

/// Adam's scaling `a = sqrt(sqrt(v̂) + eps)` of every step, computed on the host.
fn adam_scalings(grads: &[&Vec<f64>], beta2: f64, eps: f64) -> Vec<Vec<f64>> {
    let mut v = vec![0.0; grads[0].len()];
    grads
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let bias = 1.0 - beta2.powi(k as i32 + 1);
            v.iter_mut()
                .zip(g.iter())
                .map(|(v, g)| {
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    ((*v / bias).sqrt() + eps).sqrt()
                })
                .collect()
        })
        .collect()
}

#[test]
fn ps_da_sgd_diagnostics_are_the_quantities_its_step_used() {
    let mut opt = PsDaSgdConfig::new().build().unwrap();
    opt.set_diagnostics(true);
    let steps = run(&mut opt, 40, |_| 1.0);
    let grads: Vec<&Vec<f64>> = steps.iter().map(|s| &s.0).collect();
    let scalings = adam_scalings(&grads, 0.999, 1e-8);
    let mut d_hat_raised_d = 0;
    for (k, ((g, est, _), a)) in steps.iter().zip(&scalings).enumerate() {
        let d = diag(est);
        let (lr, d_used, d_next) = (est.lr.unwrap(), est.d.unwrap(), est.d_next.unwrap());
        // λ = d/G (lr 1, constant η), and G is the first scaled gradient's norm (shrink may
        // raise it; this problem's scales grow, so it stays).
        assert!(close(lr, d_used / d.g0_norm.unwrap()), "step {k}");
        let scaled: f64 = g
            .iter()
            .zip(a)
            .map(|(g, a)| (g / a).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            (d.grad_norm.unwrap() - scaled).abs() <= 1e-9 * scaled,
            "step {k}: ‖g'‖ {} against {scaled} computed here",
            d.grad_norm.unwrap()
        );
        let d_hat = 2.0 * d.numerator.unwrap() / d.s_norm.unwrap();
        assert!(close(d.d_hat.unwrap(), d_hat), "step {k}");
        // D is the ratchet max(D, d̂) (growth_rate = ∞).
        assert!(close(d_next, d_used.max(d_hat)), "step {k}");
        d_hat_raised_d += usize::from(d_hat > d_used);
    }
    assert!(
        d_hat_raised_d > 0,
        "d̂ never raised D: the test checks nothing"
    );
}

#[test]
fn measuring_the_gradient_norm_changes_no_bit_and_costs_nothing_when_off() {
    let mut on = PsDaSgdConfig::new().build().unwrap();
    on.set_diagnostics(true);
    let mut off = PsDaSgdConfig::new().build().unwrap();
    let (a, b) = (run(&mut on, 30, |_| 1.0), run(&mut off, 30, |_| 1.0));
    for (k, (a, b)) in a.iter().zip(&b).enumerate() {
        assert_eq!(
            a.2, b.2,
            "step {k}: parameters differ with the diagnostics on"
        );
        assert_eq!(a.1.lr, b.1.lr, "step {k}");
        // Off, the extra reduction is not run after the first step (where G needs it anyway).
        assert_eq!(diag(&b.1).grad_norm.is_some(), k == 0, "step {k}");
        assert!(diag(&a.1).grad_norm.is_some(), "step {k}");
    }
}

#[test]
fn the_other_d_adaptation_methods_report_their_numerator_s_and_d_hat() {
    for name in ["dadapt-sgd", "dadapt-adam", "prodigy"] {
        let mut opt = OptimizerConfig::from_toml(name, "")
            .unwrap()
            .build()
            .unwrap();
        let steps = run(&mut opt, 30, |_| 1.0);
        let mut raised = 0;
        for (k, (g, est, _)) in steps.iter().enumerate() {
            let d = diag(est);
            let norm = g.iter().map(|g| g * g).sum::<f64>().sqrt();
            assert!(close(d.grad_norm.unwrap(), norm), "{name} step {k}");
            let (d_used, d_next) = (est.d.unwrap(), est.d_next.unwrap());
            let d_hat = d.d_hat.unwrap();
            if name != "prodigy" {
                // max(D, d̂) with growth_rate = ∞; Prodigy's D follows its own d_max rule.
                assert!(close(d_next, d_used.max(d_hat)), "{name} step {k}");
            }
            raised += usize::from(d_hat > d_used);
        }
        assert!(raised > 0, "{name}: d̂ never raised D");
    }
}

#[test]
fn diagnostics_survive_a_save_and_load() {
    let mut opt = PsDaSgdConfig::new().build().unwrap();
    opt.set_diagnostics(true);
    run(&mut opt, 5, |_| 1.0);
    let mut loaded = PsDaSgdConfig::new().build().unwrap();
    let bytes = opt.save_state().to_bytes().unwrap();
    loaded
        .load_state(
            burn_lrfree::OptimState::from_bytes(bytes).unwrap(),
            &Device::default(),
        )
        .unwrap();
    assert!(opt.estimate().diagnostics.unwrap().grad_norm.is_some());
    assert_eq!(loaded.estimate(), opt.estimate());
}

#[test]
fn running_max_g_holds_the_step_while_the_loss_scale_grows() {
    // The loss scale grows 100-fold over the first 200 steps, as SAC's actor loss grows with the
    // critic's values. The scaled gradient g' = g/a grows about 10-fold (a ~ |g|^½), and with
    // it the lower bound d̂ and D. G frozen at the first gradient lets λ = D/G grow with the
    // scale; the running max of ‖g'‖ grows with D and holds λ where a constant scale puts it.
    let growing = |k: usize| 1.0 + 99.0 * (k as f64 / 200.0).min(1.0);
    let build = |g: GEstimate| {
        let mut opt = PsDaSgdConfig::new().with_g_estimate(g).build().unwrap();
        opt.set_diagnostics(true);
        opt
    };
    let last_lr = |t: &[(Vec<f64>, Estimate, Vec<f64>)]| t.last().unwrap().1.lr.unwrap();
    let mut ratios = Vec::new();
    for g in [GEstimate::First, GEstimate::RunningMax] {
        let grown = run(&mut build(g), 400, growing);
        let constant = run(&mut build(g), 400, |_| 1.0);
        ratios.push(last_lr(&grown) / last_lr(&constant));
        if g == GEstimate::RunningMax {
            let mut max_norm: f64 = 0.0;
            for (k, (_, est, _)) in grown.iter().enumerate() {
                let d = diag(est);
                max_norm = max_norm.max(d.grad_norm.unwrap());
                // G is the largest ‖g'‖ so far (the shrink transport could only raise it more).
                assert!(d.g0_norm.unwrap() >= max_norm * (1.0 - 1e-12), "step {k}");
                assert!(close(est.lr.unwrap(), est.d.unwrap() / d.g0_norm.unwrap()));
            }
        }
    }
    println!(
        "final λ, 100-fold loss scale against constant: {:.2}x with G first, {:.2}x with running_max",
        ratios[0], ratios[1]
    );
    assert!(
        ratios[0] > 3.0,
        "G first: λ did not grow with the scale ({})",
        ratios[0]
    );
    assert!(
        (0.5..2.0).contains(&ratios[1]),
        "running_max did not hold λ: {}x",
        ratios[1]
    );
}

#[test]
fn d_coef_and_the_inverse_sqrt_schedule_enter_as_documented() {
    let n = 50;
    let mut opt = PsDaSgdConfig::new()
        .with_d_coef(0.5)
        .with_schedule(Schedule::InverseSqrt { steps: n })
        .build()
        .unwrap();
    for (k, (_, est, _)) in run(&mut opt, 80, |_| 1.0).iter().enumerate() {
        let d = diag(est);
        let eta = (n as f64 / (n as f64 + k as f64)).sqrt();
        assert!(
            close(est.lr.unwrap(), est.d.unwrap() * eta / d.g0_norm.unwrap()),
            "step {k}"
        );
        let d_hat = 0.5 * 2.0 * d.numerator.unwrap() / d.s_norm.unwrap();
        assert!(close(d.d_hat.unwrap(), d_hat), "step {k}");
    }
}

#[test]
fn the_remedies_are_read_by_name_and_bad_values_refused() {
    let toml =
        "d_coef = 0.5\ng_estimate = \"running_max\"\nschedule = { inverse_sqrt = { steps = 10 } }";
    let OptimizerConfig::PsDaSgd(c) = OptimizerConfig::from_toml("ps-da-sgd", toml).unwrap() else {
        panic!("not ps-da-sgd");
    };
    assert_eq!(
        (c.d_coef, c.g_estimate, c.schedule),
        (
            0.5,
            GEstimate::RunningMax,
            Schedule::InverseSqrt { steps: 10 }
        )
    );
    for bad in [
        "d_coef = 0.0",
        "d_coef = -1.0",
        "schedule = { inverse_sqrt = { steps = 0 } }",
        "g_estimate = \"mean\"",
    ] {
        let err = OptimizerConfig::from_toml("ps-da-sgd", bad).and_then(|c| c.build().map(|_| ()));
        assert!(err.is_err(), "{bad} was accepted");
    }
}
