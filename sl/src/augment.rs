//! Augmentations and mini-batches, on the host, drawn from the seed's own RNG so a run is
//! reproducible whatever runs in other threads.
//!
//! Classification: random crop after zero padding and horizontal flip (the CIFAR recipe),
//! then per-channel normalisation. SimCLR: random resized crop, flip, colour jitter and
//! random grayscale (Chen et al. 2020), drawn independently for the two views.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::data::{ImageSet, SegSet};

/// Training-time augmentation of classification and segmentation batches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Pad by this many zero pixels on each side, then crop back to the original size at a
    /// random offset (0: no crop).
    #[serde(default)]
    pub crop_pad: usize,
    /// Flip left–right with probability 1/2.
    #[serde(default)]
    pub hflip: bool,
}

/// Per-channel normalisation `(x/max − mean)/std`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    /// Channel means of the training set (in `[0, 1]` units).
    pub mean: Vec<f32>,
    /// Channel standard deviations.
    pub std: Vec<f32>,
    /// The byte value of full intensity.
    pub max_value: f32,
}

impl Normalize {
    /// From the training set's statistics.
    pub fn fit(train: &ImageSet) -> Self {
        let (mean, std) = train.channel_stats();
        Self {
            mean,
            std,
            max_value: train.max_value,
        }
    }

    fn unit(&self, img: &[u8]) -> Vec<f32> {
        img.iter().map(|&p| f32::from(p) / self.max_value).collect()
    }

    fn apply(&self, x: &mut [f32], plane: usize) {
        for (c, ch) in x.chunks_exact_mut(plane).enumerate() {
            for v in ch {
                *v = (*v - self.mean[c]) / self.std[c];
            }
        }
    }
}

/// Crop `src` (`C` planes of `h×w`) at offset `(dy, dx)` of its `pad`-padded version.
fn crop<T: Copy>(
    src: &[T],
    (c, h, w): (usize, usize, usize),
    pad: usize,
    (dy, dx): (usize, usize),
    fill: T,
) -> Vec<T> {
    let mut out = vec![fill; c * h * w];
    for ch in 0..c {
        for y in 0..h {
            let sy = (y + dy) as isize - pad as isize;
            if sy < 0 || sy >= h as isize {
                continue;
            }
            for x in 0..w {
                let sx = (x + dx) as isize - pad as isize;
                if sx >= 0 && sx < w as isize {
                    out[ch * h * w + y * w + x] = src[ch * h * w + sy as usize * w + sx as usize];
                }
            }
        }
    }
    out
}

fn flip<T>(x: &mut [T], w: usize) {
    for row in x.chunks_exact_mut(w) {
        row.reverse();
    }
}

/// A classification batch: normalised images `B×C×H×W` and labels.
pub fn class_batch<R: Rng + ?Sized>(
    set: &ImageSet,
    idx: &[usize],
    aug: &Augment,
    norm: &Normalize,
    rng: &mut R,
    train: bool,
) -> (Vec<f32>, Vec<i64>) {
    let (c, h, w) = (set.channels, set.height, set.width);
    let mut x = Vec::with_capacity(idx.len() * set.image_len());
    for &i in idx {
        let mut img = norm.unit(set.image(i));
        if train {
            if aug.crop_pad > 0 {
                let (dy, dx) = (
                    rng.random_range(0..=2 * aug.crop_pad),
                    rng.random_range(0..=2 * aug.crop_pad),
                );
                img = crop(&img, (c, h, w), aug.crop_pad, (dy, dx), 0.0);
            }
            if aug.hflip && rng.random_bool(0.5) {
                flip(&mut img, w);
            }
        }
        norm.apply(&mut img, h * w);
        x.extend(img);
    }
    let y = idx
        .iter()
        .map(|&i| i64::from(set.labels.get(i).copied().unwrap_or(0)))
        .collect();
    (x, y)
}

/// A segmentation batch: normalised images and their masks (`B×H×W`; 0 = ignore), with the
/// same crop and flip applied to both.
pub fn seg_batch<R: Rng + ?Sized>(
    set: &SegSet,
    idx: &[usize],
    aug: &Augment,
    norm: &Normalize,
    rng: &mut R,
    train: bool,
) -> (Vec<f32>, Vec<u8>) {
    let imgs = &set.images;
    let (c, h, w) = (imgs.channels, imgs.height, imgs.width);
    let mut x = Vec::with_capacity(idx.len() * imgs.image_len());
    let mut m = Vec::with_capacity(idx.len() * h * w);
    for &i in idx {
        let mut img = norm.unit(imgs.image(i));
        let mut mask = set.masks[i * h * w..(i + 1) * h * w].to_vec();
        if train {
            if aug.crop_pad > 0 {
                let (dy, dx) = (
                    rng.random_range(0..=2 * aug.crop_pad),
                    rng.random_range(0..=2 * aug.crop_pad),
                );
                img = crop(&img, (c, h, w), aug.crop_pad, (dy, dx), 0.0);
                mask = crop(&mask, (1, h, w), aug.crop_pad, (dy, dx), 0);
            }
            if aug.hflip && rng.random_bool(0.5) {
                flip(&mut img, w);
                flip(&mut mask, w);
            }
        }
        norm.apply(&mut img, h * w);
        x.extend(img);
        m.extend(mask);
    }
    (x, m)
}

/// Bilinear sample of plane `p` (`h×w`) at real coordinates (clamped to the border).
fn bilinear(p: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    let (y, x) = (y.clamp(0.0, (h - 1) as f32), x.clamp(0.0, (w - 1) as f32));
    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
    let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
    let (fy, fx) = (y - y0 as f32, x - x0 as f32);
    let top = p[y0 * w + x0] * (1.0 - fx) + p[y0 * w + x1] * fx;
    let bottom = p[y1 * w + x0] * (1.0 - fx) + p[y1 * w + x1] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// One SimCLR view of an image in `[0, 1]` units (`C×h×w`).
pub fn simclr_view<R: Rng + ?Sized>(
    img: &[f32],
    c: usize,
    h: usize,
    w: usize,
    rng: &mut R,
) -> Vec<f32> {
    // Random resized crop: 20–100 % of the area, aspect ratio 3/4–4/3, resized back to h×w.
    let area = (h * w) as f32 * rng.random_range(0.2f32..1.0);
    let ratio = rng.random_range((0.75f32).ln()..(4.0f32 / 3.0).ln()).exp();
    let ch = (area / ratio).sqrt().clamp(1.0, h as f32);
    let cw = (area * ratio).sqrt().clamp(1.0, w as f32);
    let top = rng.random_range(0.0..=(h as f32 - ch));
    let left = rng.random_range(0.0..=(w as f32 - cw));
    let flip = rng.random_bool(0.5);
    let mut out = vec![0f32; c * h * w];
    for k in 0..c {
        let plane = &img[k * h * w..(k + 1) * h * w];
        for y in 0..h {
            let sy = top + (y as f32 + 0.5) * ch / h as f32 - 0.5;
            for x in 0..w {
                let xx = if flip { w - 1 - x } else { x };
                let sx = left + (xx as f32 + 0.5) * cw / w as f32 - 0.5;
                out[k * h * w + y * w + x] = bilinear(plane, h, w, sy, sx);
            }
        }
    }
    // Colour jitter with probability 0.8: brightness, contrast, saturation, each ×U(0.6, 1.4).
    let plane = h * w;
    if rng.random_bool(0.8) {
        let b = rng.random_range(0.6f32..1.4);
        out.iter_mut().for_each(|v| *v = (*v * b).clamp(0.0, 1.0));
        let contrast = rng.random_range(0.6f32..1.4);
        let mean = out.iter().sum::<f32>() / out.len() as f32;
        out.iter_mut()
            .for_each(|v| *v = ((*v - mean) * contrast + mean).clamp(0.0, 1.0));
        if c == 3 {
            let s = rng.random_range(0.6f32..1.4);
            for i in 0..plane {
                let grey = 0.299 * out[i] + 0.587 * out[plane + i] + 0.114 * out[2 * plane + i];
                for k in 0..3 {
                    out[k * plane + i] = ((out[k * plane + i] - grey) * s + grey).clamp(0.0, 1.0);
                }
            }
        }
    }
    // Random grayscale with probability 0.2.
    if c == 3 && rng.random_bool(0.2) {
        for i in 0..plane {
            let grey = 0.299 * out[i] + 0.587 * out[plane + i] + 0.114 * out[2 * plane + i];
            for k in 0..3 {
                out[k * plane + i] = grey;
            }
        }
    }
    out
}

/// Two independently augmented, normalised views of each image, `B×C×H×W` each.
pub fn simclr_batch<R: Rng + ?Sized>(
    set: &ImageSet,
    idx: &[usize],
    norm: &Normalize,
    rng: &mut R,
) -> (Vec<f32>, Vec<f32>) {
    let (c, h, w) = (set.channels, set.height, set.width);
    let (mut a, mut b) = (
        Vec::with_capacity(idx.len() * set.image_len()),
        Vec::with_capacity(idx.len() * set.image_len()),
    );
    for &i in idx {
        let img = norm.unit(set.image(i));
        for out in [&mut a, &mut b] {
            let mut v = simclr_view(&img, c, h, w, rng);
            norm.apply(&mut v, h * w);
            out.extend(v);
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn crop_shifts_and_pads_with_fill() {
        let src: Vec<u8> = (1..=9).collect(); // 3×3
        // Offset (0, 0) of the 1-padded image: shifted down-right, zeros on top and left.
        assert_eq!(
            crop(&src, (1, 3, 3), 1, (0, 0), 0),
            vec![0, 0, 0, 0, 1, 2, 0, 4, 5]
        );
        assert_eq!(crop(&src, (1, 3, 3), 1, (1, 1), 0), src);
    }

    #[test]
    fn segmentation_crop_and_flip_move_image_and_mask_together() {
        let images = ImageSet {
            channels: 1,
            height: 4,
            width: 4,
            pixels: (0..16).collect(),
            labels: vec![],
            classes: 16,
            max_value: 255.0,
        };
        let set = SegSet {
            masks: (0..16).collect(),
            images,
        };
        let norm = Normalize {
            mean: vec![0.0],
            std: vec![1.0],
            max_value: 1.0,
        };
        let aug = Augment {
            crop_pad: 1,
            hflip: true,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..10 {
            let (x, m) = seg_batch(&set, &[0], &aug, &norm, &mut rng, true);
            for (xv, mv) in x.iter().zip(&m) {
                assert_eq!(*xv, f32::from(*mv), "pixel and label moved apart");
            }
        }
    }

    #[test]
    fn simclr_views_differ_but_keep_shape_and_range() {
        let img: Vec<f32> = (0..3 * 8 * 8).map(|i| (i % 17) as f32 / 16.0).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let a = simclr_view(&img, 3, 8, 8, &mut rng);
        let b = simclr_view(&img, 3, 8, 8, &mut rng);
        assert_eq!(a.len(), img.len());
        assert_ne!(a, b);
        assert!(a.iter().chain(&b).all(|v| (0.0..=1.0).contains(v)));
    }
}
