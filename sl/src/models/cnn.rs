//! The small convnet (`cnn`): conv–BN–ReLU stages, 2×2 max-pool between, global average pool,
//! linear classifier; its encoder is also the segmentation model's.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, Linear};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::{batch_norm, conv};

/// Convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBnRelu {
    pub(super) fn new<R: Rng + ?Sized>(
        rng: &mut R,
        cin: usize,
        cout: usize,
        device: &Device,
    ) -> Self {
        Self {
            conv: conv(rng, cin, cout, 3, 1, false, device),
            bn: batch_norm(cout, device),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// The small convnet's feature extractor, also the segmentation model's encoder: one
/// conv–BN–ReLU per stage, 2×2 max-pool between stages.
#[derive(Module, Debug)]
pub struct CnnEncoder {
    stages: Vec<ConvBnRelu>,
    pool: MaxPool2d,
}

impl CnnEncoder {
    /// Stages of the given widths on `channels`-channel input.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        channels: usize,
        widths: &[usize],
        device: &Device,
    ) -> Self {
        let mut cin = channels;
        let stages = widths
            .iter()
            .map(|&w| {
                let s = ConvBnRelu::new(rng, cin, w, device);
                cin = w;
                s
            })
            .collect();
        Self {
            stages,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    /// Each stage's output, at full, half, quarter… resolution.
    pub fn features(&self, mut x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut out = Vec::with_capacity(self.stages.len());
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                x = self.pool.forward(x);
            }
            x = stage.forward(x);
            out.push(x.clone());
        }
        out
    }
}

/// The small convnet: [`CnnEncoder`], global average pool, linear classifier.
#[derive(Module, Debug)]
pub struct Cnn {
    /// Saved on its own as `encoder.bpk`, the segmentation model's pre-trained encoder.
    pub encoder: CnnEncoder,
    pub(super) head: Linear,
}
