//! The resolved configuration of a supervised run: built-in per-task defaults
//! (`configs/sl-*.toml`, compiled in), a `--config FILE`, then command-line overrides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn_lrfree::registry::OptimizerSpec;
use lrfree_device::DeviceChoice;
use lrfree_runkit::RunError;
use lrfree_runkit::config::{parse_toml, read_config};
use serde::{Deserialize, Serialize};

use crate::augment::Augment;
use crate::models::{ModelKind, ModelOptions};

/// Built-in defaults, by task.
const BUILTIN: &[(&str, &str)] = &[
    ("digits", include_str!("../../configs/sl-digits.toml")),
    ("cifar100", include_str!("../../configs/sl-cifar100.toml")),
    (
        "imagefolder",
        include_str!("../../configs/sl-imagenet.toml"),
    ),
    ("ade20k", include_str!("../../configs/sl-ade20k.toml")),
    ("stl10", include_str!("../../configs/sl-stl10.toml")),
];

/// The task names of `--task`.
pub const TASKS: [&str; 5] = ["digits", "cifar100", "imagefolder", "ade20k", "stl10"];

/// SimCLR's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimclrOptions {
    /// NT-Xent temperature τ.
    pub temperature: f64,
    /// Epochs of linear evaluation after pre-training (a fresh instance of the run's
    /// optimizer trains a linear classifier on the frozen encoder's features).
    pub linear_epochs: usize,
}

impl Default for SimclrOptions {
    fn default() -> Self {
        Self {
            temperature: 0.5,
            linear_epochs: 20,
        }
    }
}

/// Everything one supervised run needs; the format of `configs/sl-*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlConfig {
    /// `digits` (shipped), `cifar100`, `imagefolder`, `ade20k` or `stl10`.
    pub task: String,
    /// `mlp`, `cnn`, `resnet32`, `vgg19`, `vit-tiny`, `segnet` or `simclr`.
    pub model: String,
    /// The dataset's directory (a digits CSV file for `digits`; the shipped one when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// Passes over the training set (pre-training epochs for SimCLR).
    pub epochs: usize,
    /// Training mini-batch size.
    pub batch_size: usize,
    /// Mini-batch size for evaluation.
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    /// Side of the square images for `imagefolder`, `ade20k` and `stl10` (resized on load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// Number of classes of `ade20k` annotations (ADE20K: 150).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// CIFAR-100 labels: `fine` (100 classes) or `coarse` (20).
    #[serde(default = "default_cifar_labels")]
    pub cifar_labels: String,
    /// Use only the first N training images (0: all).
    #[serde(default)]
    pub max_train: usize,
    /// Use only the first N test images (0: all).
    #[serde(default)]
    pub max_test: usize,
    /// STL-10: how many images of `unlabeled_X.bin` SimCLR pre-trains on besides the training set.
    #[serde(default)]
    pub max_unlabeled: usize,
    /// Training augmentation (classification and segmentation).
    #[serde(default)]
    pub augment: Augment,
    /// Model sizes.
    #[serde(default)]
    pub model_options: ModelOptions,
    /// `segnet`: the encoder checkpoint to fine-tune from (`encoder.bpk` of a `cnn` run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<PathBuf>,
    /// SimCLR options.
    #[serde(default)]
    pub simclr: SimclrOptions,
    /// An estimated learning rate above this bound counts as divergence.
    pub lr_divergence_bound: f64,
    /// Treat subnormal floats (below ~1.2e-38) as zero on the training threads, rayon's
    /// included (x86-64; see `burn_lrfree::internals::flush_denormals`). Default on, as in `rl-train`.
    #[serde(default = "yes")]
    pub flush_denormals: bool,
    /// Where to train: `"cpu"`, `"cuda"` or `"auto"` (CUDA if usable, else the CPU, saying
    /// so); `--device` overrides it. Default `"cuda"` in a build with the `cuda` feature,
    /// `"cpu"` otherwise. A run's `config.toml` records the device it ran on.
    #[serde(default = "crate::device::default_device")]
    pub device: DeviceChoice,
    /// Per-optimizer `lr` and options, by registry name.
    #[serde(default)]
    pub optimizers: BTreeMap<String, toml::Table>,
}

fn yes() -> bool {
    true
}

fn default_eval_batch() -> usize {
    256
}

fn default_cifar_labels() -> String {
    "fine".into()
}

impl SlConfig {
    /// The built-in defaults of `task`.
    pub fn builtin(task: &str) -> Result<Self, RunError> {
        let wanted = task.trim().to_ascii_lowercase();
        let (_, text) = BUILTIN
            .iter()
            .find(|(name, _)| *name == wanted)
            .ok_or_else(|| {
                RunError::Usage(format!(
                    "unknown task `{task}`; tasks: {}",
                    TASKS.join(", ")
                ))
            })?;
        Self::parse(text, "built-in config")
    }

    /// Parse a TOML config's text (`origin` names it in errors).
    pub fn parse(text: &str, origin: &str) -> Result<Self, RunError> {
        if toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("sps_critics_only")) {
            return Err(RunError::Usage(format!(
                "{origin}: {}",
                crate::cli::SPS_OPT_IN_IS_RL
            )));
        }
        parse_toml(text, origin)
    }

    /// Read a TOML config file.
    pub fn load(path: &Path) -> Result<Self, RunError> {
        Self::parse(&read_config(path)?, &path.display().to_string())
    }

    /// As TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The model.
    pub fn model_kind(&self) -> Result<ModelKind, RunError> {
        ModelKind::parse(&self.model).ok_or_else(|| {
            RunError::Usage(format!(
                "unknown model `{}`; models: {}",
                self.model,
                ModelKind::NAMES.join(", ")
            ))
        })
    }

    /// Check what TOML cannot: numbers, and that the model suits the task.
    pub fn validate(&self) -> Result<(), RunError> {
        let bad = |m: String| Err(RunError::Usage(m));
        if !TASKS.contains(&self.task.as_str()) {
            return bad(format!(
                "unknown task `{}`; tasks: {}",
                self.task,
                TASKS.join(", ")
            ));
        }
        let kind = self.model_kind()?;
        if self.epochs == 0 {
            return bad("`epochs` must be at least 1".into());
        }
        if self.batch_size < 2 || self.eval_batch_size == 0 {
            return bad(format!(
                "`batch_size` ({}) must be at least 2 (batch norm) and `eval_batch_size` at least 1",
                self.batch_size
            ));
        }
        if self.lr_divergence_bound.is_nan() || self.lr_divergence_bound <= 0.0 {
            return bad(format!(
                "`lr_divergence_bound` = {} must be positive",
                self.lr_divergence_bound
            ));
        }
        if !matches!(self.cifar_labels.as_str(), "fine" | "coarse") {
            return bad(format!(
                "`cifar_labels` = \"{}\" must be \"fine\" or \"coarse\"",
                self.cifar_labels
            ));
        }
        if self.image_size == Some(0) || self.classes == Some(0) {
            return bad("`image_size` and `classes` must be at least 1".into());
        }
        if self.simclr.temperature.is_nan()
            || self.simclr.temperature <= 0.0
            || (kind == ModelKind::Simclr && self.simclr.linear_epochs == 0)
        {
            return bad(
                "`simclr.temperature` must be positive and `simclr.linear_epochs` at least 1"
                    .into(),
            );
        }
        let segmentation_task = self.task == "ade20k";
        if segmentation_task != (kind == ModelKind::Segnet) {
            return bad(format!(
                "model `{}` does not fit task `{}`: segmentation (ade20k) takes `segnet`, the classification tasks take the others",
                kind.name(),
                self.task
            ));
        }
        if self.pretrained.is_some() && kind != ModelKind::Segnet {
            return bad("`pretrained` is for the segmentation model (`segnet`) only".into());
        }
        if let Some(p) = &self.pretrained
            && !p.is_file()
        {
            return bad(format!("pretrained encoder {}: no such file", p.display()));
        }
        for name in self.optimizers.keys() {
            self.optimizer(name)?;
        }
        Ok(())
    }

    /// Optimizer `name` with its options and `lr` from `[optimizers.<name>]` (defaults otherwise).
    pub fn optimizer(&self, name: &str) -> Result<OptimizerSpec, RunError> {
        OptimizerSpec::from_tables(name, &self.optimizers)
            .map_err(|e| RunError::Usage(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_config_parses_and_validates() {
        for task in TASKS {
            let c = SlConfig::builtin(task).unwrap();
            assert_eq!(c.task, task);
            c.validate().unwrap_or_else(|e| panic!("{task}: {e}"));
            assert_eq!(SlConfig::parse(&c.to_toml(), "round trip").unwrap(), c);
        }
    }

    #[test]
    fn model_must_fit_task() {
        let mut c = SlConfig::builtin("digits").unwrap();
        c.model = "segnet".into();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("does not fit")
        );
        c.model = "resnet-50".into();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("unknown model")
        );
    }
}
