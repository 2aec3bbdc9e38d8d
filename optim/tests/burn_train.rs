//! A burn-train user's view: every method in `Learner` (through [`burn_lrfree::train`]), steps
//! equal to the crate's own, checkpoints that resume the optimizer's whole state, and the
//! estimated learning rate as a burn-train metric.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::logger::InMemoryMetricLogger;
use burn::train::metric::LossMetric;
use burn::train::{
    InferenceStep, Learner, RegressionOutput, SupervisedTraining, TrainOutput, TrainStep,
};
use burn_lrfree::registry::{NAMES, OptimizerConfig, default_lr};
use burn_lrfree::train::metrics::EstimateMetric;
use burn_lrfree::train::{self, Tracker};

/// A two-layer regression net whose initial weights depend only on `seed` and `dtype`.
#[derive(Module, Debug)]
struct Net {
    hidden: Linear,
    out: Linear,
}

fn linear(inputs: usize, outputs: usize, seed: f64, dtype: DType, device: &Device) -> Linear {
    let values = |n: usize, k: f64| -> Vec<f64> {
        (0..n)
            .map(|i| 0.6 * ((i as f64) * 1.37 + seed * k).sin() / (inputs as f64).sqrt())
            .collect()
    };
    let weight = TensorData::new(values(inputs * outputs, 1.0), [inputs, outputs]);
    let bias = TensorData::new(values(outputs, 2.0), [outputs]);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(weight, (device, dtype))),
        bias: Some(Param::from_tensor(Tensor::from_data(bias, (device, dtype)))),
    }
}

impl Net {
    fn new(seed: f64, dtype: DType, device: &Device) -> Self {
        Net {
            hidden: linear(3, 16, seed, dtype, device),
            out: linear(16, 1, seed + 1.0, dtype, device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.hidden.forward(x).tanh())
    }

    fn loss(&self, batch: &Batch) -> Tensor<1> {
        (self.forward(batch.x.clone()) - batch.y.clone())
            .square()
            .mean()
    }

    fn params(&self) -> Vec<f64> {
        let mut all = Vec::new();
        for l in [&self.hidden, &self.out] {
            for t in [
                l.weight.val().flatten::<1>(0, 1),
                l.bias.as_ref().unwrap().val(),
            ] {
                all.extend(t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap());
            }
        }
        all
    }
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<2>,
}

/// y = sin(x·a) for fixed a: `n` points in three dimensions.
fn points(n: usize) -> Vec<[f64; 4]> {
    (0..n)
        .map(|i| {
            let x = [
                ((i * 37 % 101) as f64 / 50.0) - 1.0,
                ((i * 53 % 97) as f64 / 48.0) - 1.0,
                ((i * 29 % 89) as f64 / 44.0) - 1.0,
            ];
            [
                x[0],
                x[1],
                x[2],
                (0.9 * x[0] - 1.3 * x[1] + 0.5 * x[2]).sin(),
            ]
        })
        .collect()
}

#[derive(Clone)]
struct ToBatch(DType);

impl Batcher<[f64; 4], Batch> for ToBatch {
    fn batch(&self, items: Vec<[f64; 4]>, device: &Device) -> Batch {
        let n = items.len();
        let x: Vec<f64> = items.iter().flat_map(|p| p[..3].to_vec()).collect();
        let y: Vec<f64> = items.iter().map(|p| p[3]).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, 3]), (device, self.0)),
            y: Tensor::from_data(TensorData::new(y, [n, 1]), (device, self.0)),
        }
    }
}

impl TrainStep for Net {
    type Input = Batch;
    type Output = RegressionOutput;

    fn step(&self, batch: Batch) -> TrainOutput<RegressionOutput> {
        let loss = self.loss(&batch);
        let output = self.forward(batch.x.clone());
        let mut out = TrainOutput::new(
            self,
            loss.backward(),
            RegressionOutput::new(loss.clone(), output, batch.y),
        );
        train::attach_loss(&mut out.grads, &loss); // for sps and ps-sps
        out
    }

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
        let loss = self.loss(&batch);
        let output = self.forward(batch.x.clone());
        RegressionOutput::new(loss, output, batch.y)
    }
}

fn device() -> Device {
    Device::default().autodiff()
}

/// The learning rate each method gets: its default (a multiplier of the estimate, 1.0), and
/// a step size that moves a small net in a few dozen steps for SGD and Adam.
fn lr(name: &str) -> f64 {
    match name {
        "sgd" => 0.05,
        "adam" => 0.01,
        _ => default_lr(name).unwrap(),
    }
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-12))
        .fold(0.0, f64::max)
}

/// What the Learner does each step (`Learner::optimizer_step` calls `TrainStep::optimize`)
/// gives the same parameters and estimate as the crate's own `ModuleOptimizer::step`, in
/// float64, to the golden tests' tolerance (1e-9 relative).
#[test]
fn every_method_steps_through_burn_train_as_the_crate_does() {
    let device = device();
    let data = points(48);
    let batches: Vec<Batch> = data
        .chunks(16)
        .map(|c| ToBatch(DType::F64).batch(c.to_vec(), &device))
        .collect();
    for name in NAMES {
        let config = OptimizerConfig::defaults(name).unwrap();
        let mut own = config.init();
        let (mut burns, tracker) = config.init_learner().unwrap();
        let lr = lr(name);
        let (mut a, mut b) = (
            Net::new(0.3, DType::F64, &device),
            Net::new(0.3, DType::F64, &device),
        );
        let start = a.params();
        let mut worst: f64 = 0.0;
        for step in 0..24 {
            let batch = &batches[step % batches.len()];
            let loss = a.loss(batch);
            let value = loss.clone().into_scalar::<f64>();
            let grads = GradientsParams::from_grads(loss.backward(), &a);
            a = own.step_with_loss(lr, a, grads, value);

            let out = TrainStep::step(&b, batch.clone());
            b = TrainStep::optimize(b, &mut burns, lr.into(), out.grads);
            worst = worst.max(max_rel_diff(&a.params(), &b.params()));
        }
        eprintln!("{name:<12} largest relative difference over 24 steps: {worst:.2e}");
        assert!(worst <= 1e-9, "{name}: {worst:e}");
        assert!(
            max_rel_diff(&start, &b.params()) > 1e-3,
            "{name}: the parameters did not move"
        );
        assert_eq!(
            own.rejected_steps(),
            0,
            "{name}: {:?}",
            own.last_rejection()
        );
        assert_eq!(
            tracker.rejected_steps(),
            0,
            "{name}: {:?}",
            tracker.last_rejection()
        );
        let (mine, theirs) = (own.estimate(), tracker.estimate());
        assert_eq!(theirs.steps, 24, "{name}");
        match (mine.lr, theirs.lr) {
            (Some(x), Some(y)) => assert!(max_rel_diff(&[x], &[y]) <= 1e-9, "{name}: {x} vs {y}"),
            (x, y) => assert_eq!(x, y, "{name}"),
        }
        assert_eq!(mine.d, theirs.d, "{name}");
    }
}

fn loaders(data: &[[f64; 4]]) -> (Arc<dyn DataLoader<Batch>>, Arc<dyn DataLoader<Batch>>) {
    let build = |items: Vec<[f64; 4]>| {
        DataLoaderBuilder::new(ToBatch(DType::F32))
            .batch_size(8)
            .build(InMemDataset::new(items))
    };
    (build(data.to_vec()), build(data[..16].to_vec()))
}

fn dataset_loss(net: &Net, data: &[[f64; 4]], device: &Device) -> f64 {
    let batch = ToBatch(DType::F32).batch(data.to_vec(), device);
    net.loss(&batch).into_scalar::<f64>()
}

/// Runs `epochs` epochs of `name` with burn-train (resuming from `resume` if given) in `dir`;
/// returns the trained net and the optimizer's tracker.
fn fit(name: &str, dir: &std::path::Path, epochs: usize, resume: Option<usize>) -> (Net, Tracker) {
    fit_logged(name, dir, epochs, resume, false)
}

/// [`fit`], with burn-train's metric logs written to files under `dir` when `to_files`.
fn fit_logged(
    name: &str,
    dir: &std::path::Path,
    epochs: usize,
    resume: Option<usize>,
    to_files: bool,
) -> (Net, Tracker) {
    let device = device();
    let data = points(64);
    let (optim, tracker) = OptimizerConfig::defaults(name)
        .unwrap()
        .init_learner()
        .unwrap();
    let (train_loader, valid_loader) = loaders(&data);
    let mut training = SupervisedTraining::new(dir, train_loader, valid_loader)
        .num_epochs(epochs)
        .with_default_checkpointers()
        .with_checkpointing_strategy(KeepLastNCheckpoints::new(4))
        .metric_train_numeric(LossMetric::new())
        .metric_train_numeric(EstimateMetric::lr(tracker.clone()))
        .metric_train_numeric(EstimateMetric::d(tracker.clone()))
        .with_application_logger(None);
    if let Some(epoch) = resume {
        training = training.checkpoint(epoch);
    }
    if !to_files {
        training = training.with_metric_logger(InMemoryMetricLogger::new());
    }
    let learner = Learner::new(Net::new(0.7, DType::F32, &device), optim, lr(name));
    let result = training.launch(learner);
    assert!(result.error.is_none(), "{name}: {:?}", result.error);
    (result.model, tracker)
}

/// Each of the eleven trains in burn-train's `Learner`: the loss falls, every step is taken,
/// and the estimated
/// learning rate (the metric's source) is a finite positive number (COCOB has none).
#[test]
fn a_learner_trains_with_each_method() {
    const EPOCHS: usize = 12;
    let device = device();
    let data = points(64);
    let before = dataset_loss(&Net::new(0.7, DType::F32, &device), &data, &device);
    for name in NAMES {
        let dir = tempdir(name);
        let (net, tracker) = fit(name, &dir, EPOCHS, None);
        let after = dataset_loss(&net, &data, &device);
        let estimate = tracker.estimate();
        eprintln!(
            "{name:<12} loss {before:.4} -> {after:.4}, lr {:?}, D {:?}",
            estimate.lr, estimate.d
        );
        // DoG and LDoG start from a tiny step (r_eps) and grow it: they fall the least in 32 steps.
        assert!(after < before, "{name}: loss {before} -> {after}");
        assert_eq!(estimate.steps, EPOCHS as u64 * 8, "{name}");
        assert_eq!(
            tracker.rejected_steps(),
            0,
            "{name}: {:?}",
            tracker.last_rejection()
        );
        match name {
            "cocob" => assert_eq!(estimate.lr, None),
            _ => assert!(
                estimate.lr.is_some_and(|lr| lr.is_finite() && lr > 0.0),
                "{name}: {:?}",
                estimate.lr
            ),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A run stopped after epoch 1 and resumed from burn-train's checkpoint ends where an
/// uninterrupted run ends, and its optimizer counts every step: the state (D, G, sums, step
/// count, moments) came back from the checkpoint instead of starting over.
#[test]
fn a_run_resumed_from_a_burn_train_checkpoint_matches_an_uninterrupted_one() {
    for name in ["ps-da-sgd", "prodigy", "adam", "ldog"] {
        let whole = tempdir(&format!("{name}-whole"));
        let (straight, straight_tracker) = fit(name, &whole, 3, None);

        let split = tempdir(&format!("{name}-split"));
        let (_, first_tracker) = fit(name, &split, 1, None);
        assert_eq!(first_tracker.estimate().steps, 8, "{name}");
        let (resumed, resumed_tracker) = fit(name, &split, 3, Some(1));

        let diff = max_rel_diff(&straight.params(), &resumed.params());
        eprintln!("{name:<12} resumed vs uninterrupted: largest relative difference {diff:.2e}");
        assert_eq!(diff, 0.0, "{name}: the resumed run drifted");
        // Only the 16 steps after the checkpoint ran in the resumed process: 24 means the
        // loaded state carried the first 8.
        assert_eq!(
            resumed_tracker.estimate(),
            straight_tracker.estimate(),
            "{name}"
        );
        assert_eq!(resumed_tracker.estimate().steps, 24, "{name}");
        let _ = std::fs::remove_dir_all(&whole);
        let _ = std::fs::remove_dir_all(&split);
    }
}

/// The estimated learning rate and D that burn-train logs for each training item are the
/// estimates of that item's own step (the metrics run on burn-train's processing thread,
/// behind the training): compared with the crate's own optimizer stepped over the same
/// batches, one value per step, for a whole-model method whose rate moves every step
/// (Prodigy) and a per-tensor one (LDoG, the largest of its per-tensor rates).
#[test]
fn the_logged_estimates_are_each_steps_own() {
    let device = device();
    let data = points(64);
    for name in ["prodigy", "ldog"] {
        let dir = tempdir(&format!("{name}-logged"));
        fit_logged(name, &dir, 2, None, true);

        let config = OptimizerConfig::defaults(name).unwrap();
        let mut own = config.init();
        let mut net = Net::new(0.7, DType::F32, &device);
        let (mut lrs, mut ds) = (Vec::new(), Vec::new());
        for _epoch in 0..2 {
            for chunk in data.chunks(8) {
                let batch = ToBatch(DType::F32).batch(chunk.to_vec(), &device);
                let loss = net.loss(&batch);
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = own.step(lr(name), net, grads);
                let estimate = own.estimate();
                lrs.push(estimate.lr);
                ds.push(estimate.d);
            }
        }
        for (metric, expected) in [("Estimated LR", &lrs), ("Estimated D", &ds)] {
            let mut logged = Vec::new();
            for epoch in 1..=2 {
                let file = dir.join(format!(
                    "train/epoch-{epoch}/{}.log",
                    metric.replace(' ', "_")
                ));
                let text = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                // One line per item, `value,count`; the epoch's aggregate ends in `,final`.
                logged.extend(
                    text.lines()
                        .filter(|l| !l.ends_with(",final"))
                        .map(|l| l.split(',').next().unwrap().parse::<f64>().ok()),
                );
            }
            let expected: Vec<Option<f64>> = expected.to_vec();
            if expected.iter().all(Option::is_none) {
                assert!(
                    logged.iter().all(Option::is_none),
                    "{name} {metric}: {logged:?}"
                );
            } else {
                assert_eq!(logged, expected, "{name} {metric}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A whole-model method stepped by Burn's `ModuleOptimizer` directly, without
/// `train::optimize`, would not train: it stops at once with a message saying what to do.
#[test]
fn a_whole_model_method_without_the_optimize_route_says_what_to_do() {
    let device = device();
    let net = Net::new(0.3, DType::F32, &device);
    let batch = ToBatch(DType::F32).batch(points(8), &device);
    let grads = GradientsParams::from_grads(net.loss(&batch).backward(), &net);
    let (mut optim, _) = OptimizerConfig::defaults("dadapt-adam")
        .unwrap()
        .init_learner()
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        optim.step(1.0, net, grads);
    }))
    .expect_err("a per-tensor step of a whole-model method must not pass silently");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("dadapt-adam") && message.contains("burn_lrfree::train::optimize"),
        "{message}"
    );
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "burn-lrfree-burn-train-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
