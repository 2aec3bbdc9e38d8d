//! Train one small regression network with each of the eleven optimizers, untuned, and print
//! the final loss and the learning rate each one estimated.
//!
//! ```text
//! cargo run --release -p burn-lrfree --example quickstart [-- STEPS]
//! ```

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Tanh};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use burn_lrfree::StepModule;
use burn_lrfree::registry::{NAMES, build, default_lr};

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
    act: Tanh,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(4, 32).init(device),
            out: LinearConfig::new(32, 3).init(device),
            act: Tanh::new(),
        }
    }

    fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        (self.out.forward(self.act.forward(self.hidden.forward(x))) - y)
            .square()
            .mean()
    }
}

fn main() -> Result<(), burn_lrfree::OptimError> {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let device = Device::default().autodiff();
    <burn::tensor::Device as Default>::default().seed(7);
    let x = Tensor::<2>::random([256, 4], Distribution::Normal(0.0, 1.0), &device);
    let a = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &device);
    let y = x.clone().matmul(a).sin();
    let init = Mlp::new(&device);
    let start = init.loss(x.clone(), y.clone()).into_scalar::<f64>();
    println!(
        "regression y = sin(xA), 4→32→3 tanh MLP, {steps} full-batch steps, initial loss {start:.4}, no tuning\n"
    );
    println!(
        "{:<12} {:>12} {:>14} {:>12}",
        "optimizer", "final loss", "estimated lr", "D"
    );
    for name in NAMES {
        let mut optimizer = build(name)?;
        let lr = default_lr(name)?;
        let mut model = init.clone();
        let mut stopped = None;
        for step in 0..steps {
            let loss = model.loss(x.clone(), y.clone());
            let value = loss.clone().into_scalar::<f64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            match optimizer.step_with_loss(lr, model, grads, value) {
                Ok(next) => model = next,
                Err(rejected) => {
                    // The optimizer diverged (a non-finite gradient); keep the last good model.
                    stopped = Some((step, rejected.error));
                    model = rejected.module;
                    break;
                }
            }
        }
        let end = model.loss(x.clone(), y.clone()).into_scalar::<f64>();
        let est = optimizer.estimate();
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3e}"));
        println!(
            "{name:<12} {end:>12.5} {:>14} {:>12}",
            show(est.lr),
            show(est.d)
        );
        if let Some((step, error)) = stopped {
            println!("{:<12} stopped at step {step}: {error}", "");
        }
    }
    println!("\n(adam and sgd use lr = 3e-4, the SAC default; the others their estimate × 1.0)");
    Ok(())
}
