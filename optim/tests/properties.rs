//! Properties P2–P6 of `shared/spec/ps-methods.md`, on small problems whose gradients are
//! computed on the host in f64. Each test prints what it observed (run with `--nocapture`).

use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_lrfree::dadapt_sgd::DAdaptSgdConfig;
use burn_lrfree::flat::{FlatStep, Layout};
use burn_lrfree::ps_da_sgd::{PsDaSgdConfig, Scaling, Transport};
use burn_lrfree::{LrEstimate, LrFreeConfig, LrFreeOptimizer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn tensor(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(v.to_vec(), [v.len()]),
        (&Device::default(), DType::F64),
    )
}

fn read(t: &Tensor<1>) -> Vec<f64> {
    t.to_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("f64 data")
}

/// What a run went through: loss before each step, parameters after it, λ and d per step.
struct Trace {
    losses: Vec<f64>,
    params: Vec<Vec<f64>>,
    lrs: Vec<f64>,
    ds: Vec<f64>,
}

/// Run `steps` steps of `opt` from `w0`; `f(w, k)` gives loss and gradient.
fn run(
    opt: &mut dyn LrFreeOptimizer,
    w0: &[f64],
    steps: usize,
    mut f: impl FnMut(&[f64], usize) -> (f64, Vec<f64>),
) -> Trace {
    let layout = Layout::flat(w0.len());
    let mut w = w0.to_vec();
    let mut trace = Trace {
        losses: vec![],
        params: vec![],
        lrs: vec![],
        ds: vec![],
    };
    for k in 0..steps {
        let (loss, g) = f(&w, k);
        let next = opt
            .step_flat(FlatStep {
                lr: 1.0,
                params: tensor(&w),
                grads: tensor(&g),
                layout: &layout,
                loss: Some(loss),
            })
            .expect("step");
        w = read(&next);
        let est = opt.estimate();
        trace.losses.push(loss);
        trace.params.push(w.clone());
        trace.lrs.push(est.lr.unwrap_or(f64::NAN));
        trace.ds.push(est.d.unwrap_or(f64::NAN));
    }
    trace
}

/// `0.5 Σ h_i (w_i - t_i)²` and its gradient.
fn quadratic(h: &[f64], t: &[f64], w: &[f64]) -> (f64, Vec<f64>) {
    let g: Vec<f64> = w
        .iter()
        .zip(t)
        .zip(h)
        .map(|((w, t), h)| h * (w - t))
        .collect();
    let loss = w
        .iter()
        .zip(t)
        .zip(h)
        .map(|((w, t), h)| 0.5 * h * (w - t) * (w - t))
        .sum();
    (loss, g)
}

fn max_rel(a: &Trace, b: &Trace) -> f64 {
    let mut worst = 0.0f64;
    for (pa, pb) in a.params.iter().zip(&b.params) {
        let scale = pb.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = pa
            .iter()
            .zip(pb)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        worst = worst.max(diff / scale);
    }
    for (x, y) in a.lrs.iter().zip(&b.lrs) {
        worst = worst.max(((x - y) / y).abs());
    }
    worst
}

/// A noisy quadratic (the target moves with the step, as mini-batches would).
fn noisy_problem(n: usize, seed: u64) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let h: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..10.0)).collect();
    let targets: Vec<Vec<f64>> = (0..300)
        .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let w0: Vec<f64> = (0..n).map(|_| rng.random_range(2.0..3.0)).collect();
    (h, targets, w0)
}

/// P2: scaling the loss by c and d0 by √c (eps = 0) leaves the trajectory unchanged.
#[test]
fn p2_loss_scale_invariance() {
    let (h, targets, w0) = noisy_problem(12, 7);
    let base = PsDaSgdConfig {
        eps: 0.0,
        ..PsDaSgdConfig::default()
    };
    for c in [10.0, 1e-3, 250.0] {
        let mut plain = base.clone().build().unwrap();
        let mut scaled = PsDaSgdConfig {
            d0: base.d0 * f64::sqrt(c),
            ..base.clone()
        }
        .build()
        .unwrap();
        let a = run(&mut plain, &w0, 200, |w, k| quadratic(&h, &targets[k], w));
        let b = run(&mut scaled, &w0, 200, |w, k| {
            let (l, g) = quadratic(&h, &targets[k], w);
            (c * l, g.iter().map(|x| c * x).collect())
        });
        let err = max_rel(&b, &a);
        eprintln!(
            "P2 c = {c:e}: max relative difference over 200 steps {err:.2e} (final λ {:.4e})",
            a.lrs[199]
        );
        assert!(
            err <= 1e-9,
            "loss scale {c} changed the trajectory by {err:e}"
        );
    }
}

/// P3: multiplying the scaling vector by c and d0 by c leaves the trajectory unchanged.
#[test]
fn p3_uniform_scaling_invariance() {
    let (h, targets, w0) = noisy_problem(12, 11);
    for c in [7.0, 0.01] {
        let mut plain = PsDaSgdConfig::default().build().unwrap();
        let mut scaled = PsDaSgdConfig {
            d0: 1e-6 * c,
            scale_gain: c,
            ..PsDaSgdConfig::default()
        }
        .build()
        .unwrap();
        let a = run(&mut plain, &w0, 200, |w, k| quadratic(&h, &targets[k], w));
        let b = run(&mut scaled, &w0, 200, |w, k| quadratic(&h, &targets[k], w));
        // λ is the Adam-equivalent rate of the scaled space, so it scales with c²; compare parameters.
        let err = b.params.iter().zip(&a.params).fold(0.0f64, |m, (x, y)| {
            let scale = y.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            m.max(
                x.iter()
                    .zip(y)
                    .fold(0.0f64, |s, (p, q)| s.max((p - q).abs()))
                    / scale,
            )
        });
        let lr_ratio = b.lrs[199] / a.lrs[199];
        eprintln!(
            "P3 c = {c}: max relative parameter difference {err:.2e}; λ ratio {lr_ratio:.6} (c² = {})",
            c * c
        );
        assert!(
            err <= 1e-9,
            "uniform scaling by {c} changed the trajectory by {err:e}"
        );
        assert!((lr_ratio / (c * c) - 1.0).abs() < 1e-9);
    }
}

/// Steps until `f_b(w) <= 1e-3 f_b(w0)`, or `None`.
fn steps_to(trace: &[f64], start: f64, ratio: f64) -> Option<usize> {
    trace.iter().position(|l| *l <= ratio * start)
}

/// P4: one block converges early (its loss term is dropped after K steps, so its gradient is
/// exactly 0): for every transport the other block keeps training.
#[test]
fn p4_early_converging_block() {
    let (na, nb, k_drop, budget) = (6, 6, 20, 4000);
    let mut rng = StdRng::seed_from_u64(3);
    let ha: Vec<f64> = (0..na).map(|_| rng.random_range(0.5..5.0)).collect();
    // Block B is poorly conditioned, so it is far from converged when block A drops out.
    let hb: Vec<f64> = (0..nb)
        .map(|i| 10f64.powf(-2.0 * i as f64 / (nb - 1) as f64))
        .collect();
    let ta: Vec<f64> = (0..na).map(|_| rng.random_range(-1.0..1.0)).collect();
    let tb: Vec<f64> = (0..nb).map(|_| rng.random_range(-1.0..1.0)).collect();
    let w0: Vec<f64> = (0..na + nb).map(|_| rng.random_range(2.0..3.0)).collect();
    let fb_start = quadratic(&hb, &tb, &w0[na..]).0;
    let mut reached = Vec::new();
    for transport in [Transport::Shrink, Transport::Exact, Transport::None] {
        let mut opt = PsDaSgdConfig {
            transport,
            ..PsDaSgdConfig::default()
        }
        .build()
        .unwrap();
        let mut fb_trace = Vec::new();
        let trace = run(&mut opt, &w0, budget, |w, k| {
            let (lb, gb) = quadratic(&hb, &tb, &w[na..]);
            fb_trace.push(lb);
            let (la, ga) = if k < k_drop {
                quadratic(&ha, &ta, &w[..na])
            } else {
                (0.0, vec![0.0; na])
            };
            (la + lb, ga.into_iter().chain(gb).collect())
        });
        let hit = steps_to(&fb_trace, fb_start, 1e-3);
        let at = |k: usize| trace.lrs[k];
        eprintln!(
            "P4 {transport:?}: λ at steps 0/{k_drop}/{}/1000/{}: {:.3e} {:.3e} {:.3e} {:.3e} {:.3e}; block B reaches 1e-3 of its start at step {hit:?}",
            k_drop + 50,
            budget - 1,
            at(0),
            at(k_drop),
            at(k_drop + 50),
            at(1000),
            at(budget - 1)
        );
        assert!(
            hit.is_some_and(|h| h > k_drop),
            "{transport:?}: block B converged before the drop or never: {hit:?}"
        );
        assert!(
            hit.is_some(),
            "{transport:?}: block B stopped training (final f_B / start = {:.3e})",
            fb_trace.last().unwrap() / fb_start
        );
        reached.push((transport, hit.unwrap()));
    }
    let shrink = reached[0].1;
    let exact = reached[1].1;
    eprintln!(
        "P4: exact transport needs {exact} steps vs {shrink} for shrink ({}).",
        if exact > shrink {
            "slower, as the paper says"
        } else {
            "not slower here"
        }
    );
}

/// With a parameter whose gradient is 0 from the start, its scale never changes, so the max
/// ratio stays ≥ 1 and `shrink` never shrinks: D never decreases.
#[test]
fn p4_note_dead_parameter_keeps_shrink_inactive() {
    let (h, targets, mut w0) = noisy_problem(8, 5);
    w0.push(1.0);
    let mut opt = PsDaSgdConfig::default().build().unwrap();
    let mut prev_next: Option<f64> = None;
    let mut lowered = 0;
    let layout = Layout::flat(w0.len());
    let mut w = w0.clone();
    for target in targets.iter().take(300) {
        let (loss, mut g) = quadratic(&h, target, &w[..8]);
        g.push(0.0);
        w = read(
            &opt.step_flat(FlatStep {
                lr: 1.0,
                params: tensor(&w),
                grads: tensor(&g),
                layout: &layout,
                loss: Some(loss),
            })
            .unwrap(),
        );
        let est = opt.estimate();
        if let Some(p) = prev_next {
            lowered += usize::from(est.d.unwrap() < p);
        }
        prev_next = est.d_next;
    }
    assert_eq!(
        lowered, 0,
        "shrink lowered D although one parameter's scale never changed"
    );
    assert_eq!(w[8], 1.0, "the dead parameter moved");
}

/// P5: on a diagonal quadratic with condition number 1e4, PS-DA-SGD (adam scaling) reaches a
/// 1e-3 relative loss gap in fewer steps than D-Adapt SGD, with no tuning.
#[test]
fn p5_ill_conditioning() {
    let n = 20;
    let h: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(4.0 * i as f64 / (n - 1) as f64))
        .collect();
    let mut rng = StdRng::seed_from_u64(17);
    let t: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let w0 = vec![0.0; n];
    let f0 = quadratic(&h, &t, &w0).0;
    let budget = 20_000;
    let mut ps = PsDaSgdConfig::default().build().unwrap();
    let mut da = DAdaptSgdConfig::default().build().unwrap();
    let ps_trace = run(&mut ps, &w0, budget, |w, _| quadratic(&h, &t, w));
    let da_trace = run(&mut da, &w0, budget, |w, _| quadratic(&h, &t, w));
    let ps_hit = steps_to(&ps_trace.losses, f0, 1e-3);
    let da_hit = steps_to(&da_trace.losses, f0, 1e-3);
    eprintln!(
        "P5 κ = 1e4: steps to a 1e-3 gap: ps-da-sgd {ps_hit:?}, dadapt-sgd {da_hit:?} (budget {budget}); final gaps {:.2e} / {:.2e}",
        ps_trace.losses[budget - 1] / f0,
        da_trace.losses[budget - 1] / f0
    );
    let ps_hit = ps_hit.expect("ps-da-sgd did not reach the gap");
    assert!(
        da_hit.is_none_or(|d| ps_hit < d),
        "ps-da-sgd ({ps_hit}) not faster than dadapt-sgd ({da_hit:?})"
    );
}

/// Logistic loss and gradient with labels in {0, 1}; the last weight is the bias.
fn logistic(x: &[Vec<f64>], y: &[f64], w: &[f64]) -> (f64, Vec<f64>) {
    let n = x.len() as f64;
    let d = w.len();
    let mut g = vec![0.0; d];
    let mut loss = 0.0;
    for (xi, yi) in x.iter().zip(y) {
        let z: f64 = xi.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[d - 1];
        loss += z.max(0.0) - z * yi + (-z.abs()).exp().ln_1p();
        let p = 1.0 / (1.0 + (-z).exp());
        for j in 0..d - 1 {
            g[j] += (p - yi) * xi[j] / n;
        }
        g[d - 1] += (p - yi) / n;
    }
    (loss / n, g)
}

/// The minimum of the logistic loss by Newton's method (the problem is small and strictly convex).
fn logistic_minimum(x: &[Vec<f64>], y: &[f64], d: usize) -> f64 {
    let mut w = vec![0.0; d];
    for _ in 0..50 {
        let (_, g) = logistic(x, y, &w);
        let mut hess = vec![vec![0.0; d]; d];
        for xi in x {
            let z: f64 = xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[d - 1];
            let p = 1.0 / (1.0 + (-z).exp());
            let feat: Vec<f64> = xi.iter().copied().chain([1.0]).collect();
            for a in 0..d {
                for b in 0..d {
                    hess[a][b] += p * (1.0 - p) * feat[a] * feat[b] / x.len() as f64;
                }
            }
        }
        // Solve hess · step = g by Gaussian elimination with partial pivoting.
        let mut m: Vec<Vec<f64>> = hess
            .iter()
            .zip(&g)
            .map(|(r, gi)| r.iter().copied().chain([*gi]).collect())
            .collect();
        for col in 0..d {
            let piv = (col..d)
                .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
                .unwrap();
            m.swap(col, piv);
            let (upper, lower) = m.split_at_mut(col + 1);
            let pivot_row = &upper[col];
            for row in lower.iter_mut() {
                let f = row[col] / pivot_row[col];
                row.iter_mut()
                    .zip(pivot_row)
                    .skip(col)
                    .for_each(|(x, p)| *x -= f * p);
            }
        }
        let mut step = vec![0.0; d];
        for r in (0..d).rev() {
            step[r] = (m[r][d] - (r + 1..d).map(|c| m[r][c] * step[c]).sum::<f64>()) / m[r][r];
        }
        w.iter_mut().zip(&step).for_each(|(wi, s)| *wi -= s);
    }
    logistic(x, y, &w).0
}

/// P6: with `amsgrad` scaling, PS-DA-SGD drives the loss gap of a convex Lipschitz problem
/// (logistic regression on non-separable data) to zero.
#[test]
fn p6_convex_convergence_with_amsgrad() {
    let (n, features) = (200, 5);
    let mut rng = StdRng::seed_from_u64(23);
    let w_true: Vec<f64> = (0..features).map(|_| rng.random_range(-2.0..2.0)).collect();
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..features).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    // Label noise makes the data non-separable, so the minimum is finite.
    let y: Vec<f64> = x
        .iter()
        .map(|xi| {
            let z: f64 = xi.iter().zip(&w_true).map(|(a, b)| a * b).sum::<f64>() + 0.3;
            f64::from(z + rng.random_range(-1.5..1.5) > 0.0)
        })
        .collect();
    let d = features + 1;
    let f_star = logistic_minimum(&x, &y, d);
    let w0 = vec![0.0; d];
    let gap0 = logistic(&x, &y, &w0).0 - f_star;
    let budget = 3000;
    let mut opt = PsDaSgdConfig {
        scaling: Scaling::Amsgrad,
        ..PsDaSgdConfig::default()
    }
    .build()
    .unwrap();
    let trace = run(&mut opt, &w0, budget, |w, _| logistic(&x, &y, w));
    let gap = |k: usize| (trace.losses[k] - f_star) / gap0;
    eprintln!(
        "P6 logistic regression (f* = {f_star:.6}): relative gap at steps 100/300/1000/3000: {:.2e} {:.2e} {:.2e} {:.2e}",
        gap(99),
        gap(299),
        gap(999),
        gap(budget - 1)
    );
    assert!(
        gap(budget - 1) <= 1e-4,
        "loss gap {:.2e} after {budget} steps",
        gap(budget - 1)
    );
    assert!(
        gap(budget - 1) >= -1e-12,
        "loss below the Newton minimum: f* is wrong"
    );
}
