//! Loaders for the datasets' own file formats, read from local paths (nothing is downloaded):
//! CIFAR-100 binary, an ImageNet-style class-folder tree, ADE20K-style image and annotation
//! pairs, and STL-10 binary. A file of the wrong size, a truncated file, a label out of range
//! or an image without its annotation is a [`DataError`] naming the file, never a panic.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};

use crate::data::{DataError, ImageSet, SegSet, Split};

/// Bytes of one CIFAR record: coarse label, fine label, 32×32×3 pixels (channel-major).
pub const CIFAR_RECORD: usize = 2 + 3072;

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::new(path, format!("cannot read: {e}")))
}

/// One CIFAR-100 binary file; `fine` picks the 100 fine labels over the 20 coarse ones.
pub fn parse_cifar100(bytes: &[u8], path: &Path, fine: bool) -> Result<ImageSet, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(CIFAR_RECORD) {
        return Err(DataError::new(
            path,
            format!(
                "{} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-100 records (coarse label, fine label, 32×32×3 pixels); truncated or not CIFAR-100",
                bytes.len()
            ),
        ));
    }
    let n = bytes.len() / CIFAR_RECORD;
    let classes = if fine { 100 } else { 20 };
    let mut pixels = Vec::with_capacity(n * 3072);
    let mut labels = Vec::with_capacity(n);
    for (i, rec) in bytes.chunks_exact(CIFAR_RECORD).enumerate() {
        let (coarse, fine_label) = (rec[0], rec[1]);
        if coarse >= 20 || fine_label >= 100 {
            return Err(DataError::new(
                path,
                format!(
                    "record {i}: labels coarse {coarse} / fine {fine_label} outside 0..20 / 0..100"
                ),
            ));
        }
        labels.push(u16::from(if fine { fine_label } else { coarse }));
        pixels.extend_from_slice(&rec[2..]);
    }
    Ok(ImageSet {
        channels: 3,
        height: 32,
        width: 32,
        pixels,
        labels,
        classes,
        max_value: 255.0,
    })
}

/// `dir/train.bin` and `dir/test.bin` of the CIFAR-100 binary version.
pub fn cifar100(dir: &Path, fine: bool) -> Result<Split<ImageSet>, DataError> {
    let load = |name: &str| {
        let path = dir.join(name);
        parse_cifar100(&read(&path)?, &path, fine)
    };
    Ok(Split {
        train: load("train.bin")?,
        test: load("test.bin")?,
    })
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::new(dir, format!("cannot read directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    Ok(entries)
}

fn decode(path: &Path) -> Result<DynamicImage, DataError> {
    let bytes = read(path)?;
    image::load_from_memory(&bytes)
        .map_err(|e| DataError::new(path, format!("cannot decode image: {e}")))
}

/// RGB, resized to `size`×`size` (bilinear), as channel-major bytes.
fn rgb_chw(img: &DynamicImage, size: usize) -> Vec<u8> {
    let rgb: RgbImage = img.to_rgb8();
    let rgb = if rgb.dimensions() == (size as u32, size as u32) {
        rgb
    } else {
        image::imageops::resize(&rgb, size as u32, size as u32, FilterType::Triangle)
    };
    let plane = size * size;
    let mut out = vec![0u8; 3 * plane];
    for (i, px) in rgb.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = px.0[c];
        }
    }
    out
}

/// An ImageNet-style tree: `dir/train/<class>/*.{png,jpg,jpeg}` and the same classes under
/// `dir/val/` (or `dir/test/`). Classes are the sorted folder names of `train/`; images are
/// converted to RGB and resized to `size`×`size`. Other files are skipped.
pub fn image_folder(dir: &Path, size: usize) -> Result<(Split<ImageSet>, Vec<String>), DataError> {
    let train_dir = dir.join("train");
    let classes: Vec<String> = sorted_entries(&train_dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(String::from))
        .collect();
    if classes.is_empty() {
        return Err(DataError::new(
            &train_dir,
            "no class folders (expected train/<class>/<image>)",
        ));
    }
    let test_dir = ["val", "test"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_dir())
        .ok_or_else(|| DataError::new(dir, "no val/ (or test/) folder next to train/"))?;
    let load = |root: &Path| -> Result<ImageSet, DataError> {
        let mut set = ImageSet {
            channels: 3,
            height: size,
            width: size,
            pixels: Vec::new(),
            labels: Vec::new(),
            classes: classes.len(),
            max_value: 255.0,
        };
        for entry in sorted_entries(root)? {
            if !entry.is_dir() {
                continue;
            }
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let Some(label) = classes.iter().position(|c| *c == name) else {
                return Err(DataError::new(
                    &entry,
                    format!("class `{name}` is not a class of {}", train_dir.display()),
                ));
            };
            for file in sorted_entries(&entry)?
                .into_iter()
                .filter(|p| p.is_file() && is_image(p))
            {
                set.pixels.extend(rgb_chw(&decode(&file)?, size));
                set.labels.push(label as u16);
            }
        }
        if set.labels.is_empty() {
            return Err(DataError::new(
                root,
                "no images (expected <class>/<image>.png|jpg)",
            ));
        }
        Ok(set)
    };
    Ok((
        Split {
            train: load(&train_dir)?,
            test: load(&test_dir)?,
        },
        classes,
    ))
}

/// ADE20K-style pairs: `dir/images/<split>/NAME.{jpg,png}` and
/// `dir/annotations/<split>/NAME.png` (8-bit single-channel; 0 = ignore, `k` = class `k − 1`,
/// at most `classes`), with splits `training` and `validation`. Images are resized to
/// `size`×`size` (bilinear), annotations likewise (nearest).
pub fn ade20k(dir: &Path, size: usize, classes: usize) -> Result<Split<SegSet>, DataError> {
    let load = |split: &str| -> Result<SegSet, DataError> {
        let (images_dir, ann_dir) = (
            dir.join("images").join(split),
            dir.join("annotations").join(split),
        );
        let mut images = ImageSet {
            channels: 3,
            height: size,
            width: size,
            pixels: Vec::new(),
            labels: Vec::new(),
            classes,
            max_value: 255.0,
        };
        let mut masks = Vec::new();
        let files: Vec<PathBuf> = sorted_entries(&images_dir)?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        let stems: Vec<String> = files
            .iter()
            .map(|p| {
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        for ann in sorted_entries(&ann_dir)?
            .into_iter()
            .filter(|p| is_image(p))
        {
            let stem = ann.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if !stems.iter().any(|s| s == stem) {
                return Err(DataError::new(
                    &ann,
                    format!(
                        "annotation without an image `{stem}.*` in {}",
                        images_dir.display()
                    ),
                ));
            }
        }
        for (file, stem) in files.iter().zip(&stems) {
            let ann_path = ann_dir.join(format!("{stem}.png"));
            if !ann_path.exists() {
                return Err(DataError::new(
                    file,
                    format!("image without its annotation {}", ann_path.display()),
                ));
            }
            let img = decode(file)?;
            let ann = decode(&ann_path)?;
            let DynamicImage::ImageLuma8(ann) = ann else {
                return Err(DataError::new(
                    &ann_path,
                    format!(
                        "annotation must be an 8-bit single-channel label PNG, found {:?}",
                        ann.color()
                    ),
                ));
            };
            if ann.dimensions() != (img.width(), img.height()) {
                return Err(DataError::new(
                    &ann_path,
                    format!(
                        "annotation is {}×{}, its image {}×{}",
                        ann.width(),
                        ann.height(),
                        img.width(),
                        img.height()
                    ),
                ));
            }
            if let Some(bad) = ann
                .pixels()
                .map(|p| p.0[0])
                .find(|&l| usize::from(l) > classes)
            {
                return Err(DataError::new(
                    &ann_path,
                    format!("label {bad} outside 0..={classes} (0 = ignore)"),
                ));
            }
            let ann: GrayImage = if ann.dimensions() == (size as u32, size as u32) {
                ann
            } else {
                image::imageops::resize(&ann, size as u32, size as u32, FilterType::Nearest)
            };
            images.pixels.extend(rgb_chw(&img, size));
            masks.extend(ann.into_raw());
        }
        if masks.is_empty() {
            return Err(DataError::new(&images_dir, "no images"));
        }
        Ok(SegSet { images, masks })
    };
    Ok(Split {
        train: load("training")?,
        test: load("validation")?,
    })
}

/// Bytes of one STL-10 image: 3×96×96.
pub const STL_IMAGE: usize = 3 * 96 * 96;

/// STL-10 images (`*_X.bin`): each channel stored column-major; returned row-major, resized
/// to `size`×`size` when that differs from 96.
pub fn parse_stl10_images(
    bytes: &[u8],
    path: &Path,
    size: usize,
    limit: Option<usize>,
) -> Result<ImageSet, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(STL_IMAGE) {
        return Err(DataError::new(
            path,
            format!(
                "{} bytes is not a whole number of {STL_IMAGE}-byte STL-10 images (3×96×96); truncated or not STL-10",
                bytes.len()
            ),
        ));
    }
    let n = (bytes.len() / STL_IMAGE).min(limit.unwrap_or(usize::MAX));
    let mut pixels = Vec::with_capacity(n * 3 * size * size);
    let mut chw = vec![0u8; STL_IMAGE];
    for img in bytes.chunks_exact(STL_IMAGE).take(n) {
        for c in 0..3 {
            for col in 0..96 {
                for row in 0..96 {
                    chw[c * 9216 + row * 96 + col] = img[c * 9216 + col * 96 + row];
                }
            }
        }
        if size == 96 {
            pixels.extend_from_slice(&chw);
        } else {
            let mut rgb = RgbImage::new(96, 96);
            for (i, px) in rgb.pixels_mut().enumerate() {
                px.0 = [chw[i], chw[9216 + i], chw[2 * 9216 + i]];
            }
            pixels.extend(rgb_chw(&DynamicImage::ImageRgb8(rgb), size));
        }
    }
    Ok(ImageSet {
        channels: 3,
        height: size,
        width: size,
        pixels,
        labels: Vec::new(),
        classes: 10,
        max_value: 255.0,
    })
}

/// STL-10 labels (`*_y.bin`): one byte 1..=10 per image, returned as 0..10.
pub fn parse_stl10_labels(bytes: &[u8], path: &Path, images: usize) -> Result<Vec<u16>, DataError> {
    if bytes.len() != images {
        return Err(DataError::new(
            path,
            format!("{} labels for {images} images", bytes.len()),
        ));
    }
    bytes
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if (1..=10).contains(&l) {
                Ok(u16::from(l - 1))
            } else {
                Err(DataError::new(
                    path,
                    format!("label {l} of image {i} outside 1..=10"),
                ))
            }
        })
        .collect()
}

/// STL-10 binary: `train_X.bin`/`train_y.bin`, `test_X.bin`/`test_y.bin`, and the first
/// `max_unlabeled` images of `unlabeled_X.bin` (when asked for and present).
pub fn stl10(
    dir: &Path,
    size: usize,
    max_unlabeled: Option<usize>,
) -> Result<(Split<ImageSet>, Option<ImageSet>), DataError> {
    let labelled = |x: &str, y: &str| -> Result<ImageSet, DataError> {
        let (xp, yp) = (dir.join(x), dir.join(y));
        let mut set = parse_stl10_images(&read(&xp)?, &xp, size, None)?;
        set.labels = parse_stl10_labels(&read(&yp)?, &yp, set.len())?;
        Ok(set)
    };
    let split = Split {
        train: labelled("train_X.bin", "train_y.bin")?,
        test: labelled("test_X.bin", "test_y.bin")?,
    };
    let unlabeled = match max_unlabeled {
        Some(0) | None => None,
        Some(n) => {
            let p = dir.join("unlabeled_X.bin");
            // Only the first n images are read from disk: the full file is 2.7 GB.
            let mut f = std::fs::File::open(&p)
                .map_err(|e| DataError::new(&p, format!("cannot read: {e}")))?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut f, (n * STL_IMAGE) as u64),
                &mut bytes,
            )
            .map_err(|e| DataError::new(&p, format!("cannot read: {e}")))?;
            Some(parse_stl10_images(&bytes, &p, size, Some(n))?)
        }
    };
    Ok((split, unlabeled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stl10_column_major_becomes_row_major() {
        let mut img = vec![0u8; STL_IMAGE];
        img[5 * 96 + 2] = 200; // channel 0, column 5, row 2
        let set = parse_stl10_images(&img, Path::new("x.bin"), 96, None).unwrap();
        assert_eq!(set.pixels[2 * 96 + 5], 200);
        let small = parse_stl10_images(&img, Path::new("x.bin"), 32, None).unwrap();
        assert_eq!(small.pixels.len(), 3 * 32 * 32);
    }

    #[test]
    fn cifar_labels_checked() {
        let mut rec = vec![0u8; CIFAR_RECORD];
        rec[1] = 99;
        assert_eq!(
            parse_cifar100(&rec, Path::new("t.bin"), true)
                .unwrap()
                .labels,
            vec![99]
        );
        rec[0] = 20;
        let e = parse_cifar100(&rec, Path::new("t.bin"), true)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.bin: record 0"), "{e}");
    }
}
