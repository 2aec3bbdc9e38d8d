//! Datasets held in memory as bytes (`N×C×H×W`), the shipped digits, and mini-batches.
//!
//! Pixels stay `u8` until a batch is built, so CIFAR-100's 50,000 training images take 150 MB,
//! not 600. Every loader error is a [`DataError`] that names the file.

use std::io::Read;
use std::path::{Path, PathBuf};

/// A loader error: the file and what is wrong with it, one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", .path.display())]
pub struct DataError {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl DataError {
    /// An error about `path`.
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Labelled images, `N×C×H×W` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// Channels (1 or 3).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// All pixels, image after image, each channel-major then row-major.
    pub pixels: Vec<u8>,
    /// One class index per image (`< classes`); empty for unlabelled data.
    pub labels: Vec<u16>,
    /// Number of classes.
    pub classes: usize,
    /// The byte value of full intensity: 255, or 16 for the digits.
    pub max_value: f32,
}

impl ImageSet {
    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_len().max(1)
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image `i`'s bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Keep the first `n` images (a quick run on part of a big set).
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.pixels.truncate(n * self.image_len());
            self.labels.truncate(n);
        }
    }

    /// Per-channel mean and standard deviation of the pixels scaled to `[0, 1]`, for
    /// normalisation (computed on the training set).
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let plane = self.height * self.width;
        let mut sum = vec![0f64; self.channels];
        let mut sq = vec![0f64; self.channels];
        for img in self.pixels.chunks_exact(self.image_len()) {
            for (c, px) in img.chunks_exact(plane).enumerate() {
                for &p in px {
                    let v = f64::from(p) / f64::from(self.max_value);
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
        }
        let n = (self.len() * plane).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| ((s / n - m * m).max(0.0).sqrt().max(1e-3)) as f32)
            .collect();
        (mean.into_iter().map(|m| m as f32).collect(), std)
    }
}

/// Images with a per-pixel class map (segmentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SegSet {
    /// The images (their `labels` are empty).
    pub images: ImageSet,
    /// One byte per pixel, `N×H×W`: 0 = ignore, `k` = class `k − 1`.
    pub masks: Vec<u8>,
}

/// A training and a test split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<T> {
    /// Training data.
    pub train: T,
    /// Test data.
    pub test: T,
}

/// The shipped scikit-learn digits (UCI Optical Recognition of Handwritten Digits test set,
/// CC BY 4.0; see data/README.md), compiled into the binary so the default run needs no file.
pub const DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Parse the digits CSV (gzipped): 1,797 rows of 64 pixels (0..=16) and a label (0..=9).
pub fn parse_digits(gz: &[u8], origin: &Path) -> Result<ImageSet, DataError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .map_err(|e| DataError::new(origin, format!("not a gzipped CSV: {e}")))?;
    let mut pixels = Vec::with_capacity(1797 * 64);
    let mut labels = Vec::with_capacity(1797);
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let values: Vec<&str> = line.split(',').collect();
        if values.len() != 65 {
            return Err(DataError::new(
                origin,
                format!(
                    "line {}: {} values, expected 64 pixels and a label",
                    i + 1,
                    values.len()
                ),
            ));
        }
        for (j, v) in values.iter().enumerate() {
            let x: f64 = v.trim().parse().map_err(|_| {
                DataError::new(origin, format!("line {}: `{v}` is not a number", i + 1))
            })?;
            let (max, what) = if j == 64 {
                (9.0, "label")
            } else {
                (16.0, "pixel")
            };
            if !(0.0..=max).contains(&x) || x.fract() != 0.0 {
                return Err(DataError::new(
                    origin,
                    format!("line {}: {what} {v} outside 0..={max}", i + 1),
                ));
            }
            if j == 64 {
                labels.push(x as u16)
            } else {
                pixels.push(x as u8)
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::new(origin, "no rows"));
    }
    Ok(ImageSet {
        channels: 1,
        height: 8,
        width: 8,
        pixels,
        labels,
        classes: 10,
        max_value: 16.0,
    })
}

/// The shipped digits (or a digits CSV at `path`), split deterministically: within each
/// class, every fifth image (in file order) is a test image: 1,442 train / 355 test.
pub fn digits(path: Option<&Path>) -> Result<Split<ImageSet>, DataError> {
    let all = match path {
        None => parse_digits(DIGITS_GZ, Path::new("data/digits.csv.gz (built in)"))?,
        Some(p) => {
            let bytes =
                std::fs::read(p).map_err(|e| DataError::new(p, format!("cannot read: {e}")))?;
            parse_digits(&bytes, p)?
        }
    };
    let mut seen = [0usize; 10];
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, &label) in all.labels.iter().enumerate() {
        let rank = seen[label as usize];
        seen[label as usize] += 1;
        if rank % 5 == 4 {
            test.push(i)
        } else {
            train.push(i)
        }
    }
    Ok(Split {
        train: subset(&all, &train),
        test: subset(&all, &test),
    })
}

/// The images of `all` at `indices`, in that order.
pub fn subset(all: &ImageSet, indices: &[usize]) -> ImageSet {
    let mut pixels = Vec::with_capacity(indices.len() * all.image_len());
    for &i in indices {
        pixels.extend_from_slice(all.image(i));
    }
    let labels = if all.labels.is_empty() {
        Vec::new()
    } else {
        indices.iter().map(|&i| all.labels[i]).collect()
    };
    ImageSet {
        pixels,
        labels,
        ..all.clone_meta()
    }
}

impl ImageSet {
    /// The same shape and classes, no images.
    pub fn clone_meta(&self) -> ImageSet {
        ImageSet {
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels: Vec::new(),
            labels: Vec::new(),
            classes: self.classes,
            max_value: self.max_value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_digits_parse_and_split_stratified() {
        let split = digits(None).unwrap();
        assert_eq!(split.train.len() + split.test.len(), 1797);
        assert_eq!(split.test.len(), 355);
        assert_eq!(split.train.image_len(), 64);
        for k in 0..10u16 {
            let (tr, te) = (
                split.train.labels.iter().filter(|&&l| l == k).count(),
                split.test.labels.iter().filter(|&&l| l == k).count(),
            );
            assert!(te >= 34 && tr >= 4 * te - 4, "class {k}: {tr}/{te}");
        }
        assert!(split.train.pixels.iter().all(|&p| p <= 16));
        // The first digit of the file is a 0 with its known top row.
        assert_eq!(&split.train.image(0)[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
    }

    #[test]
    fn malformed_digits_name_the_line() {
        let gz = |text: &str| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let p = Path::new("d.csv.gz");
        let row = |label: &str| format!("{}{label}\n", "1,".repeat(64));
        assert!(parse_digits(&gz(&row("3")), p).is_ok());
        let e = parse_digits(&gz(&row("12")), p).unwrap_err().to_string();
        assert!(
            e.contains("d.csv.gz") && e.contains("line 1") && e.contains("label"),
            "{e}"
        );
        let e = parse_digits(&gz("1,2,3\n"), p).unwrap_err().to_string();
        assert!(e.contains("3 values"), "{e}");
        let e = parse_digits(b"plain text", p).unwrap_err().to_string();
        assert!(e.contains("gzip"), "{e}");
    }
}
