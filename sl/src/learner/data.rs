//! The data of the drivers, through burn's data loader: training batches shuffled each epoch
//! from a seed (rand 0.10's `StdRng`, as `DataLoaderBuilder::shuffle`), a last batch of one
//! dropped (batch norm needs two), test batches in order; batchers that build each model's
//! batch on the host (see [`crate::augment`]), a training batcher augmenting from its own
//! seeded RNG. No worker threads: batches are drawn in order on the training thread.

use std::sync::{Arc, Mutex};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{BatchDataLoader, BatchStrategy, DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::lock;
use crate::augment::{Augment, Normalize, class_batch, seg_batch, simclr_batch};
use crate::data::{ImageSet, SegSet};
use crate::models::Shape;

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

/// No batches: a phase without a test split (SimCLR pre-training); burn-train's validation
/// then runs over nothing.
pub fn no_test_loader<B: Send + Clone + std::fmt::Debug + 'static>() -> Arc<dyn DataLoader<B>> {
    test_loader(0, 1, Nothing)
}

/// The batcher of [`no_test_loader`], never called.
struct Nothing;

impl<B> Batcher<usize, B> for Nothing {
    fn batch(&self, _items: Vec<usize>, _device: &Device) -> B {
        unreachable!("an empty loader makes no batch")
    }
}

fn tensor4(values: Vec<f32>, n: usize, s: Shape, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [n, s.c, s.h, s.w]), device)
}

pub(crate) fn ints(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
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
}
