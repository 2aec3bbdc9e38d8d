//! One seed of one optimizer: the drivers (classification, segmentation, SimCLR pre-training
//! and linear evaluation) on burn-train's `Learner` ([`crate::learner`]), and the seed's
//! summary.
//!
//! Seeding: the seed's RNG (`ChaCha8Rng::seed_from_u64(seed)`) draws the model's weights, then
//! the seed of burn's shuffle of the training set and the seed of the augmentation RNG, in
//! that order (SimCLR's linear evaluation: its probe's weights and its shuffle after
//! pre-training's). Nothing else draws: the same seed gives the same records.

use std::path::Path;
use std::sync::{Arc, Mutex};

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use lrfree_runkit::RunError;
use lrfree_runkit::files::write_json_atomic;
use lrfree_runkit::records::seed_dir;
use lrfree_runkit::records::sl::{Phase, SlSeedSummary};

use crate::augment::{Normalize, class_batch};
use crate::config::SlConfig;
use crate::data::{self, ImageSet, SegSet, Split};
use crate::formats;
pub use crate::learner::mean_iou;
use crate::learner::{
    FeatureBatcher, Fit, ImageBatcher, MaskBatcher, Records, SeedRecords, ViewBatcher,
    classification_metrics, fit, lock, no_test_loader, pretraining_metrics, segmentation_metrics,
    test_loader, train_loader,
};
use crate::models::{Classifier, ModelKind, SegNet, Shape, SimClr, linear};

/// The data of a run, loaded once and shared by all seeds.
#[derive(Debug, Clone)]
pub enum Dataset {
    /// Labelled images (and, for SimCLR on STL-10, unlabelled ones).
    Classes {
        /// Train and test images.
        split: Split<Arc<ImageSet>>,
        /// Extra images for SimCLR pre-training.
        unlabeled: Option<Arc<ImageSet>>,
    },
    /// Images with per-pixel labels.
    Segments(Split<Arc<SegSet>>),
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
        let (mut split, unlabeled) = match config.task.as_str() {
            "digits" => (data::digits(config.data.as_deref()).map_err(usage)?, None),
            "cifar100" => (
                formats::cifar100(&dir()?, config.cifar_labels == "fine").map_err(usage)?,
                None,
            ),
            "imagefolder" => (
                formats::image_folder(&dir()?, size(64)).map_err(usage)?.0,
                None,
            ),
            "stl10" => {
                let want = (config.model_kind()? == ModelKind::Simclr && config.max_unlabeled > 0)
                    .then_some(config.max_unlabeled);
                formats::stl10(&dir()?, size(96), want).map_err(usage)?
            }
            "ade20k" => {
                let split = formats::ade20k(&dir()?, size(64), config.classes.unwrap_or(150))
                    .map_err(usage)?;
                return Ok(Self::Segments(Split {
                    train: Arc::new(split.train),
                    test: Arc::new(split.test),
                }));
            }
            other => return Err(RunError::Usage(format!("unknown task `{other}`"))),
        };
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
        // Shared by the seeds and their data loaders (which burn-train needs `'static`).
        Ok(Self::Classes {
            split: Split {
                train: Arc::new(split.train),
                test: Arc::new(split.test),
            },
            unlabeled: unlabeled.map(Arc::new),
        })
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

/// A seed's directory, devices and records.
struct Seed<'a> {
    job: &'a SeedJob<'a>,
    dir: std::path::PathBuf,
    /// The training device (autodiff).
    device: Device,
    /// Its inner device, for evaluation outside burn-train (SimCLR's features).
    plain: Device,
    rng: ChaCha8Rng,
    records: Records,
}

impl Seed<'_> {
    fn save<M: Module>(&self, model: &M, name: &str) -> Result<(), RunError> {
        let path = self.dir.join(name);
        model
            .valid()
            .save_file(&path)
            .map_err(|e| RunError::io(&path, format!("{e:?}")))
    }

    /// One phase in burn-train, its files in `burn-train/<sub>` of the seed's directory.
    fn fit<'f, B>(
        &'f self,
        dir: &'f Path,
        phase: Phase,
        epochs: usize,
        train: Arc<dyn burn::data::dataloader::DataLoader<B>>,
        test: Arc<dyn burn::data::dataloader::DataLoader<B>>,
    ) -> Result<Fit<'f, B>, RunError> {
        Ok(Fit {
            dir,
            phase,
            epochs,
            optimizer: self.job.config.optimizer(self.job.optimizer)?,
            bound: self.job.config.lr_divergence_bound,
            train,
            test,
        })
    }

    /// The seeds of burn's shuffle and of the augmentation, drawn after the model's weights.
    fn data_seeds(&mut self) -> (u64, ChaCha8Rng) {
        let shuffle = self.rng.next_u64();
        (shuffle, ChaCha8Rng::seed_from_u64(self.rng.next_u64()))
    }

    fn diverged(&self) -> bool {
        lock(&self.records).divergence.is_some()
    }
}

/// Run one seed to the end (or its divergence) and write its summary.
///
/// The seed's directory is finished when its `summary.json` is there (written last, atomically):
/// `epochs.csv` rows are appended per epoch, `burn-train/` holds burn-train's metric logs as it
/// writes them, and a killed run leaves both without a summary, which the readers leave out.
pub fn run_seed(job: &SeedJob<'_>, device: &Device) -> Result<SlSeedSummary, RunError> {
    let dir = seed_dir(job.run_dir, job.optimizer, job.seed);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let records = SeedRecords::create(&dir, format!("{} seed {}", job.optimizer, job.seed))?;
    let mut s = Seed {
        job,
        dir: dir.clone(),
        device: device.clone().autodiff(),
        plain: device.clone().inner(),
        rng: ChaCha8Rng::seed_from_u64(job.seed),
        records,
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
    let summary = {
        let r = lock(&s.records);
        if let Some(d) = &r.divergence {
            eprintln!(
                "{} seed {}: diverged in epoch {} (step {}): {}",
                job.optimizer, job.seed, d.epoch, d.step, d.reason
            );
        }
        let last = r.last_row.clone().unwrap_or_default();
        SlSeedSummary {
            optimizer: job.optimizer.to_string(),
            seed: job.seed,
            task: job.config.task.clone(),
            model: kind.name().to_string(),
            epochs: job.config.epochs as u64,
            epochs_done: r.epochs_done,
            complete: true,
            final_train_loss: r.final_train_loss,
            final_test_accuracy: last.test_accuracy,
            final_test_miou: last.test_miou,
            best_test_metric: r.best,
            diverged: r.divergence.is_some(),
            divergence: r.divergence.clone(),
            max_lr: r.max_lr,
            wall_s: r.start.elapsed().as_secs_f64(),
        }
    };
    write_json_atomic(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}

fn train_classifier(
    s: &mut Seed<'_>,
    kind: ModelKind,
    split: &Split<Arc<ImageSet>>,
) -> Result<(), RunError> {
    let cfg = s.job.config;
    let shape = Shape {
        c: split.train.channels,
        h: split.train.height,
        w: split.train.width,
    };
    let model = Classifier::new(
        kind,
        &mut s.rng,
        shape,
        split.train.classes,
        &cfg.model_options,
        &s.device,
    );
    let (shuffle, augment) = s.data_seeds();
    let norm = s.job.norm.clone();
    let train = ImageBatcher::train(
        split.train.clone(),
        cfg.augment.clone(),
        norm.clone(),
        augment,
    );
    let test = ImageBatcher::test(split.test.clone(), norm);
    let dir = s.dir.join("burn-train");
    let phase = s.fit(
        &dir,
        Phase::Train,
        cfg.epochs,
        train_loader(split.train.len(), cfg.batch_size, train, shuffle),
        test_loader(split.test.len(), cfg.eval_batch_size, test),
    )?;
    let model = fit(&s.records, model, phase, classification_metrics)?;
    s.save(&model, "model.bpk")?;
    if let Classifier::Cnn(cnn) = &model {
        // The segmentation model fine-tunes from this file (`pretrained`).
        s.save(&cnn.encoder, "encoder.bpk")?;
    }
    Ok(())
}

fn train_segmentation(s: &mut Seed<'_>, split: &Split<Arc<SegSet>>) -> Result<(), RunError> {
    let cfg = s.job.config;
    let train = &split.train;
    let classes = train.images.classes;
    let mut model = SegNet::new(
        &mut s.rng,
        train.images.channels,
        &cfg.model_options.cnn_widths,
        classes,
        &s.device,
    );
    if let Some(path) = &cfg.pretrained {
        model.encoder = model.encoder.clone().try_load_file(path).map_err(|e| {
            RunError::Usage(format!("pretrained encoder {}: {e:?}", path.display()))
        })?;
    }
    let (shuffle, augment) = s.data_seeds();
    let norm = s.job.norm.clone();
    let batcher = MaskBatcher::train(train.clone(), cfg.augment.clone(), norm.clone(), augment);
    let test = MaskBatcher::test(split.test.clone(), norm);
    let dir = s.dir.join("burn-train");
    let phase = s.fit(
        &dir,
        Phase::Train,
        cfg.epochs,
        train_loader(train.images.len(), cfg.batch_size, batcher, shuffle),
        test_loader(split.test.images.len(), cfg.eval_batch_size, test),
    )?;
    let model = fit(&s.records, model, phase, |t| {
        segmentation_metrics(t, classes)
    })?;
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
    let mut rng = ChaCha8Rng::seed_from_u64(0); // unused: no augmentation
    let (mut out, mut dim) = (Vec::new(), 0);
    let idx: Vec<usize> = (0..set.len()).collect();
    for chunk in idx.chunks(batch) {
        let (x, _) = class_batch(set, chunk, &Default::default(), norm, &mut rng, false);
        let x = Tensor::from_data(
            TensorData::new(x, [chunk.len(), shape.c, shape.h, shape.w]),
            device,
        );
        let f = model.features(x);
        dim = f.dims()[1];
        out.extend(f.into_data().iter::<f32>());
    }
    (out, dim)
}

fn train_simclr(
    s: &mut Seed<'_>,
    split: &Split<Arc<ImageSet>>,
    unlabeled: Option<&Arc<ImageSet>>,
) -> Result<(), RunError> {
    let cfg = s.job.config;
    let model = SimClr::new(
        &mut s.rng,
        split.train.channels,
        &cfg.model_options,
        &s.device,
    );
    // Pre-training sees the training images and the unlabelled ones, without labels.
    let mut pool = (*split.train).clone();
    if let Some(u) = unlabeled {
        pool.pixels.extend_from_slice(&u.pixels);
    }
    pool.labels.clear();
    let pool = Arc::new(pool);
    let (shuffle, augment) = s.data_seeds();
    let views = ViewBatcher {
        set: pool.clone(),
        norm: s.job.norm.clone(),
        temperature: cfg.simclr.temperature,
        rng: Mutex::new(augment),
    };
    let dir = s.dir.join("burn-train").join("pretrain");
    let phase = s.fit(
        &dir,
        Phase::Pretrain,
        cfg.epochs,
        train_loader(pool.len(), cfg.batch_size, views, shuffle),
        no_test_loader(),
    )?;
    let model = fit(&s.records, model, phase, pretraining_metrics)?;
    s.save(&model, "model.bpk")?;
    if s.diverged() {
        return Ok(());
    }

    // Linear evaluation: a fresh instance of the same optimizer trains a linear classifier on
    // the frozen encoder's features.
    let (train_f, dim) = features(
        &model,
        &split.train,
        s.job.norm,
        cfg.eval_batch_size,
        &s.plain,
    );
    let (test_f, _) = features(
        &model,
        &split.test,
        s.job.norm,
        cfg.eval_batch_size,
        &s.plain,
    );
    let classes = split.train.classes;
    let probe: Linear = linear(&mut s.rng, dim, classes, &s.device);
    let shuffle = s.rng.next_u64();
    lock(&s.records).steps = 0;
    let train = FeatureBatcher {
        features: Arc::new(train_f),
        dim,
        set: split.train.clone(),
    };
    let test = FeatureBatcher {
        features: Arc::new(test_f),
        dim,
        set: split.test.clone(),
    };
    let dir = s.dir.join("burn-train").join("linear");
    let phase = s.fit(
        &dir,
        Phase::Linear,
        cfg.simclr.linear_epochs,
        train_loader(split.train.len(), cfg.batch_size, train, shuffle),
        test_loader(split.test.len(), cfg.eval_batch_size, test),
    )?;
    let probe = fit(&s.records, probe, phase, classification_metrics)?;
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
