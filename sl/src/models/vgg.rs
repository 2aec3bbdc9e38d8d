//! VGG-19 without batch norm (`vgg19`): conv–ReLU layers with bias, max-pool after each stage,
//! global average pool, linear classifier.

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::{global_pool, head};

/// VGG-19 without batch norm: 2, 2, 4, 4, 4 conv–ReLU layers (with bias), 2×2 max-pool after
/// each stage (skipped once the map is 1 pixel, so small images fit), global average pool
/// (the flatten of CIFAR VGG on 32×32 input) and a linear classifier.
#[derive(Module, Debug)]
pub struct Vgg {
    pub(super) stages: Vec<Vec<Conv2d>>,
    pub(super) pool: MaxPool2d,
    pub(super) head: Linear,
}

impl Vgg {
    pub(super) fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
        for stage in &self.stages {
            for c in stage {
                x = relu(c.forward(x));
            }
            let [_, _, h, w] = x.dims();
            if h >= 2 && w >= 2 {
                x = self.pool.forward(x);
            }
        }
        head(&self.head, global_pool(x))
    }
}

#[cfg(test)]
mod tests {
    use crate::models::tests::classifier_forward_backward;
    use crate::models::{ModelKind, ModelOptions, Shape};

    #[test]
    fn vgg19_forward_backward() {
        classifier_forward_backward(
            ModelKind::Vgg19,
            Shape { c: 3, h: 16, w: 16 },
            &ModelOptions::default(),
        );
    }
}
