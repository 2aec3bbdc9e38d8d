//! SimCLR (`simclr`; Chen et al. 2020): a ResNet trunk and a two-layer projection head, trained
//! with NT-Xent on two views, then evaluated by a linear classifier on the trunk's features.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use lrfree_nn::Activation;
use rand::Rng;

use super::{Mlp, ModelOptions, ResNetTrunk};

/// SimCLR (Chen et al. 2020): a ResNet trunk and a two-layer projection head, trained with
/// [`nt_xent`](super::nt_xent); the trunk's features are then evaluated by a linear classifier.
#[derive(Module, Debug)]
pub struct SimClr {
    /// The encoder whose features are evaluated.
    pub trunk: ResNetTrunk,
    projector: Mlp,
}

impl SimClr {
    /// ResNet trunk and projection head.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        channels: usize,
        o: &ModelOptions,
        device: &Device,
    ) -> Self {
        let trunk = ResNetTrunk::new(rng, channels, &o.resnet_widths, o.resnet_blocks, device);
        let feat = *o.resnet_widths.last().expect("checked");
        Self {
            trunk,
            projector: Mlp::new(
                rng,
                &[feat, o.simclr_projection, o.simclr_projection],
                device,
            ),
        }
    }

    /// Feature dimension of the trunk.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        self.trunk.forward(x)
    }

    /// Projections `[B, P]` used by the contrastive loss.
    pub fn project(&self, x: Tensor<4>) -> Tensor<2> {
        self.projector
            .forward(self.trunk.forward(x), Activation::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::nt_xent;
    use crate::models::tests::{grads_reach, images};
    use burn::optim::GradientsParams;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    #[test]
    fn simclr_nt_xent_forward_backward_and_prefers_matching_views() {
        let device = Device::default().autodiff();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let o = ModelOptions {
            resnet_blocks: 1,
            ..ModelOptions::default()
        };
        let model = SimClr::new(&mut rng, 3, &o, &device);
        let (a, b) = (
            images([2, 3, 8, 8], &device),
            images([2, 3, 8, 8], &device).mul_scalar(0.9),
        );
        let loss = nt_xent(model.project(a), model.project(b), 0.5);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let (reached, total) = grads_reach(&model, &grads);
        assert_eq!(reached, total);
        // Identical views score a lower loss than swapped ones.
        let plain = Device::default();
        let z: Tensor<2> =
            Tensor::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [2, 2]), &plain);
        let swapped: Tensor<2> =
            Tensor::from_data(TensorData::new(vec![0.0f32, 1.0, 1.0, 0.0], [2, 2]), &plain);
        let good = nt_xent(z.clone(), z.clone(), 0.5).into_scalar::<f64>();
        let bad = nt_xent(z, swapped, 0.5).into_scalar::<f64>();
        assert!(good < bad, "{good} vs {bad}");
    }
}
