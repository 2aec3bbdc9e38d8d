//! The training loops on burn-train's `Learner`: what [`crate::train`]'s drivers hand to
//! `SupervisedTraining` and what they get back.
//!
//! burn-train runs the epochs, the batches (burn's `DataLoader`), the forward and backward
//! passes (`TrainStep`, `InferenceStep`), the optimizer step (burn-lrfree's adapter:
//! [`burn_lrfree::train::optimize`]), the metrics (burn-train's `LossMetric` and
//! `AccuracyMetric`, this module's [`MeanIouMetric`], burn-lrfree's estimate metrics) and
//! their logs (`FileMetricLogger`: `burn-train/{train,valid}/epoch-N/*.log` in the seed's
//! directory). This module adds what `sl-train`'s records need around it:
//!
//! - [`Trainee`]: a model in the `Learner`, with the [`Guard`] its steps report to. Every step
//!   checks the rule of [`lrfree_runkit::divergence`] (the loss, the estimated learning rate or
//!   D not finite, the estimate over `lr_divergence_bound`, a refused step, counted by the
//!   adapter's [`Tracker`]); a divergence stops the `Learner` through its `Interrupter` before
//!   the next step, and no step is taken after it.
//! - [`EpochRecorder`]: burn-train calls an early-stopping strategy once per finished epoch, on
//!   the training thread, after it has flushed the epoch's metric events. The recorder never
//!   stops training: it reads the epoch's values back from burn-train's event store
//!   (`EventStoreClient::find_metric`: the train and test loss, accuracy, mIoU, as burn-train
//!   logged them) and the optimizer's estimate from the [`Tracker`], and writes the
//!   `epochs.csv` row. An epoch cut short by a divergence gets no row from it; [`fit`] then
//!   writes the NaN row.
//! - [`Quiet`]: burn-train's renderer prints a line per batch on stdout (where `sl-train`
//!   prints its report); this one prints nothing, and the recorder prints one line per epoch on
//!   stderr as before.
//! - [`data`]: burn's `BatchDataLoader` with a seeded shuffle (rand 0.10's `StdRng`, as
//!   `DataLoaderBuilder::shuffle`) and a batch strategy that drops a last batch of one image
//!   (batch norm needs two); batchers that augment from their own seeded RNG. The loaders
//!   have no worker threads, so batches are drawn in order on the training thread and a seed
//!   gives the same records run to run and whatever runs beside it.
//!
//! The estimate metrics (`Estimated LR`, `Estimated D` in burn-train's logs) log each step's
//! estimate; the last of an epoch is the row's `lr` and `d`, which the recorder reads from the
//! [`Tracker`] itself (no step runs until burn-train has flushed the epoch's events).
//!
//! burn-train's own application log (`experiment.log`) is turned off: it installs a global
//! logger, one per process, while `sl-train` trains several seeds at once in one process.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use burn::data::dataloader::DataLoader;
use burn::module::{Module, ModuleDisplay};
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::Tensor;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split as MetricSplit};
use burn::train::metric::{ItemLazy, MetricDefinition};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn::train::{
    EarlyStoppingStrategy, InferenceStep, Interrupter, Learner, SupervisedTraining, TrainOutput,
    TrainStep,
};
use burn_lrfree::Estimate;
use burn_lrfree::registry::OptimizerSpec;
use burn_lrfree::train::metrics::EstimateMetric;
use burn_lrfree::train::{self as adapter, Tracker};

use lrfree_runkit::RunError;
use lrfree_runkit::divergence;
use lrfree_runkit::records::fold_max;
use lrfree_runkit::records::sl::{EpochRow, EpochsWriter, Phase, SlDivergence};

pub mod data;
pub mod objectives;

pub use data::{
    FeatureBatcher, ImageBatcher, MaskBatcher, ViewBatcher, no_test_loader, test_loader,
    train_loader,
};
pub use objectives::{
    MeanIouMetric, classification_metrics, mean_iou, pretraining_metrics, segmentation_metrics,
};

/// The names burn-train's metrics log under (and the recorder reads back).
pub(crate) const LOSS: &str = "Loss";
pub(crate) const ACCURACY: &str = "Accuracy";
pub(crate) const MEAN_IOU: &str = "Mean IoU";

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---- The seed's records ----

/// What one seed has done so far, across its phases (SimCLR: pre-training, then linear
/// evaluation): written by its steps ([`Guard`]) and its epoch hook ([`EpochRecorder`]), read
/// by [`crate::train::run_seed`] for the summary.
pub struct SeedRecords {
    /// `<optimizer> seed <N>`, the prefix of the progress lines.
    label: String,
    writer: EpochsWriter,
    /// When the seed started (`wall_s`).
    pub start: Instant,
    /// Epochs run (rows written, the one a divergence cut short included), over all phases.
    pub epochs_done: u64,
    /// Steps taken in the current phase.
    pub steps: u64,
    /// The largest estimated learning rate of any step.
    pub max_lr: Option<f64>,
    /// The best test accuracy or mIoU of any epoch.
    pub best: Option<f64>,
    /// The training loss of the last finished epoch (pre-training's for SimCLR).
    pub final_train_loss: Option<f64>,
    /// The last row written.
    pub last_row: Option<EpochRow>,
    /// Where and why the seed diverged.
    pub divergence: Option<SlDivergence>,
    /// A record that could not be written (the epoch hook cannot return it).
    failure: Option<RunError>,
}

/// A seed's records, shared with the threads burn-train runs.
pub type Records = Arc<Mutex<SeedRecords>>;

impl SeedRecords {
    /// Create `epochs.csv` in `dir`.
    pub fn create(dir: &Path, label: String) -> Result<Records, RunError> {
        Ok(Arc::new(Mutex::new(Self {
            label,
            writer: EpochsWriter::create(&dir.join("epochs.csv"))?,
            start: Instant::now(),
            epochs_done: 0,
            steps: 0,
            max_lr: None,
            best: None,
            final_train_loss: None,
            last_row: None,
            divergence: None,
            failure: None,
        })))
    }

    fn diverge(&mut self, reason: String) {
        self.divergence.get_or_insert(SlDivergence {
            epoch: self.epochs_done + 1,
            step: self.steps,
            reason,
        });
    }

    /// Fill in the estimate, counters and time, write the row, print progress.
    fn record(&mut self, mut row: EpochRow, estimate: &Estimate) -> Result<(), RunError> {
        (row.lr, row.d) = (estimate.lr, estimate.d);
        (row.steps, row.epoch) = (self.steps, self.epochs_done + 1);
        row.wall_s = self.start.elapsed().as_secs_f64();
        if let Some(m) = row.test_accuracy.or(row.test_miou) {
            self.best = Some(self.best.map_or(m, |b: f64| b.max(m)));
        }
        self.writer.write(&row)?;
        self.epochs_done = row.epoch;
        let metric = match (row.test_accuracy, row.test_miou) {
            (Some(a), _) => format!("  test acc {a:.2}%"),
            (_, Some(m)) => format!("  test mIoU {m:.2}%"),
            _ => String::new(),
        };
        let lr = row.lr.map_or(String::new(), |l| format!("  lr {l:.3e}"));
        eprintln!(
            "{}: {} epoch {}  loss {:.4}{metric}{lr}  ({:.1} s)",
            self.label,
            row.phase.as_str(),
            row.epoch,
            row.train_loss,
            row.wall_s
        );
        self.last_row = Some(row);
        Ok(())
    }
}

// ---- The model in the Learner ----

/// A model `sl-train` trains: its batches, its loss, and the output burn-train's metrics read.
pub trait Objective: Module + ModuleDisplay + 'static {
    /// A batch, for training and for evaluation.
    type Batch: Send + 'static;
    /// What the metrics read.
    type Output: ItemLazy + 'static;

    /// The loss (one element) of a batch and the metrics' output.
    fn objective(&self, batch: Self::Batch) -> (Tensor<1>, Self::Output);
}

/// Where a seed's steps report to: the divergence rule, the step count, the largest estimate.
#[derive(Clone)]
pub struct Guard {
    records: Records,
    tracker: Tracker,
    interrupter: Interrupter,
    bound: f64,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("tracker", &self.tracker)
            .finish()
    }
}

impl Guard {
    fn diverge(&self, records: &mut SeedRecords, reason: String) {
        records.diverge(reason);
        let reason = records.divergence.as_ref().map(|d| d.reason.clone());
        self.interrupter.stop(reason.as_deref());
    }

    fn diverged(&self) -> bool {
        lock(&self.records).divergence.is_some()
    }

    /// A batch's training loss, before its step.
    fn loss(&self, value: f64) {
        if let Some(reason) = divergence::non_finite("training loss", value) {
            self.diverge(&mut lock(&self.records), reason);
        }
    }

    /// After a step: refused (the tracker counted more refusals than `refused`), or taken and
    /// its estimate checked.
    fn stepped(&self, refused: u64) {
        let mut records = lock(&self.records);
        if self.tracker.rejected_steps() > refused {
            let error = self
                .tracker
                .last_rejection()
                .map_or_else(|| "unknown".to_string(), |e| e.to_string());
            self.diverge(&mut records, format!("step refused: {error}"));
            return;
        }
        records.steps += 1;
        let est = self.tracker.estimate();
        if let Some(reason) = divergence::estimate("network", est.lr, est.d_next, self.bound) {
            self.diverge(&mut records, reason);
            return;
        }
        fold_max(&mut records.max_lr, est.lr);
    }
}

/// A model in burn-train's `Learner`, with the [`Guard`] of its seed.
#[derive(Module, Debug)]
pub struct Trainee<M> {
    /// The model.
    pub model: M,
    #[module(skip)]
    guard: Guard,
}

impl<M: Objective> Trainee<M> {
    /// `step` (the adapter's optimizer step) unless the seed has diverged, with the guard told
    /// whether the step was refused.
    fn guarded(self, step: impl FnOnce(Self) -> Self) -> Self {
        let guard = self.guard.clone();
        if guard.diverged() {
            return self;
        }
        let refused = guard.tracker.rejected_steps();
        let stepped = step(self);
        guard.stepped(refused);
        stepped
    }
}

impl<M: Objective> TrainStep for Trainee<M> {
    type Input = M::Batch;
    type Output = M::Output;

    fn step(&self, batch: M::Batch) -> TrainOutput<M::Output> {
        let (loss, output) = self.model.objective(batch);
        self.guard.loss(loss.clone().into_scalar::<f64>());
        let mut out = TrainOutput::new(self, loss.backward(), output);
        adapter::attach_loss(&mut out.grads, &loss); // for sps and ps-sps
        out
    }

    fn optimize(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: GradientsParams,
    ) -> Self {
        self.guarded(|trainee| adapter::optimize(trainee, optim, lr, grads))
    }

    fn optimize_multi(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: MultiGradientsParams,
    ) -> Self {
        self.guarded(|trainee| adapter::optimize_multi(trainee, optim, lr, grads))
    }
}

impl<M: Objective> InferenceStep for Trainee<M> {
    type Input = M::Batch;
    type Output = M::Output;

    fn step(&self, batch: M::Batch) -> M::Output {
        self.model.objective(batch).1
    }
}

// ---- Per epoch ----

/// The per-epoch hook (see the [module docs](self)): writes the `epochs.csv` row of each
/// finished epoch from burn-train's metrics and the optimizer's estimate; never stops training.
#[derive(Clone)]
pub struct EpochRecorder {
    records: Records,
    tracker: Tracker,
    phase: Phase,
}

impl EarlyStoppingStrategy for EpochRecorder {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        let value = |name: &str, split: MetricSplit| {
            store.find_metric(name, epoch, Aggregate::Mean, &split)
        };
        let row = EpochRow {
            phase: self.phase,
            train_loss: value(LOSS, MetricSplit::Train).unwrap_or(f64::NAN),
            train_accuracy: value(ACCURACY, MetricSplit::Train),
            test_loss: value(LOSS, MetricSplit::Valid),
            test_accuracy: value(ACCURACY, MetricSplit::Valid),
            test_miou: value(MEAN_IOU, MetricSplit::Valid),
            ..Default::default()
        };
        let mut records = lock(&self.records);
        if self.phase != Phase::Linear {
            records.final_train_loss = Some(row.train_loss);
        }
        match records.record(row, &self.tracker.estimate()) {
            Ok(()) => false,
            Err(e) => {
                records.failure = Some(e);
                true
            }
        }
    }
}

/// burn-train's renderer, silent: [`EpochRecorder`] prints the progress.
pub struct Quiet;

impl MetricsRendererTraining for Quiet {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for Quiet {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for Quiet {
    fn start(&mut self, _: usize, _: usize, _: Option<usize>, _: Option<&str>) {}
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for Quiet {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for Quiet {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}

// ---- One phase ----

/// One phase of a seed for [`fit`].
pub struct Fit<'a, B> {
    /// burn-train's directory (its metric logs).
    pub dir: &'a Path,
    /// The phase of the rows.
    pub phase: Phase,
    /// Epochs to run.
    pub epochs: usize,
    /// The optimizer and its `lr`.
    pub optimizer: OptimizerSpec,
    /// `lr_divergence_bound`.
    pub bound: f64,
    /// Training batches.
    pub train: Arc<dyn DataLoader<B>>,
    /// Test batches (empty: no evaluation).
    pub test: Arc<dyn DataLoader<B>>,
}

/// burn-train's supervised training of one of `sl-train`'s models.
pub type Training<M> = SupervisedTraining<Trainee<M>>;

/// Train `model` for one phase in burn-train's `Learner`, with the metrics `metrics` registers;
/// the epochs' rows go to `records`, and a divergence ends the phase with a NaN row. Returns
/// the trained model (in validation mode).
pub fn fit<M: Objective>(
    records: &Records,
    model: M,
    fit: Fit<'_, M::Batch>,
    metrics: impl FnOnce(Training<M>) -> Training<M>,
) -> Result<M, RunError> {
    let (optim, tracker) = fit
        .optimizer
        .config
        .init_learner()
        .map_err(|e| RunError::Usage(e.to_string()))?;
    let interrupter = Interrupter::new();
    let guard = Guard {
        records: records.clone(),
        tracker: tracker.clone(),
        interrupter: interrupter.clone(),
        bound: fit.bound,
    };
    let training = SupervisedTraining::new(fit.dir, fit.train, fit.test)
        .num_epochs(fit.epochs)
        .with_interrupter(interrupter)
        .with_application_logger(None)
        .renderer(Box::new(Quiet))
        .early_stopping(EpochRecorder {
            records: records.clone(),
            tracker: tracker.clone(),
            phase: fit.phase,
        });
    let training = metrics(training)
        .metric_train_numeric(EstimateMetric::lr(tracker.clone()))
        .metric_train_numeric(EstimateMetric::d(tracker.clone()));
    let result = training.launch(Learner::new(
        Trainee { model, guard },
        optim,
        fit.optimizer.lr,
    ));
    if let Some(error) = result.error {
        return Err(RunError::Io(format!(
            "{}: burn-train stopped: {error}",
            fit.dir.display()
        )));
    }
    {
        let mut records = lock(records);
        if let Some(failure) = records.failure.take() {
            return Err(failure);
        }
        if records.divergence.is_some() {
            // The epoch the divergence cut short still gets its row.
            let row = EpochRow {
                phase: fit.phase,
                train_loss: f64::NAN,
                ..Default::default()
            };
            records.record(row, &tracker.estimate())?;
        }
    }
    Ok(result.model.model)
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};
    use burn_lrfree::registry::{NAMES, OptimizerConfig, default_lr};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::learner::data::Images;
    use crate::models::{Classifier, ModelKind, ModelOptions, Shape};

    /// Every float parameter's values (batch norm's running statistics too), or only the
    /// trained ones'.
    fn params<M: Module>(model: &M, trained_only: bool) -> Vec<f64> {
        struct All(Vec<f64>, bool);
        impl burn::module::ModuleVisitor for All {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                if !self.1 || p.val().is_require_grad() {
                    self.0.extend(p.val().into_data().iter::<f64>());
                }
            }
        }
        let mut all = All(Vec::new(), trained_only);
        model.visit(&mut all);
        all.0
    }

    fn batch(step: usize, device: &Device) -> Images {
        let n = 16;
        let x: Vec<f32> = (0..n * 64)
            .map(|i| (((i * 37 + step * 11) % 101) as f32 / 50.0) - 1.0)
            .collect();
        let y: Vec<i64> = (0..n).map(|i| ((i + step) % 10) as i64).collect();
        Images {
            images: Tensor::from_data(TensorData::new(x, [n, 1, 8, 8]), device),
            targets: Tensor::from_data(TensorData::new(y, [n]), device),
        }
    }

    /// What the `Learner` does with `sl-train`'s convnet (batch norm included) in each step
    /// (`Trainee`'s `TrainStep::step` and `optimize`: the adapter, the loss attached) gives
    /// the parameters and estimate of the crate's own `ModuleOptimizer::step_with_loss`, as the
    /// hand-written loops stepped it; the guard counts each step.
    #[test]
    fn every_method_steps_the_convnet_as_burn_lrfrees_own_step() {
        let device = Device::default().autodiff();
        let shape = Shape { c: 1, h: 8, w: 8 };
        let o = ModelOptions::default();
        let net = || {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            Classifier::new(ModelKind::Cnn, &mut rng, shape, 10, &o, &device)
        };
        for name in NAMES {
            let config = OptimizerConfig::defaults(name).unwrap();
            let lr = match name {
                "sgd" => 0.05,
                "adam" => 1e-3,
                _ => default_lr(name).unwrap(),
            };
            let mut own = config.init();
            let (mut optim, tracker) = config.init_learner().unwrap();
            let dir =
                std::env::temp_dir().join(format!("sl-learner-test-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (mut a, b) = (net(), net());
            let start = params(&a, true);
            let guard = Guard {
                records: SeedRecords::create(&dir, name.to_string()).unwrap(),
                tracker: tracker.clone(),
                interrupter: Interrupter::new(),
                bound: f64::INFINITY,
            };
            let mut b = Trainee { model: b, guard };
            for step in 0..6 {
                let (loss, _) = a.objective(batch(step, &device));
                let value = loss.clone().into_scalar::<f64>();
                let grads = GradientsParams::from_grads(loss.backward(), &a);
                a = own.step_with_loss(lr, a, grads, value);
                let out = TrainStep::step(&b, batch(step, &device));
                b = TrainStep::optimize(b, &mut optim, lr.into(), out.grads);
            }
            let (pa, pb) = (params(&a, false), params(&b.model, false));
            let worst = pa
                .iter()
                .zip(&pb)
                .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-6))
                .fold(0.0, f64::max);
            let (mine, theirs) = (own.estimate(), tracker.estimate());
            eprintln!(
                "{name:<12} worst relative difference {worst:.2e}, lr {:?}",
                theirs.lr
            );
            assert!(worst <= 1e-6, "{name}: {worst:e}");
            assert_ne!(
                params(&b.model, true),
                start,
                "{name}: the weights did not move"
            );
            assert_eq!(
                (mine.lr, mine.d, mine.steps),
                (theirs.lr, theirs.d, 6),
                "{name}"
            );
            assert_eq!(lock(&b.guard.records).steps, 6, "{name}");
            assert!(lock(&b.guard.records).divergence.is_none(), "{name}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// A step refused by the optimizer (a non-finite gradient, finite loss) and a non-finite
    /// loss each stop the seed where they happen: the divergence is recorded at that step,
    /// the `Learner`'s interrupter is told, and no step is taken after it.
    #[test]
    fn a_refused_step_or_a_non_finite_loss_stops_the_seed_at_that_step() {
        struct Poison<'a>(&'a mut GradientsParams, bool);
        impl burn::module::ModuleVisitor for Poison<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                if let (false, Some(g)) = (self.1, self.0.remove::<D>(p.id)) {
                    self.0.register::<D>(p.id, g.mul_scalar(f32::NAN));
                    self.1 = true;
                }
            }
        }
        let device = Device::default().autodiff();
        let shape = Shape { c: 1, h: 8, w: 8 };
        for (name, poison) in [("ps-da-sgd", true), ("adam", true), ("prodigy", false)] {
            let config = OptimizerConfig::defaults(name).unwrap();
            let (mut optim, tracker) = config.init_learner().unwrap();
            let dir = std::env::temp_dir()
                .join(format!("sl-learner-refused-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let interrupter = Interrupter::new();
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let model = Classifier::new(
                ModelKind::Cnn,
                &mut rng,
                shape,
                10,
                &ModelOptions::default(),
                &device,
            );
            let guard = Guard {
                records: SeedRecords::create(&dir, name.to_string()).unwrap(),
                tracker,
                interrupter: interrupter.clone(),
                bound: f64::INFINITY,
            };
            let records = guard.records.clone();
            let mut net = Trainee { model, guard };
            for step in 0..2 {
                let out = TrainStep::step(&net, batch(step, &device));
                net = TrainStep::optimize(net, &mut optim, 1e-3.into(), out.grads);
            }
            assert!(!interrupter.should_stop(), "{name}");
            let mut bad = batch(2, &device);
            if !poison {
                bad.images = bad.images.mul_scalar(f32::NAN);
            }
            let mut out = TrainStep::step(&net, bad);
            if poison {
                let mut visitor = Poison(&mut out.grads, false);
                net.visit(&mut visitor);
                assert!(visitor.1);
            }
            net = TrainStep::optimize(net, &mut optim, 1e-3.into(), out.grads);
            let before = params(&net.model, true);
            // burn-train would have stopped; a step after it changes nothing.
            let out = TrainStep::step(&net, batch(3, &device));
            net = TrainStep::optimize(net, &mut optim, 1e-3.into(), out.grads);
            assert_eq!(params(&net.model, true), before, "{name}");
            let r = lock(&records);
            let d = r.divergence.as_ref().expect("diverged");
            let reason = if poison {
                "step refused: "
            } else {
                "training loss became NaN"
            };
            assert!(d.reason.starts_with(reason), "{name}: {}", d.reason);
            assert_eq!((d.epoch, d.step, r.steps), (1, 2, 2), "{name}");
            assert!(interrupter.should_stop(), "{name}");
            assert_eq!(
                interrupter.interruption().and_then(|i| i.reason),
                Some(d.reason.clone()),
                "{name}"
            );
            drop(r);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
