//! ViT-Tiny (`vit-tiny`; Dosovitskiy et al. 2021): patch embedding, class token, learned
//! position embedding, pre-norm transformer blocks, classifier on the class token.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::{ModelOptions, Shape, head, linear, normals, param};

/// Multi-head self-attention.
#[derive(Module, Debug)]
pub struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    proj: Linear,
    heads: usize,
}

impl Attention {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, n, d] = x.dims();
        let dh = d / self.heads;
        let split = |t: Tensor<3>| t.reshape([b, n, self.heads, dh]).swap_dims(1, 2);
        let (q, k, v) = (
            split(self.q.forward(x.clone())),
            split(self.k.forward(x.clone())),
            split(self.v.forward(x)),
        );
        let attn = softmax(
            q.matmul(k.swap_dims(2, 3)).div_scalar((dh as f64).sqrt()),
            3,
        );
        self.proj
            .forward(attn.matmul(v).swap_dims(1, 2).reshape([b, n, d]))
    }
}

/// A pre-norm transformer block.
#[derive(Module, Debug)]
pub struct VitBlock {
    ln1: LayerNorm,
    attn: Attention,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl VitBlock {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.ln1.forward(x));
        x.clone()
            + self
                .fc2
                .forward(gelu(self.fc1.forward(self.ln2.forward(x))))
    }
}

/// Vision Transformer (Dosovitskiy et al. 2021): patch embedding, class token, learned
/// position embedding, pre-norm blocks, classifier on the class token. Defaults are
/// ViT-Tiny's (width 192, depth 12, 3 heads).
#[derive(Module, Debug)]
pub struct Vit {
    patch: Conv2d,
    cls: Param<Tensor<3>>,
    pos: Param<Tensor<3>>,
    blocks: Vec<VitBlock>,
    ln: LayerNorm,
    head: Linear,
}

impl Vit {
    pub(super) fn new<R: Rng + ?Sized>(
        rng: &mut R,
        shape: Shape,
        o: &ModelOptions,
        classes: usize,
        device: &Device,
    ) -> Self {
        let (p, d) = (o.vit_patch, o.vit_width);
        let tokens = (shape.h / p) * (shape.w / p) + 1;
        let mut patch = Conv2dConfig::new([shape.c, d], [p, p])
            .with_stride([p, p])
            .with_initializer(Initializer::Zeros)
            .init(device);
        let fan_in = shape.c * p * p;
        let k = 1.0 / (fan_in as f64).sqrt();
        patch.weight = param(
            (0..d * fan_in)
                .map(|_| rng.random_range(-k..k) as f32)
                .collect(),
            [d, shape.c, p, p],
            device,
        );
        let hidden = d * o.vit_mlp_ratio;
        let blocks = (0..o.vit_depth)
            .map(|_| VitBlock {
                ln1: LayerNormConfig::new(d).init(device),
                attn: Attention {
                    q: linear(rng, d, d, device),
                    k: linear(rng, d, d, device),
                    v: linear(rng, d, d, device),
                    proj: linear(rng, d, d, device),
                    heads: o.vit_heads,
                },
                ln2: LayerNormConfig::new(d).init(device),
                fc1: linear(rng, d, hidden, device),
                fc2: linear(rng, hidden, d, device),
            })
            .collect();
        Self {
            patch,
            cls: param(normals(rng, d, 0.02), [1, 1, d], device),
            pos: param(normals(rng, tokens * d, 0.02), [1, tokens, d], device),
            blocks,
            ln: LayerNormConfig::new(d).init(device),
            head: linear(rng, d, classes, device),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let patches = self.patch.forward(x);
        let [b, d, gh, gw] = patches.dims();
        let tokens = patches.reshape([b, d, gh * gw]).swap_dims(1, 2);
        let cls = self.cls.val().expand([b, 1, d]);
        let mut x = Tensor::cat(vec![cls, tokens], 1) + self.pos.val();
        for block in &self.blocks {
            x = block.forward(x);
        }
        let cls = self.ln.forward(x).narrow(1, 0, 1).reshape([b, d]);
        head(&self.head, cls)
    }
}

#[cfg(test)]
mod tests {
    use crate::models::tests::classifier_forward_backward;
    use crate::models::{ModelKind, ModelOptions, Shape, check_shape};

    #[test]
    fn vit_tiny_forward_backward() {
        let o = ModelOptions::default();
        assert_eq!((o.vit_width, o.vit_depth, o.vit_heads), (192, 12, 3));
        classifier_forward_backward(ModelKind::VitTiny, Shape { c: 3, h: 16, w: 16 }, &o);
        let bad = ModelOptions { vit_patch: 5, ..o };
        assert!(
            check_shape(ModelKind::VitTiny, Shape { c: 3, h: 16, w: 16 }, &bad)
                .unwrap_err()
                .contains("divide")
        );
    }
}
