//! The training loops on burn-train's `Learner`: what [`crate::train`]'s drivers hand to
//! `SupervisedTraining` and what they get back.
//!
//! burn-train runs the epochs, the batches (burn's `DataLoader`), the forward and backward
//! passes (`TrainStep`, `InferenceStep`), the optimizer step (burn-lrfree's adapter:
//! [`burn_lrfree::train::optimize`]), the metrics (burn-train's [`LossMetric`] and
//! [`AccuracyMetric`], this module's [`MeanIouMetric`], burn-lrfree's estimate metrics) and
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
//! - The data: burn's `BatchDataLoader` with a seeded shuffle (rand 0.10's `StdRng`, as
//!   `DataLoaderBuilder::shuffle`) and a batch strategy that drops a last batch of one image
//!   (batch norm needs two); batchers that augment from their own seeded RNG. The loaders
//!   have no worker threads, so batches are drawn in order on the training thread and a seed
//!   gives the same records run to run and whatever runs beside it.
//!
//! burn-train's own application log (`experiment.log`) is turned off: it installs a global
//! logger, one per process, while `sl-train` trains several seeds at once in one process.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{BatchDataLoader, BatchStrategy, DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::{Module, ModuleDisplay};
use burn::nn::Linear;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::{Device, ExecutionError, Int, Tensor, TensorData, TensorReadError};
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split as MetricSplit};
use burn::train::metric::{
    AccuracyMetric, Adaptor, ItemLazy, LossInput, LossMetric, Metric, MetricAttributes,
    MetricDefinition, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn::train::{
    ClassificationOutput, EarlyStoppingStrategy, InferenceStep, Interrupter, Learner,
    SupervisedTraining, TrainOutput, TrainStep,
};
use burn_lrfree::Estimate;
use burn_lrfree::registry::OptimizerSpec;
use burn_lrfree::train::metrics::EstimateMetric;
use burn_lrfree::train::{self as adapter, Tracker};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use lrfree_runkit::RunError;
use lrfree_runkit::divergence;
use lrfree_runkit::records::fold_max;
use lrfree_runkit::records::sl::{EpochRow, EpochsWriter, Phase, SlDivergence};

use crate::augment::{Augment, Normalize, class_batch, seg_batch, simclr_batch};
use crate::data::{ImageSet, SegSet};
use crate::models::{
    Classifier, SegNet, Shape, SimClr, cross_entropy, masked_cross_entropy, nt_xent,
};

/// The names burn-train's metrics log under (and the recorder reads back).
const LOSS: &str = "Loss";
const ACCURACY: &str = "Accuracy";
const MEAN_IOU: &str = "Mean IoU";

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
        let guard = self.guard.clone();
        if guard.diverged() {
            return self;
        }
        let refused = guard.tracker.rejected_steps();
        let stepped = adapter::optimize(self, optim, lr, grads);
        guard.stepped(refused);
        stepped
    }

    fn optimize_multi(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: MultiGradientsParams,
    ) -> Self {
        let guard = self.guard.clone();
        if guard.diverged() {
            return self;
        }
        let refused = guard.tracker.rejected_steps();
        let stepped = adapter::optimize_multi(self, optim, lr, grads);
        guard.stepped(refused);
        stepped
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
) -> Result<M, RunError>
where
    Trainee<M>: std::fmt::Display,
{
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

/// burn-train's loss and accuracy metrics for training and test.
pub fn classification_metrics<M>(training: Training<M>) -> Training<M>
where
    M: Objective<Output = ClassificationOutput>,
    Trainee<M>: std::fmt::Display,
{
    training
        .metric_train_numeric(LossMetric::new())
        .metric_train_numeric(AccuracyMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_valid_numeric(AccuracyMetric::new())
}

/// A batch's loss once per image, so that burn-train's [`LossMetric`] (a mean weighted by the
/// loss tensor's length) weighs batches by their images, as the records always have.
fn per_image(loss: &Tensor<1>, n: usize) -> Tensor<1> {
    loss.clone().detach().reshape([1]).expand([n])
}

// ---- Data ----

/// burn's fixed-size batches, except that a last batch of one is dropped (batch norm needs
/// two), as the hand-written loops did.
struct AtLeastTwo<I> {
    items: Vec<I>,
    size: usize,
}

impl<I: Send + Sync + 'static> BatchStrategy<I> for AtLeastTwo<I> {
    fn add(&mut self, item: I) {
        self.items.push(item);
    }

    fn batch(&mut self, force: bool) -> Option<Vec<I>> {
        if self.items.len() < self.size && !force {
            return None;
        }
        let items = std::mem::take(&mut self.items);
        (items.len() >= 2).then_some(items)
    }

    fn clone_dyn(&self) -> Box<dyn BatchStrategy<I>> {
        Box::new(Self {
            items: Vec::new(),
            size: self.size,
        })
    }

    fn batch_size(&self) -> Option<usize> {
        Some(self.size)
    }
}

/// Training batches of the items `0..n`, shuffled each epoch by burn's loader from `seed`
/// (burn's `DataLoaderBuilder::shuffle`), batched on the training thread.
pub fn train_loader<B: Send + 'static>(
    n: usize,
    batch: usize,
    batcher: impl Batcher<usize, B> + 'static,
    seed: u64,
) -> Arc<dyn DataLoader<B>> {
    Arc::new(BatchDataLoader::new(
        Box::new(AtLeastTwo {
            items: Vec::new(),
            size: batch.max(1),
        }),
        Arc::new(InMemDataset::new((0..n).collect())),
        Arc::new(batcher),
        Device::default(),
        Some(<rand_burn::rngs::StdRng as rand_burn::SeedableRng>::seed_from_u64(seed)),
    ))
}

/// Test batches of the items `0..n`, in order.
pub fn test_loader<B: Send + Clone + std::fmt::Debug + 'static>(
    n: usize,
    batch: usize,
    batcher: impl Batcher<usize, B> + 'static,
) -> Arc<dyn DataLoader<B>> {
    DataLoaderBuilder::new(batcher)
        .batch_size(batch.max(1))
        .build(InMemDataset::new((0..n).collect()))
}

fn tensor4(values: Vec<f32>, n: usize, s: Shape, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [n, s.c, s.h, s.w]), device)
}

fn ints(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

fn shape_of(set: &ImageSet) -> Shape {
    Shape {
        c: set.channels,
        h: set.height,
        w: set.width,
    }
}

/// The augmentation RNG of a training batcher (`None`: a test batcher, no augmentation).
type AugmentRng = Option<Mutex<ChaCha8Rng>>;

fn draw<T>(rng: &AugmentRng, f: impl FnOnce(&mut ChaCha8Rng, bool) -> T) -> T {
    match rng {
        Some(rng) => f(&mut lock(rng), true),
        // Unused: no augmentation at test time.
        None => f(&mut ChaCha8Rng::seed_from_u64(0), false),
    }
}

/// Labelled images: `[B, C, H, W]` and their classes.
#[derive(Clone, Debug)]
pub struct Images {
    /// Normalised (and augmented) images.
    pub images: Tensor<4>,
    /// Classes.
    pub targets: Tensor<1, Int>,
}

/// Batches of labelled images (see [`class_batch`]).
pub struct ImageBatcher {
    set: Arc<ImageSet>,
    augment: Augment,
    norm: Normalize,
    rng: AugmentRng,
}

impl ImageBatcher {
    /// Training batches, augmented from `rng`.
    pub fn train(set: Arc<ImageSet>, augment: Augment, norm: Normalize, rng: ChaCha8Rng) -> Self {
        Self {
            set,
            augment,
            norm,
            rng: Some(Mutex::new(rng)),
        }
    }

    /// Test batches, not augmented.
    pub fn test(set: Arc<ImageSet>, norm: Normalize) -> Self {
        Self {
            set,
            augment: Augment::default(),
            norm,
            rng: None,
        }
    }
}

impl Batcher<usize, Images> for ImageBatcher {
    fn batch(&self, idx: Vec<usize>, device: &Device) -> Images {
        let (x, y) = draw(&self.rng, |rng, train| {
            class_batch(&self.set, &idx, &self.augment, &self.norm, rng, train)
        });
        Images {
            images: tensor4(x, idx.len(), shape_of(&self.set), device),
            targets: ints(y, device),
        }
    }
}

impl Objective for Classifier {
    type Batch = Images;
    type Output = ClassificationOutput;

    fn objective(&self, batch: Images) -> (Tensor<1>, ClassificationOutput) {
        let n = batch.targets.dims()[0];
        let logits = self.forward(batch.images);
        let loss = cross_entropy(logits.clone(), batch.targets.clone());
        let output = ClassificationOutput::new(per_image(&loss, n), logits, batch.targets);
        (loss, output)
    }
}

/// Rows of features `[B, F]` and their classes (SimCLR's linear evaluation).
#[derive(Clone, Debug)]
pub struct Features {
    /// Features.
    pub x: Tensor<2>,
    /// Classes.
    pub targets: Tensor<1, Int>,
}

/// Batches of precomputed features (`[N·F]` row-major) and the labels of their images.
pub struct FeatureBatcher {
    /// The features of every image.
    pub features: Arc<Vec<f32>>,
    /// `F`.
    pub dim: usize,
    /// The images (for their labels).
    pub set: Arc<ImageSet>,
}

impl Batcher<usize, Features> for FeatureBatcher {
    fn batch(&self, idx: Vec<usize>, device: &Device) -> Features {
        let dim = self.dim;
        let mut v = Vec::with_capacity(idx.len() * dim);
        for &i in &idx {
            v.extend_from_slice(&self.features[i * dim..(i + 1) * dim]);
        }
        let y = idx.iter().map(|&i| i64::from(self.set.labels[i])).collect();
        Features {
            x: Tensor::from_data(TensorData::new(v, [idx.len(), dim]), device),
            targets: ints(y, device),
        }
    }
}

impl Objective for Linear {
    type Batch = Features;
    type Output = ClassificationOutput;

    fn objective(&self, batch: Features) -> (Tensor<1>, ClassificationOutput) {
        let n = batch.targets.dims()[0];
        let logits = self.forward(batch.x);
        let loss = cross_entropy(logits.clone(), batch.targets.clone());
        let output = ClassificationOutput::new(per_image(&loss, n), logits, batch.targets);
        (loss, output)
    }
}

// ---- Segmentation ----

/// Images with per-pixel labels.
#[derive(Clone, Debug)]
pub struct Masks {
    /// Normalised (and augmented) images.
    pub images: Tensor<4>,
    /// Per pixel: class − 1 (ignored pixels as 0).
    pub targets: Tensor<1, Int>,
    /// Per pixel: 1, or 0 for an ignored pixel.
    pub weights: Tensor<1>,
    /// Per pixel: the mask value (0 = ignore, `k` = class `k − 1`).
    pub labels: Tensor<1, Int>,
}

/// Batches of images and masks (see [`seg_batch`]).
pub struct MaskBatcher {
    set: Arc<SegSet>,
    augment: Augment,
    norm: Normalize,
    rng: AugmentRng,
}

impl MaskBatcher {
    /// Training batches, augmented (image and mask together) from `rng`.
    pub fn train(set: Arc<SegSet>, augment: Augment, norm: Normalize, rng: ChaCha8Rng) -> Self {
        Self {
            set,
            augment,
            norm,
            rng: Some(Mutex::new(rng)),
        }
    }

    /// Test batches, not augmented.
    pub fn test(set: Arc<SegSet>, norm: Normalize) -> Self {
        Self {
            set,
            augment: Augment::default(),
            norm,
            rng: None,
        }
    }
}

impl Batcher<usize, Masks> for MaskBatcher {
    fn batch(&self, idx: Vec<usize>, device: &Device) -> Masks {
        let (x, m) = draw(&self.rng, |rng, train| {
            seg_batch(&self.set, &idx, &self.augment, &self.norm, rng, train)
        });
        let targets = m.iter().map(|&m| i64::from(m.saturating_sub(1))).collect();
        let weights: Vec<f32> = m.iter().map(|&m| f32::from(u8::from(m > 0))).collect();
        let labels = m.iter().map(|&m| i64::from(m)).collect();
        let pixels = weights.len();
        Masks {
            images: tensor4(x, idx.len(), shape_of(&self.set.images), device),
            targets: ints(targets, device),
            weights: Tensor::from_data(TensorData::new(weights, [pixels]), device),
            labels: ints(labels, device),
        }
    }
}

/// What the segmentation metrics read.
pub struct SegmentationOutput {
    /// The batch's loss once per image.
    pub loss: Tensor<1>,
    /// Per-pixel logits `[P, K]`.
    pub logits: Tensor<2>,
    /// Per-pixel mask values (0 = ignore).
    pub labels: Tensor<1, Int>,
}

impl ItemLazy for SegmentationOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            logits: self.logits.without_autodiff(),
            labels: self.labels.without_autodiff(),
        })
    }
}

impl Adaptor<LossInput> for SegmentationOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl Adaptor<MeanIouInput> for SegmentationOutput {
    fn adapt(&self) -> MeanIouInput {
        MeanIouInput {
            logits: self.logits.clone(),
            labels: self.labels.clone(),
            images: self.loss.dims()[0],
        }
    }
}

/// Per-pixel logits `[B, K, H, W]` as `[B·H·W, K]`.
fn pixels(logits: Tensor<4>) -> Tensor<2> {
    let [b, k, h, w] = logits.dims();
    logits.permute([0, 2, 3, 1]).reshape([b * h * w, k])
}

impl Objective for SegNet {
    type Batch = Masks;
    type Output = SegmentationOutput;

    fn objective(&self, batch: Masks) -> (Tensor<1>, SegmentationOutput) {
        let n = batch.images.dims()[0];
        let logits = pixels(self.forward(batch.images));
        let loss = masked_cross_entropy(logits.clone(), batch.targets, batch.weights);
        let output = SegmentationOutput {
            loss: per_image(&loss, n),
            logits,
            labels: batch.labels,
        };
        (loss, output)
    }
}

/// Mean IoU (%) over the classes present in predictions or labels, from a `K×K` confusion
/// matrix (rows: label, columns: prediction).
pub fn mean_iou(confusion: &[u64], classes: usize) -> f64 {
    let mut ious = Vec::new();
    for k in 0..classes {
        let tp = confusion[k * classes + k];
        let row: u64 = (0..classes).map(|j| confusion[k * classes + j]).sum();
        let col: u64 = (0..classes).map(|i| confusion[i * classes + k]).sum();
        let union = row + col - tp;
        if union > 0 {
            ious.push(tp as f64 / union as f64);
        }
    }
    if ious.is_empty() {
        0.0
    } else {
        100.0 * ious.iter().sum::<f64>() / ious.len() as f64
    }
}

/// The input of [`MeanIouMetric`].
pub struct MeanIouInput {
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
    images: usize,
}

/// Mean IoU (%) as a burn-train metric: the confusion matrix of the pixels with a label,
/// summed over the epoch's batches ([`mean_iou`] of it, not a mean of per-batch values).
#[derive(Clone)]
pub struct MeanIouMetric {
    name: MetricName,
    classes: usize,
    /// This epoch's confusion matrix.
    confusion: Vec<u64>,
    /// The last batch's mIoU and images, and the epoch's images.
    current: (f64, usize),
    count: usize,
}

impl MeanIouMetric {
    /// For `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            name: Arc::new(MEAN_IOU.to_string()),
            classes,
            confusion: vec![0; classes * classes],
            current: (0.0, 0),
            count: 0,
        }
    }

    fn entry(&self, serialized: NumericEntry) -> SerializedEntry {
        let running = mean_iou(&self.confusion, self.classes);
        SerializedEntry::new(
            format!("epoch {running:.2} % - batch {:.2} %", self.current.0),
            serialized.serialize(),
        )
    }
}

impl Metric for MeanIouMetric {
    type Input = MeanIouInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: Some("%".to_string()),
            higher_is_better: true,
        }
        .into()
    }

    fn update(
        &mut self,
        input: &MeanIouInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let k = self.classes;
        let pred = input.logits.clone().argmax(1).try_into_data_as::<i64>()?;
        let labels = input.labels.clone().try_into_data_as::<i64>()?;
        let mut batch = vec![0u64; k * k];
        for (p, label) in pred.iter::<i64>().zip(labels.iter::<i64>()) {
            if label > 0 {
                batch[(label as usize - 1) * k + p as usize] += 1;
            }
        }
        for (total, b) in self.confusion.iter_mut().zip(&batch) {
            *total += b;
        }
        self.count += input.images;
        self.current = (mean_iou(&batch, k), input.images);
        Ok(self.entry(self.value().expect("always a value")))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(self.final_value()))
    }

    fn clear(&mut self) {
        self.confusion.iter_mut().for_each(|c| *c = 0);
        self.current = (0.0, 0);
        self.count = 0;
    }
}

impl Numeric for MeanIouMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(NumericEntry::Aggregated {
            aggregated_value: self.current.0,
            count: self.current.1,
        })
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(NumericEntry::Aggregated {
            aggregated_value: mean_iou(&self.confusion, self.classes),
            count: self.count,
        })
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(mean_iou(&self.confusion, self.classes))
    }
}

/// burn-train's loss metric for training and test, and the test mIoU.
pub fn segmentation_metrics(training: Training<SegNet>, classes: usize) -> Training<SegNet> {
    training
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_valid_numeric(MeanIouMetric::new(classes))
}

// ---- SimCLR pre-training ----

/// Two augmented views of each image.
#[derive(Clone, Debug)]
pub struct Views {
    /// First views.
    pub a: Tensor<4>,
    /// Second views.
    pub b: Tensor<4>,
    /// The NT-Xent temperature.
    pub temperature: f64,
}

/// Batches of two SimCLR views per image (see [`simclr_batch`]).
pub struct ViewBatcher {
    /// The images.
    pub set: Arc<ImageSet>,
    /// Normalisation.
    pub norm: Normalize,
    /// The NT-Xent temperature.
    pub temperature: f64,
    /// The augmentation RNG.
    pub rng: Mutex<ChaCha8Rng>,
}

impl Batcher<usize, Views> for ViewBatcher {
    fn batch(&self, idx: Vec<usize>, device: &Device) -> Views {
        let (a, b) = simclr_batch(&self.set, &idx, &self.norm, &mut lock(&self.rng));
        let shape = shape_of(&self.set);
        Views {
            a: tensor4(a, idx.len(), shape, device),
            b: tensor4(b, idx.len(), shape, device),
            temperature: self.temperature,
        }
    }
}

/// A loss alone, once per image (SimCLR pre-training has no other metric).
pub struct LossOutput {
    /// The batch's loss once per image.
    pub loss: Tensor<1>,
}

impl ItemLazy for LossOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
        })
    }
}

impl Adaptor<LossInput> for LossOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl Objective for SimClr {
    type Batch = Views;
    type Output = LossOutput;

    fn objective(&self, batch: Views) -> (Tensor<1>, LossOutput) {
        let n = batch.a.dims()[0];
        let z1 = self.project(batch.a);
        let z2 = self.project(batch.b);
        let loss = nt_xent(z1, z2, batch.temperature);
        let output = LossOutput {
            loss: per_image(&loss, n),
        };
        (loss, output)
    }
}

/// burn-train's loss metric (pre-training has no test split).
pub fn pretraining_metrics(training: Training<SimClr>) -> Training<SimClr> {
    training.metric_train_numeric(LossMetric::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches of the item indices themselves.
    struct Ids;

    impl Batcher<usize, Vec<usize>> for Ids {
        fn batch(&self, items: Vec<usize>, _device: &Device) -> Vec<usize> {
            items
        }
    }

    fn epochs(loader: &dyn DataLoader<Vec<usize>>, n: usize) -> Vec<Vec<Vec<usize>>> {
        (0..n)
            .map(|_| loader.iter().map(Result::unwrap).collect())
            .collect()
    }

    /// burn's loader, as `sl-train` builds it: shuffled anew each epoch from its seed alone (the
    /// same seed, the same orders), in batches of the size asked, a last batch of one dropped.
    #[test]
    fn the_training_loader_shuffles_from_its_seed_and_drops_a_last_batch_of_one() {
        let a = epochs(&*train_loader(7, 2, Ids, 11), 3);
        for epoch in &a {
            assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
        }
        assert_ne!(a[0], a[1], "each epoch is shuffled anew");
        assert_eq!(a, epochs(&*train_loader(7, 2, Ids, 11), 3));
        assert_ne!(a, epochs(&*train_loader(7, 2, Ids, 12), 3));
        // A last batch of two is kept; the test loader keeps everything, in order.
        let b = epochs(&*train_loader(8, 3, Ids, 11), 1);
        assert_eq!(b[0].iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2]);
        let t = epochs(&*test_loader(7, 3, Ids), 1);
        assert_eq!(t[0], [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
    }

    /// The epoch's mIoU is that of the summed confusion matrix, not a mean of the batches'.
    #[test]
    fn mean_iou_metric_sums_the_confusion_over_the_epoch() {
        let device = Device::default();
        let input = |pred: &[usize], labels: &[i64]| {
            let n = pred.len();
            let mut logits = vec![0.0f32; n * 2];
            for (i, &p) in pred.iter().enumerate() {
                logits[i * 2 + p] = 1.0;
            }
            MeanIouInput {
                logits: Tensor::from_data(TensorData::new(logits, [n, 2]), &device),
                labels: ints(labels.to_vec(), &device),
                images: 1,
            }
        };
        let meta = MetricMetadata {
            progress: burn::data::dataloader::Progress::new(1, 1, None),
            iteration: None,
            lr: None,
        };
        let mut metric = MeanIouMetric::new(2);
        // Labels 1, 2 are classes 0, 1; label 0 is ignored whatever is predicted.
        metric
            .update(&input(&[0, 0, 1], &[1, 2, 0]), &meta)
            .unwrap();
        metric.update(&input(&[1, 1], &[2, 2]), &meta).unwrap();
        // Summed: class 0 1 right; class 1 2 right, 1 predicted as 0.
        let expected = mean_iou(&[1, 0, 1, 2], 2);
        assert!((expected - 100.0 * (1.0 / 2.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        match metric.final_value() {
            NumericEntry::Final(v) => assert_eq!(v, expected),
            other => panic!("{other:?}"),
        }
        metric.clear();
        metric.update(&input(&[1], &[2]), &meta).unwrap();
        assert!(matches!(metric.final_value(), NumericEntry::Final(v) if v == 100.0));
    }
}
