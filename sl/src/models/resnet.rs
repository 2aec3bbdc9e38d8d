//! CIFAR ResNet-32 (`resnet32`; He et al. 2016, §4.2): basic blocks with batch norm and
//! projection shortcuts; its trunk is also SimCLR's.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::{batch_norm, conv, global_pool};

/// A CIFAR ResNet basic block: two 3×3 conv–BN, a projection shortcut (1×1 conv–BN) when the
/// shape changes.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    shortcut: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new<R: Rng + ?Sized>(
        rng: &mut R,
        cin: usize,
        cout: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let shortcut = (stride != 1 || cin != cout).then(|| {
            (
                conv(rng, cin, cout, 1, stride, false, device),
                batch_norm(cout, device),
            )
        });
        Self {
            conv1: conv(rng, cin, cout, 3, stride, false, device),
            bn1: batch_norm(cout, device),
            conv2: conv(rng, cout, cout, 3, 1, false, device),
            bn2: batch_norm(cout, device),
            shortcut,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let h = relu(self.bn1.forward(self.conv1.forward(x.clone())));
        let h = self.bn2.forward(self.conv2.forward(h));
        let skip = match &self.shortcut {
            Some((c, bn)) => bn.forward(c.forward(x)),
            None => x,
        };
        relu(h + skip)
    }
}

/// The CIFAR ResNet trunk (He et al. 2016, §4.2): 3×3 stem conv–BN–ReLU, then stages of basic
/// blocks (the first block of each later stage halves the resolution), global average pool.
#[derive(Module, Debug)]
pub struct ResNetTrunk {
    stem: Conv2d,
    stem_bn: BatchNorm,
    blocks: Vec<BasicBlock>,
}

impl ResNetTrunk {
    /// `widths.len()` stages of `blocks` blocks each.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        channels: usize,
        widths: &[usize],
        blocks: usize,
        device: &Device,
    ) -> Self {
        let stem = conv(rng, channels, widths[0], 3, 1, false, device);
        let mut layers = Vec::new();
        let mut cin = widths[0];
        for (s, &w) in widths.iter().enumerate() {
            for b in 0..blocks {
                let stride = if s > 0 && b == 0 { 2 } else { 1 };
                layers.push(BasicBlock::new(rng, cin, w, stride, device));
                cin = w;
            }
        }
        Self {
            stem,
            stem_bn: batch_norm(widths[0], device),
            blocks: layers,
        }
    }

    /// `[B, C, H, W] → [B, last width]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = relu(self.stem_bn.forward(self.stem.forward(x)));
        for block in &self.blocks {
            x = block.forward(x);
        }
        global_pool(x)
    }
}

/// ResNet-32 (with the default 5 blocks per stage) and a linear classifier.
#[derive(Module, Debug)]
pub struct ResNet {
    pub(super) trunk: ResNetTrunk,
    pub(super) head: Linear,
}

#[cfg(test)]
mod tests {
    use crate::models::tests::classifier_forward_backward;
    use crate::models::{ModelKind, ModelOptions, Shape};

    #[test]
    fn resnet32_forward_backward_on_cifar_sized_input() {
        let o = ModelOptions::default();
        assert_eq!(o.resnet_blocks * 6 + 2, 32);
        classifier_forward_backward(ModelKind::Resnet32, Shape { c: 3, h: 16, w: 16 }, &o);
    }
}
