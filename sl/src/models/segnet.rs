//! The segmentation model (`segnet`): the `cnn` encoder and a U-Net style decoder, one class
//! score map per class.

use burn::module::Module;
use burn::nn::Initializer;
use burn::nn::conv::{Conv2d, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::cnn::{CnnEncoder, ConvBnRelu};
use super::{conv, normals, param};

/// Encoder–decoder segmentation: the [`CnnEncoder`] (loadable from a `cnn` classifier's
/// checkpoint) and a U-Net style decoder: 2×2 transposed convolutions back up, concatenated
/// with the encoder's feature map of the same resolution, conv–BN–ReLU, and a 1×1 classifier.
#[derive(Module, Debug)]
pub struct SegNet {
    /// The encoder, fine-tuned from a checkpoint.
    pub encoder: CnnEncoder,
    ups: Vec<ConvTranspose2d>,
    decoders: Vec<ConvBnRelu>,
    classifier: Conv2d,
}

impl SegNet {
    /// Encoder of `widths`, decoder mirroring it, `classes` output maps.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        channels: usize,
        widths: &[usize],
        classes: usize,
        device: &Device,
    ) -> Self {
        let encoder = CnnEncoder::new(rng, channels, widths, device);
        let (mut ups, mut decoders) = (Vec::new(), Vec::new());
        for i in (1..widths.len()).rev() {
            let (cin, cout) = (widths[i], widths[i - 1]);
            let mut up = ConvTranspose2dConfig::new([cin, cout], [2, 2])
                .with_stride([2, 2])
                .with_initializer(Initializer::Zeros)
                .init(device);
            up.weight = param(
                normals(rng, cin * cout * 4, (2.0 / (cin * 4) as f64).sqrt()),
                [cin, cout, 2, 2],
                device,
            );
            ups.push(up);
            decoders.push(ConvBnRelu::new(rng, 2 * cout, cout, device));
        }
        let classifier = conv(rng, widths[0], classes, 1, 1, true, device);
        Self {
            encoder,
            ups,
            decoders,
            classifier,
        }
    }

    /// Per-pixel class scores `[B, classes, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut feats = self.encoder.features(x);
        let mut h = feats.pop().expect("a stage");
        for (up, dec) in self.ups.iter().zip(&self.decoders) {
            let skip = feats.pop().expect("one skip per decoder stage");
            h = dec.forward(Tensor::cat(vec![up.forward(h), skip], 1));
        }
        self.classifier.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::masked_cross_entropy;
    use crate::models::tests::{grads_reach, images, labels};
    use burn::optim::GradientsParams;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    #[test]
    fn segnet_forward_backward_with_ignored_pixels() {
        let device = Device::default().autodiff();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let model = SegNet::new(&mut rng, 3, &[8, 16, 32], 4, &device);
        let out = model.forward(images([2, 3, 8, 8], &device));
        assert_eq!(out.dims(), [2, 4, 8, 8]);
        let logits = out.permute([0, 2, 3, 1]).reshape([128, 4]);
        let targets: Vec<i64> = (0..128).map(|i| i % 4).collect();
        let weight: Vec<f32> = (0..128)
            .map(|i| if i % 3 == 0 { 0.0 } else { 1.0 })
            .collect();
        let loss = masked_cross_entropy(
            logits,
            labels(&targets, &device),
            Tensor::from_data(TensorData::new(weight, [128]), &device),
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let (reached, total) = grads_reach(&model, &grads);
        assert_eq!(reached, total);
    }
}
