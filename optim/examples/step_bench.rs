//! Time one optimizer step on the SAC critic (14→256→256→1, batch 256, f32, CPU) for all
//! eleven optimizers, interleaved with Burn's own Adam in the same run.
//!
//! ```text
//! cargo run --release --example step_bench [-- ROUNDS STEPS_PER_ROUND]
//! ```
//! Prints the median step time of each optimizer and
//! `step_ratio <name> <median step / median Burn-Adam step>`. Only the optimizer step is timed;
//! forward and backward (on a fresh mini-batch each step, as in SAC) are not. One thread (`RAYON_NUM_THREADS=1` unless set), as in training.
//!
//! `LRFREE_FUSED=0` turns off the optimizers' fused CPU kernels (`burn_lrfree::internals::set_fused_cpu`);
//! `LRFREE_FUSED=ab` runs each optimizer twice, interleaved in the same rounds: as usual and
//! as `<name>/tensor` with the fused kernels off (the A/B that the machine's drift spoils
//! least).

use std::time::Instant;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use burn_lrfree::registry::{NAMES, OptimizerConfig, build, default_lr};
use burn_lrfree::{LrFreeOptimizer, StepModule};

#[derive(Module, Debug)]
struct Critic {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    relu: Relu,
}

impl Critic {
    fn new(device: &Device) -> Self {
        Self {
            l1: LinearConfig::new(14, 256).init(device),
            l2: LinearConfig::new(256, 256).init(device),
            l3: LinearConfig::new(256, 1).init(device),
            relu: Relu::new(),
        }
    }

    fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let h = self.relu.forward(self.l1.forward(x));
        let h = self.relu.forward(self.l2.forward(h));
        (self.l3.forward(h) - y).square().mean()
    }
}

enum Stepper {
    /// One of ours, its learning rate, and whether it runs with the fused CPU kernels.
    Ours(Box<dyn LrFreeOptimizer>, f64, bool),
    BurnAdam(burn::optim::ModuleOptimizer),
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: single-threaded at this point; rayon reads it when its pool starts.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(15);
    let per_round = args.get(1).copied().unwrap_or(20);
    let fused_env = std::env::var("LRFREE_FUSED").unwrap_or_default();
    let (fused, ab) = (fused_env != "0", fused_env == "ab");
    let device = Device::default().autodiff();
    // A pool of mini-batches, as SAC samples a fresh one every step (not timed).
    let batches: Vec<(Tensor<2>, Tensor<2>)> = (0..64)
        .map(|_| {
            let x = Tensor::<2>::random([256, 14], Distribution::Normal(0.0, 1.0), &device);
            let y = x.clone().slice([0..256, 0..1]).sin()
                + Tensor::<2>::random([256, 1], Distribution::Normal(0.0, 0.1), &device);
            (x, y)
        })
        .collect();

    let mut runs: Vec<(String, Critic, Stepper, Vec<f64>)> = vec![(
        "burn-adam".into(),
        Critic::new(&device),
        Stepper::BurnAdam(AdamConfig::new().init()),
        Vec::new(),
    )];
    for name in NAMES {
        let lr = default_lr(name).unwrap();
        runs.push((
            name.into(),
            Critic::new(&device),
            Stepper::Ours(build(name).expect("registry name"), lr, fused),
            Vec::new(),
        ));
        if ab {
            let opt = build(name).expect("registry name");
            runs.push((
                format!("{name}/tensor"),
                Critic::new(&device),
                Stepper::Ours(opt, lr, false),
                Vec::new(),
            ));
        }
    }
    // The shrink transport's `max` reduction is the costliest operation on flex; show its share.
    let no_transport = OptimizerConfig::from_toml("ps-da-sgd", "transport = \"none\"")
        .expect("config")
        .build()
        .expect("build");
    runs.push((
        "ps-da-sgd/none".into(),
        Critic::new(&device),
        Stepper::Ours(no_transport, 1.0, fused),
        Vec::new(),
    ));
    eprintln!(
        "step_bench: {rounds} rounds × {per_round} steps per optimizer, interleaved; critic 14→256→256→1, batch 256 (a new mini-batch each step), f32; fused CPU kernels {}",
        if ab {
            "on and off (/tensor)"
        } else if fused {
            "on"
        } else {
            "off"
        }
    );
    for round in 0..=rounds {
        for (_, model, stepper, times) in runs.iter_mut() {
            for i in 0..per_round {
                let (x, y) = &batches[(round * per_round + i) % batches.len()];
                let loss = model.loss(x.clone(), y.clone());
                let value = loss.clone().into_scalar::<f64>();
                let grads = GradientsParams::from_grads(loss.backward(), &*model);
                let current = model.clone();
                let start = Instant::now();
                let next = match stepper {
                    Stepper::Ours(opt, lr, fused) => {
                        burn_lrfree::internals::set_fused_cpu(*fused);
                        opt.step_with_loss(*lr, current, grads, value)
                            .expect("step")
                    }
                    Stepper::BurnAdam(opt) => opt.step(3e-4, current, grads),
                };
                // Reading one value waits for the update on a lazy backend.
                let _ = next
                    .l3
                    .bias
                    .as_ref()
                    .map(|b| b.val().sum().into_scalar::<f32>());
                let elapsed = start.elapsed().as_secs_f64();
                if round > 0 {
                    times.push(elapsed); // round 0 warms up
                }
                *model = next;
            }
        }
    }
    let adam = median(&mut runs[0].3.clone());
    println!("{:<18} {:>12} {:>8}", "optimizer", "median_ms", "ratio");
    for (name, _, _, times) in runs.iter_mut() {
        let m = median(times);
        println!("{name:<18} {:>12.4} {:>8.3}", m * 1e3, m / adam);
    }
    for (name, _, _, times) in runs.iter_mut().skip(1) {
        println!("step_ratio {name} {:.3}", median(times) / adam);
    }
}
