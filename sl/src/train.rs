//! One seed of one optimizer: the training loops (classification, segmentation, SimCLR
//! pre-training and linear evaluation), evaluation, divergence checks and records.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_lrfree::registry::OptimizerSpec;
use burn_lrfree::{LrFreeOptimizer, Rejected, StepModule};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use lrfree_runkit::RunError;
use lrfree_runkit::divergence;
use lrfree_runkit::files::write_json_atomic;
use lrfree_runkit::records::sl::{EpochRow, EpochsWriter, Phase, SlDivergence, SlSeedSummary};
use lrfree_runkit::records::{fold_max, seed_dir};

use crate::augment::{Normalize, class_batch, seg_batch, simclr_batch};
use crate::config::SlConfig;
use crate::data::{self, ImageSet, SegSet, Split};
use crate::formats;
use crate::models::{
    Classifier, ModelKind, SegNet, Shape, SimClr, cross_entropy, linear, masked_cross_entropy,
    nt_xent,
};

/// The data of a run, loaded once and shared by all seeds.
#[derive(Debug, Clone)]
pub enum Dataset {
    /// Labelled images (and, for SimCLR on STL-10, unlabelled ones).
    Classes {
        /// Train and test images.
        split: Split<ImageSet>,
        /// Extra images for SimCLR pre-training.
        unlabeled: Option<ImageSet>,
    },
    /// Images with per-pixel labels.
    Segments(Split<SegSet>),
}

impl Dataset {
    /// Load the task's data from `config.data` (the shipped digits when that is empty).
    pub fn load(config: &SlConfig) -> Result<Self, RunError> {
        let usage = |e: data::DataError| RunError::Usage(e.to_string());
        let dir = || {
            config.data.clone().ok_or_else(|| {
                RunError::Usage(format!(
                    "task `{}` needs its data: give --data DIR or `data = \"DIR\"`",
                    config.task
                ))
            })
        };
        let size = |default: usize| config.image_size.unwrap_or(default);
        let mut dataset = match config.task.as_str() {
            "digits" => Self::Classes {
                split: data::digits(config.data.as_deref()).map_err(usage)?,
                unlabeled: None,
            },
            "cifar100" => Self::Classes {
                split: formats::cifar100(&dir()?, config.cifar_labels == "fine").map_err(usage)?,
                unlabeled: None,
            },
            "imagefolder" => Self::Classes {
                split: formats::image_folder(&dir()?, size(64)).map_err(usage)?.0,
                unlabeled: None,
            },
            "stl10" => {
                let want = (config.model_kind()? == ModelKind::Simclr && config.max_unlabeled > 0)
                    .then_some(config.max_unlabeled);
                let (split, unlabeled) = formats::stl10(&dir()?, size(96), want).map_err(usage)?;
                Self::Classes { split, unlabeled }
            }
            "ade20k" => Self::Segments(
                formats::ade20k(&dir()?, size(64), config.classes.unwrap_or(150)).map_err(usage)?,
            ),
            other => return Err(RunError::Usage(format!("unknown task `{other}`"))),
        };
        if let Self::Classes { split, .. } = &mut dataset {
            if config.max_train > 0 {
                split.train.truncate(config.max_train);
            }
            if config.max_test > 0 {
                split.test.truncate(config.max_test);
            }
            if split.train.len() < 2 || split.test.is_empty() {
                return Err(RunError::Usage(format!(
                    "too few images: {} train, {} test",
                    split.train.len(),
                    split.test.len()
                )));
            }
        }
        Ok(dataset)
    }

    /// The training images.
    pub fn train_images(&self) -> &ImageSet {
        match self {
            Self::Classes { split, .. } => &split.train,
            Self::Segments(split) => &split.train.images,
        }
    }

    /// Image shape.
    pub fn shape(&self) -> Shape {
        let t = self.train_images();
        Shape {
            c: t.channels,
            h: t.height,
            w: t.width,
        }
    }

    /// One line: sizes and classes.
    pub fn describe(&self) -> String {
        let s = self.shape();
        match self {
            Self::Classes { split, unlabeled } => format!(
                "{} train / {} test images of {}×{}×{}, {} classes{}",
                split.train.len(),
                split.test.len(),
                s.c,
                s.h,
                s.w,
                split.train.classes,
                unlabeled
                    .as_ref()
                    .map_or(String::new(), |u| format!(", {} unlabelled", u.len()))
            ),
            Self::Segments(split) => format!(
                "{} train / {} test images of {}×{}×{} with masks, {} classes",
                split.train.images.len(),
                split.test.images.len(),
                s.c,
                s.h,
                s.w,
                split.train.images.classes
            ),
        }
    }
}

/// One seed's job.
pub struct SeedJob<'a> {
    /// The configuration.
    pub config: &'a SlConfig,
    /// The data.
    pub data: &'a Dataset,
    /// Normalisation fitted on the training images.
    pub norm: &'a Normalize,
    /// The run directory.
    pub run_dir: &'a Path,
    /// Optimizer registry name.
    pub optimizer: &'a str,
    /// The seed.
    pub seed: u64,
}

/// What a seed is doing: counters, records, and whether it diverged.
struct Seed<'a> {
    job: &'a SeedJob<'a>,
    dir: PathBuf,
    device: Device,
    plain: Device,
    rng: ChaCha8Rng,
    writer: EpochsWriter,
    start: Instant,
    epoch: u64,
    steps: u64,
    max_lr: Option<f64>,
    best: Option<f64>,
    divergence: Option<SlDivergence>,
    final_train_loss: Option<f64>,
    last_row: Option<EpochRow>,
}

fn tensor4(values: Vec<f32>, n: usize, s: Shape, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [n, s.c, s.h, s.w]), device)
}

fn ints(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

fn host_ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().iter::<i64>().collect()
}

impl Seed<'_> {
    /// Shuffled batches of `0..n` (a last batch of one is dropped: batch norm needs two).
    fn batches(&mut self, n: usize, size: usize) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut self.rng);
        order
            .chunks(size)
            .filter(|c| c.len() >= 2)
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn diverge(&mut self, reason: String) {
        self.divergence.get_or_insert(SlDivergence {
            epoch: self.epoch,
            step: self.steps,
            reason,
        });
    }

    /// Backward, then one optimizer step. `None` when the seed diverged (the rule of
    /// [`lrfree_runkit::divergence`]: loss, estimate or D not finite, estimate over the bound;
    /// or the step refused).
    fn step<M: Module>(
        &mut self,
        opt: &mut dyn LrFreeOptimizer,
        lr: f64,
        model: &mut M,
        loss: Tensor<1>,
    ) -> Option<f64> {
        let value = loss.clone().into_scalar::<f64>();
        if let Some(reason) = divergence::non_finite("training loss", value) {
            self.diverge(reason);
            return None;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &*model);
        match opt.step_with_loss(lr, model.clone(), grads, value) {
            Ok(m) => *model = m,
            Err(Rejected { module, error }) => {
                *model = module;
                self.diverge(format!("step refused: {error}"));
                return None;
            }
        }
        self.steps += 1;
        let est = opt.estimate();
        let bound = self.job.config.lr_divergence_bound;
        if let Some(reason) = divergence::estimate("network", est.lr, est.d_next, bound) {
            self.diverge(reason);
            return None;
        }
        fold_max(&mut self.max_lr, est.lr);
        Some(value)
    }

    /// After a divergence stopped the phase, its last row: the loss as NaN.
    fn record_divergence(
        &mut self,
        phase: Phase,
        opt: &dyn LrFreeOptimizer,
    ) -> Result<(), RunError> {
        if self.divergence.is_none() {
            return Ok(());
        }
        let row = EpochRow {
            phase,
            train_loss: f64::NAN,
            ..Default::default()
        };
        self.record(row, opt)
    }

    /// Write the row, print progress.
    fn record(&mut self, mut row: EpochRow, opt: &dyn LrFreeOptimizer) -> Result<(), RunError> {
        let est = opt.estimate();
        (row.lr, row.d, row.steps, row.epoch) = (est.lr, est.d, self.steps, self.epoch);
        row.wall_s = self.start.elapsed().as_secs_f64();
        if let Some(m) = row.test_accuracy.or(row.test_miou) {
            self.best = Some(self.best.map_or(m, |b: f64| b.max(m)));
        }
        self.writer.write(&row)?;
        let metric = match (row.test_accuracy, row.test_miou) {
            (Some(a), _) => format!("  test acc {a:.2}%"),
            (_, Some(m)) => format!("  test mIoU {m:.2}%"),
            _ => String::new(),
        };
        let lr = row.lr.map_or(String::new(), |l| format!("  lr {l:.3e}"));
        eprintln!(
            "{} seed {}: {} epoch {}  loss {:.4}{metric}{lr}  ({:.1} s)",
            self.job.optimizer,
            self.job.seed,
            row.phase.as_str(),
            row.epoch,
            row.train_loss,
            row.wall_s
        );
        self.last_row = Some(row);
        Ok(())
    }

    fn save<M: Module>(&self, model: &M, name: &str) -> Result<(), RunError> {
        let path = self.dir.join(name);
        model
            .valid()
            .save_file(&path)
            .map_err(|e| RunError::io(&path, format!("{e:?}")))
    }

    fn optimizer(&self) -> Result<(Box<dyn LrFreeOptimizer>, f64), RunError> {
        let OptimizerSpec { config, lr } = self.job.config.optimizer(self.job.optimizer)?;
        let optimizer = config.build().map_err(|e| RunError::Usage(e.to_string()))?;
        Ok((optimizer, lr))
    }
}

/// Mean loss and accuracy (%) of `forward` on a labelled set, batch by batch, no augmentation.
fn eval_classes(
    forward: impl Fn(Tensor<4>) -> Tensor<2>,
    set: &ImageSet,
    norm: &Normalize,
    batch: usize,
    device: &Device,
) -> (f64, f64) {
    let shape = Shape {
        c: set.channels,
        h: set.height,
        w: set.width,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0); // unused: no augmentation at test time
    let (mut loss, mut correct) = (0.0, 0usize);
    let idx: Vec<usize> = (0..set.len()).collect();
    for chunk in idx.chunks(batch) {
        let (x, y) = class_batch(set, chunk, &Default::default(), norm, &mut rng, false);
        let logits = forward(tensor4(x, chunk.len(), shape, device));
        correct += host_ints(logits.clone().argmax(1))
            .iter()
            .zip(&y)
            .filter(|(p, t)| p == t)
            .count();
        loss += cross_entropy(logits, ints(y, device)).into_scalar::<f64>() * chunk.len() as f64;
    }
    (
        loss / set.len() as f64,
        100.0 * correct as f64 / set.len() as f64,
    )
}

/// Run one seed to the end (or its divergence) and write its summary.
pub fn run_seed(job: &SeedJob<'_>, device: &Device) -> Result<SlSeedSummary, RunError> {
    let dir = seed_dir(job.run_dir, job.optimizer, job.seed);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let writer = EpochsWriter::create(&dir.join("epochs.csv"))?;
    let mut s = Seed {
        job,
        dir: dir.clone(),
        device: device.clone().autodiff(),
        plain: device.clone().inner(),
        rng: ChaCha8Rng::seed_from_u64(job.seed),
        writer,
        start: Instant::now(),
        epoch: 0,
        steps: 0,
        max_lr: None,
        best: None,
        divergence: None,
        final_train_loss: None,
        last_row: None,
    };
    let kind = job.config.model_kind()?;
    // A log shows when each seed started (and that --jobs seeds overlap).
    eprintln!(
        "{} seed {}: training {} for {} epochs",
        job.optimizer,
        job.seed,
        kind.name(),
        job.config.epochs
    );
    match (kind, job.data) {
        (ModelKind::Segnet, Dataset::Segments(split)) => train_segmentation(&mut s, split)?,
        (ModelKind::Simclr, Dataset::Classes { split, unlabeled }) => {
            train_simclr(&mut s, split, unlabeled.as_ref())?
        }
        (ModelKind::Segnet | ModelKind::Simclr, _) | (_, Dataset::Segments(_)) => {
            return Err(RunError::Usage(format!(
                "model `{}` does not fit task `{}`",
                kind.name(),
                job.config.task
            )));
        }
        (_, Dataset::Classes { split, .. }) => train_classifier(&mut s, kind, split)?,
    }
    if let Some(d) = &s.divergence {
        eprintln!(
            "{} seed {}: diverged in epoch {} (step {}): {}",
            job.optimizer, job.seed, d.epoch, d.step, d.reason
        );
    }
    let last = s.last_row.clone().unwrap_or_default();
    let summary = SlSeedSummary {
        optimizer: job.optimizer.to_string(),
        seed: job.seed,
        task: job.config.task.clone(),
        model: kind.name().to_string(),
        epochs: job.config.epochs as u64,
        epochs_done: s.epoch,
        complete: true,
        final_train_loss: s.final_train_loss,
        final_test_accuracy: last.test_accuracy,
        final_test_miou: last.test_miou,
        best_test_metric: s.best,
        diverged: s.divergence.is_some(),
        divergence: s.divergence.clone(),
        max_lr: s.max_lr,
        wall_s: s.start.elapsed().as_secs_f64(),
    };
    write_json_atomic(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}

fn train_classifier(
    s: &mut Seed<'_>,
    kind: ModelKind,
    split: &Split<ImageSet>,
) -> Result<(), RunError> {
    let cfg = s.job.config;
    let shape = Shape {
        c: split.train.channels,
        h: split.train.height,
        w: split.train.width,
    };
    let mut model = Classifier::new(
        kind,
        &mut s.rng,
        shape,
        split.train.classes,
        &cfg.model_options,
        &s.device,
    );
    let (mut opt, lr) = s.optimizer()?;
    'epochs: for _ in 0..cfg.epochs {
        s.epoch += 1;
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for idx in s.batches(split.train.len(), cfg.batch_size) {
            let (x, y) = class_batch(
                &split.train,
                &idx,
                &cfg.augment,
                s.job.norm,
                &mut s.rng,
                true,
            );
            let logits = model.forward(tensor4(x, idx.len(), shape, &s.device));
            correct += host_ints(logits.clone().inner().argmax(1))
                .iter()
                .zip(&y)
                .filter(|(p, t)| p == t)
                .count();
            let loss = cross_entropy(logits, ints(y, &s.device));
            let Some(v) = s.step(opt.as_mut(), lr, &mut model, loss) else {
                break 'epochs;
            };
            loss_sum += v * idx.len() as f64;
            seen += idx.len();
        }
        let valid = model.valid();
        let (test_loss, test_acc) = eval_classes(
            |x| valid.forward(x),
            &split.test,
            s.job.norm,
            cfg.eval_batch_size,
            &s.plain,
        );
        let train_loss = loss_sum / seen.max(1) as f64;
        s.final_train_loss = Some(train_loss);
        let row = EpochRow {
            phase: Phase::Train,
            train_loss,
            train_accuracy: Some(100.0 * correct as f64 / seen.max(1) as f64),
            test_loss: Some(test_loss),
            test_accuracy: Some(test_acc),
            ..Default::default()
        };
        s.record(row, opt.as_ref())?;
    }
    // The epoch the divergence cut short still gets its row.
    s.record_divergence(Phase::Train, opt.as_ref())?;
    s.save(&model, "model.bpk")?;
    if let Classifier::Cnn(cnn) = &model {
        // The segmentation model fine-tunes from this file (`pretrained`).
        s.save(&cnn.encoder, "encoder.bpk")?;
    }
    Ok(())
}

/// Targets (class − 1, ignored pixels as 0) and weights (0 for ignored pixels) of masks.
fn seg_targets(masks: &[u8], device: &Device) -> (Tensor<1, Int>, Tensor<1>) {
    let t: Vec<i64> = masks
        .iter()
        .map(|&m| i64::from(m.saturating_sub(1)))
        .collect();
    let w: Vec<f32> = masks
        .iter()
        .map(|&m| if m > 0 { 1.0 } else { 0.0 })
        .collect();
    let n = w.len();
    (
        ints(t, device),
        Tensor::from_data(TensorData::new(w, [n]), device),
    )
}

/// Per-pixel logits `[B, K, H, W]` as `[B·H·W, K]`.
fn pixels(logits: Tensor<4>) -> Tensor<2> {
    let [b, k, h, w] = logits.dims();
    logits.permute([0, 2, 3, 1]).reshape([b * h * w, k])
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

fn train_segmentation(s: &mut Seed<'_>, split: &Split<SegSet>) -> Result<(), RunError> {
    let cfg = s.job.config;
    let train = &split.train;
    let shape = Shape {
        c: train.images.channels,
        h: train.images.height,
        w: train.images.width,
    };
    let classes = train.images.classes;
    let mut model = SegNet::new(
        &mut s.rng,
        shape.c,
        &cfg.model_options.cnn_widths,
        classes,
        &s.device,
    );
    if let Some(path) = &cfg.pretrained {
        model.encoder = model.encoder.clone().try_load_file(path).map_err(|e| {
            RunError::Usage(format!("pretrained encoder {}: {e:?}", path.display()))
        })?;
    }
    let (mut opt, lr) = s.optimizer()?;
    'epochs: for _ in 0..cfg.epochs {
        s.epoch += 1;
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        for idx in s.batches(train.images.len(), cfg.batch_size) {
            let (x, m) = seg_batch(train, &idx, &cfg.augment, s.job.norm, &mut s.rng, true);
            let (t, w) = seg_targets(&m, &s.device);
            let logits = pixels(model.forward(tensor4(x, idx.len(), shape, &s.device)));
            let Some(v) = s.step(
                opt.as_mut(),
                lr,
                &mut model,
                masked_cross_entropy(logits, t, w),
            ) else {
                break 'epochs;
            };
            loss_sum += v * idx.len() as f64;
            seen += idx.len();
        }
        let valid = model.valid();
        let mut confusion = vec![0u64; classes * classes];
        let (mut test_loss, mut rng) = (0.0, ChaCha8Rng::seed_from_u64(0));
        let idx: Vec<usize> = (0..split.test.images.len()).collect();
        for chunk in idx.chunks(cfg.eval_batch_size) {
            let (x, m) = seg_batch(
                &split.test,
                chunk,
                &Default::default(),
                s.job.norm,
                &mut rng,
                false,
            );
            let logits = pixels(valid.forward(tensor4(x, chunk.len(), shape, &s.plain)));
            for (p, &label) in host_ints(logits.clone().argmax(1)).iter().zip(&m) {
                if label > 0 {
                    confusion[usize::from(label - 1) * classes + *p as usize] += 1;
                }
            }
            let (t, w) = seg_targets(&m, &s.plain);
            test_loss +=
                masked_cross_entropy(logits, t, w).into_scalar::<f64>() * chunk.len() as f64;
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        s.final_train_loss = Some(train_loss);
        let row = EpochRow {
            phase: Phase::Train,
            train_loss,
            test_loss: Some(test_loss / idx.len().max(1) as f64),
            test_miou: Some(mean_iou(&confusion, classes)),
            ..Default::default()
        };
        s.record(row, opt.as_ref())?;
    }
    s.record_divergence(Phase::Train, opt.as_ref())?;
    s.save(&model, "model.bpk")
}

/// Encoder features of every image (no augmentation), `[N·F]` row-major, and `F`.
fn features(
    model: &SimClr,
    set: &ImageSet,
    norm: &Normalize,
    batch: usize,
    device: &Device,
) -> (Vec<f32>, usize) {
    let shape = Shape {
        c: set.channels,
        h: set.height,
        w: set.width,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (mut out, mut dim) = (Vec::new(), 0);
    let idx: Vec<usize> = (0..set.len()).collect();
    for chunk in idx.chunks(batch) {
        let (x, _) = class_batch(set, chunk, &Default::default(), norm, &mut rng, false);
        let f = model.features(tensor4(x, chunk.len(), shape, device));
        dim = f.dims()[1];
        out.extend(f.into_data().iter::<f32>());
    }
    (out, dim)
}

fn train_simclr(
    s: &mut Seed<'_>,
    split: &Split<ImageSet>,
    unlabeled: Option<&ImageSet>,
) -> Result<(), RunError> {
    let cfg = s.job.config;
    let shape = Shape {
        c: split.train.channels,
        h: split.train.height,
        w: split.train.width,
    };
    let mut model = SimClr::new(&mut s.rng, shape.c, &cfg.model_options, &s.device);
    // Pre-training sees the training images and the unlabelled ones, without labels.
    let pool = match unlabeled {
        Some(u) => {
            let mut all = split.train.clone();
            all.pixels.extend_from_slice(&u.pixels);
            all.labels.clear();
            all
        }
        None => split.train.clone(),
    };
    let (mut opt, lr) = s.optimizer()?;
    'epochs: for _ in 0..cfg.epochs {
        s.epoch += 1;
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        for idx in s.batches(pool.len(), cfg.batch_size) {
            let (a, b) = simclr_batch(&pool, &idx, s.job.norm, &mut s.rng);
            let n = idx.len();
            let z1 = model.project(tensor4(a, n, shape, &s.device));
            let z2 = model.project(tensor4(b, n, shape, &s.device));
            let Some(v) = s.step(
                opt.as_mut(),
                lr,
                &mut model,
                nt_xent(z1, z2, cfg.simclr.temperature),
            ) else {
                break 'epochs;
            };
            loss_sum += v * n as f64;
            seen += n;
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        s.final_train_loss = Some(train_loss);
        s.record(
            EpochRow {
                phase: Phase::Pretrain,
                train_loss,
                ..Default::default()
            },
            opt.as_ref(),
        )?;
    }
    s.save(&model, "model.bpk")?;
    if s.divergence.is_some() {
        s.record_divergence(Phase::Pretrain, opt.as_ref())?;
        return Ok(());
    }

    // Linear evaluation: a fresh instance of the same optimizer trains a linear classifier on
    // the frozen encoder's features.
    let frozen = model.valid();
    let (train_f, dim) = features(
        &frozen,
        &split.train,
        s.job.norm,
        cfg.eval_batch_size,
        &s.plain,
    );
    let (test_f, _) = features(
        &frozen,
        &split.test,
        s.job.norm,
        cfg.eval_batch_size,
        &s.plain,
    );
    let classes = split.train.classes;
    let mut probe: Linear = linear(&mut s.rng, dim, classes, &s.device);
    let (mut opt, lr) = s.optimizer()?;
    s.steps = 0;
    let rows = |f: &[f32], idx: &[usize], device: &Device| -> Tensor<2> {
        let mut v = Vec::with_capacity(idx.len() * dim);
        for &i in idx {
            v.extend_from_slice(&f[i * dim..(i + 1) * dim]);
        }
        Tensor::from_data(TensorData::new(v, [idx.len(), dim]), device)
    };
    let labels = |set: &ImageSet, idx: &[usize]| -> Vec<i64> {
        idx.iter().map(|&i| i64::from(set.labels[i])).collect()
    };
    'linear: for _ in 0..cfg.simclr.linear_epochs {
        s.epoch += 1;
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for idx in s.batches(split.train.len(), cfg.batch_size) {
            let y = labels(&split.train, &idx);
            let logits = probe.forward(rows(&train_f, &idx, &s.device));
            correct += host_ints(logits.clone().inner().argmax(1))
                .iter()
                .zip(&y)
                .filter(|(p, t)| p == t)
                .count();
            let Some(v) = s.step(
                opt.as_mut(),
                lr,
                &mut probe,
                cross_entropy(logits, ints(y, &s.device)),
            ) else {
                break 'linear;
            };
            loss_sum += v * idx.len() as f64;
            seen += idx.len();
        }
        let valid = probe.valid();
        let all: Vec<usize> = (0..split.test.len()).collect();
        let logits = valid.forward(rows(&test_f, &all, &s.plain));
        let y = labels(&split.test, &all);
        let acc = 100.0
            * host_ints(logits.clone().argmax(1))
                .iter()
                .zip(&y)
                .filter(|(p, t)| p == t)
                .count() as f64
            / all.len() as f64;
        let test_loss = cross_entropy(logits, ints(y, &s.plain)).into_scalar::<f64>();
        let row = EpochRow {
            phase: Phase::Linear,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: Some(100.0 * correct as f64 / seen.max(1) as f64),
            test_loss: Some(test_loss),
            test_accuracy: Some(acc),
            ..Default::default()
        };
        s.record(row, opt.as_ref())?;
    }
    s.record_divergence(Phase::Linear, opt.as_ref())?;
    s.save(&probe, "linear.bpk")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_iou_counts_classes_present() {
        // Class 0: 2 right, 1 predicted as 1; class 1: 1 right; class 2 absent.
        let c = [2, 1, 0, 0, 1, 0, 0, 0, 0];
        let iou = mean_iou(&c, 3);
        assert!(
            (iou - 100.0 * (2.0 / 3.0 + 1.0 / 2.0) / 2.0).abs() < 1e-9,
            "{iou}"
        );
    }
}
