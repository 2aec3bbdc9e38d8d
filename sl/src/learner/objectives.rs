//! What each model computes in burn-train's steps ([`Objective`]): the classifiers and
//! SimCLR's linear probe (cross-entropy; burn-train's `ClassificationOutput`, loss and
//! accuracy), the segmentation model (masked pixel cross-entropy; loss and [`MeanIouMetric`]),
//! SimCLR pre-training (NT-Xent; loss), and the burn-train metrics each registers.

use std::sync::Arc;

use burn::nn::Linear;
use burn::tensor::{ExecutionError, Int, Tensor, TensorReadError};
use burn::train::ClassificationOutput;
use burn::train::metric::{
    AccuracyMetric, Adaptor, ItemLazy, LossInput, LossMetric, Metric, MetricAttributes,
    MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry, SerializedEntry,
};

use super::data::{Features, Images, Masks, Views};
use super::{MEAN_IOU, Objective, Training};
use crate::models::{Classifier, SegNet, SimClr, cross_entropy, masked_cross_entropy, nt_xent};

/// A batch's loss once per image, so that burn-train's [`LossMetric`] (a mean weighted by the
/// loss tensor's length) weighs batches by their images, as the records always have.
fn per_image(loss: &Tensor<1>, n: usize) -> Tensor<1> {
    loss.clone().detach().reshape([1]).expand([n])
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

/// burn-train's loss and accuracy metrics for training and test.
pub fn classification_metrics<M>(training: Training<M>) -> Training<M>
where
    M: Objective<Output = ClassificationOutput>,
{
    training
        .metric_train_numeric(LossMetric::new())
        .metric_train_numeric(AccuracyMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_valid_numeric(AccuracyMetric::new())
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
    use burn::tensor::{Device, TensorData};

    use crate::learner::data::ints;

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
