//! Train a small regression net with burn-train's `Learner` and a learning-rate-free method:
//!
//! ```text
//! cargo run --release -p burn-lrfree --example learner            # PS-DA-SGD
//! cargo run --release -p burn-lrfree --example learner -- prodigy # any of the eleven names
//! ```
//!
//! What a burn-train project adds to use this crate, all marked `burn-lrfree:` below:
//! 1. build the optimizer with `OptimizerConfig::init_learner` (or `train::init(&config)`),
//!    which gives Burn's `ModuleOptimizer` and a `Tracker` of the estimate;
//! 2. route the model's `TrainStep::optimize`/`optimize_multi` through `train::optimize`
//!    (needed by the methods that sum over all parameters; harmless for the others);
//! 3. for `sps`/`ps-sps`, attach the loss to the gradients in `TrainStep::step`;
//! 4. optionally, show the estimated learning rate and D as metrics.
//!
//! Checkpoints (`with_default_checkpointers`, `checkpoint(epoch)`) keep the optimizer's state.

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::metric::LossMetric;
use burn::train::{
    InferenceStep, Learner, RegressionOutput, SupervisedTraining, TrainOutput, TrainStep,
};
use burn_lrfree::registry::{OptimizerConfig, default_lr};
use burn_lrfree::train;
use burn_lrfree::train::metrics::EstimateMetric;

#[derive(Module, Debug)]
struct Net {
    hidden: Linear,
    out: Linear,
}

impl Net {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.hidden.forward(x).tanh())
    }

    fn regression(&self, batch: Batch) -> RegressionOutput {
        let output = self.forward(batch.x);
        let loss = (output.clone() - batch.y.clone()).square().mean();
        RegressionOutput::new(loss, output, batch.y)
    }
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<2>,
}

struct ToBatch;

impl Batcher<[f32; 3], Batch> for ToBatch {
    fn batch(&self, items: Vec<[f32; 3]>, device: &Device) -> Batch {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|p| [p[0], p[1]]).collect();
        let y: Vec<f32> = items.iter().map(|p| p[2]).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, 2]), device),
            y: Tensor::from_data(TensorData::new(y, [n, 1]), device),
        }
    }
}

impl TrainStep for Net {
    type Input = Batch;
    type Output = RegressionOutput;

    fn step(&self, batch: Batch) -> TrainOutput<RegressionOutput> {
        let item = self.regression(batch);
        let grads = item.loss.backward();
        let loss = item.loss.clone();
        let mut out = TrainOutput::new(self, grads, item);
        // burn-lrfree (3): sps and ps-sps step with the loss; the other methods ignore it.
        train::attach_loss(&mut out.grads, &loss);
        out
    }

    // burn-lrfree (2): the whole-model methods step here, all parameters at once.
    fn optimize(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: GradientsParams,
    ) -> Self {
        train::optimize(self, optim, lr, grads)
    }

    fn optimize_multi(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: MultiGradientsParams,
    ) -> Self {
        train::optimize_multi(self, optim, lr, grads)
    }
}

impl InferenceStep for Net {
    type Input = Batch;
    type Output = RegressionOutput;

    fn step(&self, batch: Batch) -> RegressionOutput {
        self.regression(batch)
    }
}

/// y = sin(2x₁)·cos(x₂) on a grid of [-1, 1]².
fn points() -> Vec<[f32; 3]> {
    let grid = (0..32).map(|i| i as f32 / 15.5 - 1.0);
    grid.clone()
        .flat_map(|a| grid.clone().map(move |b| [a, b, (2.0 * a).sin() * b.cos()]))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ps-da-sgd".into());
    let device = Device::default().autodiff();
    let net = Net {
        hidden: LinearConfig::new(2, 32).init(&device),
        out: LinearConfig::new(32, 1).init(&device),
    };

    // burn-lrfree (1): Burn's ModuleOptimizer and the tracker of the estimate.
    let config = OptimizerConfig::defaults(&name)?;
    let (optim, tracker) = config.init_learner()?;
    // A multiplier of the estimated step (1.0), or the step size for sgd and adam.
    let lr = default_lr(&name)?;

    let data = points();
    let train_loader = DataLoaderBuilder::new(ToBatch)
        .batch_size(32)
        .shuffle(0)
        .build(InMemDataset::new(data.clone()));
    let valid_loader = DataLoaderBuilder::new(ToBatch)
        .batch_size(256)
        .build(InMemDataset::new(data));
    let dir = std::env::temp_dir().join(format!("burn-lrfree-learner-{name}"));

    let result = SupervisedTraining::new(&dir, train_loader, valid_loader)
        .num_epochs(10)
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        // burn-lrfree (4): the estimated learning rate and D next to the loss.
        .metric_train_numeric(EstimateMetric::lr(tracker.clone()))
        .metric_train_numeric(EstimateMetric::d(tracker.clone()))
        .with_default_checkpointers()
        .summary()
        .launch(Learner::new(net, optim, lr));
    if let Some(error) = result.error {
        return Err(format!("training stopped: {error}").into());
    }

    let estimate = tracker.estimate();
    println!(
        "{name}: {} steps, estimated lr {:?}, D {:?}, refused steps {}; burn-train's logs and checkpoints in {}",
        estimate.steps,
        estimate.lr,
        estimate.d,
        tracker.rejected_steps(),
        dir.display()
    );
    Ok(())
}
