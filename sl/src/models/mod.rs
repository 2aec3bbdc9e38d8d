//! The supervised models, as Burn modules.
//!
//! Every weight is drawn on the host from the seed's RNG (never Burn's global RNG), so runs in
//! parallel threads stay reproducible: convolutions He-normal (`std = √(2/fan_in)`, zero bias;
//! VGG without batch norm does not train from PyTorch's smaller default), linear layers
//! PyTorch's `U(±1/√fan_in)`, ViT tokens `N(0, 0.02²)`; norms start at γ = 1, β = 0.

mod cnn;
mod losses;
mod resnet;
mod segnet;
mod simclr;
mod vgg;
mod vit;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};
use lrfree_nn::Activation;
use rand::Rng;
use serde::{Deserialize, Serialize};

pub use cnn::{Cnn, CnnEncoder, ConvBnRelu};
pub use losses::{cross_entropy, masked_cross_entropy, nt_xent};
pub use resnet::{BasicBlock, ResNet, ResNetTrunk};
pub use segnet::SegNet;
pub use simclr::SimClr;
pub use vgg::Vgg;
pub use vit::{Attention, Vit, VitBlock};

/// `n` draws of N(0, std²) (Box–Muller in f64).
fn normals<R: Rng + ?Sized>(rng: &mut R, n: usize, std: f64) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
        let r = (-2.0 * u1.ln()).sqrt() * std;
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        out.push((r * c) as f32);
        out.push((r * s) as f32);
    }
    out.truncate(n);
    out
}

fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

pub use lrfree_nn::torch_linear as linear;

/// A classifier head `[B, features] → [B, classes]`: one fused op on the CPU.
fn head(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    lrfree_nn::linear(layer, x, Activation::None)
}

/// A `k×k` convolution, He-normal weights, zero bias when it has one.
fn conv<R: Rng + ?Sized>(
    rng: &mut R,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    let pad = k / 2;
    let mut conv = Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(bias)
        .with_initializer(Initializer::Zeros)
        .init(device);
    conv.weight = param(
        normals(rng, cout * cin * k * k, (2.0 / (cin * k * k) as f64).sqrt()),
        [cout, cin, k, k],
        device,
    );
    conv
}

fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// Mean over the spatial axes: `[B, C, H, W] → [B, C]`.
fn global_pool(x: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([b, c])
}

/// Sizes and options of the models (`[model]` in a config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelOptions {
    /// MLP hidden widths.
    pub mlp_hidden: Vec<usize>,
    /// Small convnet (and segmentation encoder) stage widths; 2×2 max-pool between stages.
    pub cnn_widths: Vec<usize>,
    /// ResNet stage widths (CIFAR ResNet: 16, 32, 64).
    pub resnet_widths: Vec<usize>,
    /// Basic blocks per ResNet stage (5 gives ResNet-32: 6·5 + 2 layers).
    pub resnet_blocks: usize,
    /// VGG-19 stage widths (conv layers per stage: 2, 2, 4, 4, 4).
    pub vgg_widths: Vec<usize>,
    /// ViT patch size (must divide the image size).
    pub vit_patch: usize,
    /// ViT token width (ViT-Tiny: 192).
    pub vit_width: usize,
    /// ViT blocks (ViT-Tiny: 12).
    pub vit_depth: usize,
    /// ViT attention heads (ViT-Tiny: 3).
    pub vit_heads: usize,
    /// ViT MLP width as a multiple of the token width.
    pub vit_mlp_ratio: usize,
    /// SimCLR projection head width (hidden and output).
    pub simclr_projection: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            mlp_hidden: vec![128, 128],
            cnn_widths: vec![32, 64, 128],
            resnet_widths: vec![16, 32, 64],
            resnet_blocks: 5,
            vgg_widths: vec![64, 128, 256, 512, 512],
            vit_patch: 4,
            vit_width: 192,
            vit_depth: 12,
            vit_heads: 3,
            vit_mlp_ratio: 4,
            simclr_projection: 64,
        }
    }
}

/// Input images: channels, height, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Channels.
    pub c: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
}

/// Fully connected layers, ReLU between them (on the flattened image as a classifier, as
/// SimCLR's projection head): [`lrfree_nn::Mlp`], each layer one fused op on the CPU.
pub use lrfree_nn::Mlp;

/// The classification models of `sl-train --model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Fully connected network.
    Mlp,
    /// Small convnet (conv–BN–ReLU stages).
    Cnn,
    /// CIFAR ResNet-32.
    Resnet32,
    /// VGG-19 without batch norm.
    Vgg19,
    /// ViT-Tiny.
    VitTiny,
    /// Segmentation encoder–decoder.
    Segnet,
    /// SimCLR contrastive pre-training and linear evaluation.
    Simclr,
}

impl ModelKind {
    /// All, in `--model` spelling.
    pub const NAMES: [&str; 7] = [
        "mlp", "cnn", "resnet32", "vgg19", "vit-tiny", "segnet", "simclr",
    ];

    /// From its `--model` spelling (case-insensitive, `_` for `-`).
    pub fn parse(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        Some(match n.as_str() {
            "mlp" => Self::Mlp,
            "cnn" => Self::Cnn,
            "resnet32" | "resnet-32" => Self::Resnet32,
            "vgg19" | "vgg-19" => Self::Vgg19,
            "vit-tiny" | "vit" => Self::VitTiny,
            "segnet" => Self::Segnet,
            "simclr" => Self::Simclr,
            _ => return None,
        })
    }

    /// The `--model` spelling.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A classifier of any kind (one training loop serves them all).
#[derive(Module, Debug)]
pub enum Classifier {
    /// See [`Mlp`].
    Mlp(Mlp),
    /// See [`Cnn`].
    Cnn(Cnn),
    /// See [`ResNet`].
    ResNet(ResNet),
    /// See [`Vgg`].
    Vgg(Vgg),
    /// See [`Vit`].
    Vit(Vit),
}

/// Check that `kind` can take images of `shape` with these options; the message says why not.
pub fn check_shape(kind: ModelKind, shape: Shape, o: &ModelOptions) -> Result<(), String> {
    let nonzero = |v: &[usize], what: &str| {
        if v.is_empty() || v.contains(&0) {
            Err(format!("`model.{what}` needs at least one width, all > 0"))
        } else {
            Ok(())
        }
    };
    match kind {
        ModelKind::Mlp => Ok(()),
        ModelKind::Cnn => nonzero(&o.cnn_widths, "cnn_widths"),
        ModelKind::Resnet32 | ModelKind::Simclr => {
            nonzero(&o.resnet_widths, "resnet_widths")?;
            if o.resnet_blocks == 0 {
                Err("`model.resnet_blocks` must be at least 1".into())
            } else {
                Ok(())
            }
        }
        ModelKind::Vgg19 => {
            nonzero(&o.vgg_widths, "vgg_widths")?;
            if o.vgg_widths.len() != 5 {
                Err("`model.vgg_widths` needs 5 stage widths (VGG-19)".into())
            } else {
                Ok(())
            }
        }
        ModelKind::VitTiny => {
            let p = o.vit_patch;
            if p == 0 || !shape.h.is_multiple_of(p) || !shape.w.is_multiple_of(p) {
                return Err(format!(
                    "`model.vit_patch` = {p} must divide the image size {}×{}",
                    shape.h, shape.w
                ));
            }
            if o.vit_width == 0
                || o.vit_heads == 0
                || !o.vit_width.is_multiple_of(o.vit_heads)
                || o.vit_depth == 0
                || o.vit_mlp_ratio == 0
            {
                return Err(format!(
                    "`model.vit_width` ({}) must be a positive multiple of `model.vit_heads` ({}), depth and mlp ratio ≥ 1",
                    o.vit_width, o.vit_heads
                ));
            }
            Ok(())
        }
        ModelKind::Segnet => {
            nonzero(&o.cnn_widths, "cnn_widths")?;
            let f = 1usize << (o.cnn_widths.len() - 1);
            if !shape.h.is_multiple_of(f) || !shape.w.is_multiple_of(f) {
                return Err(format!(
                    "the segmentation model needs an image size divisible by {f}, got {}×{}",
                    shape.h, shape.w
                ));
            }
            Ok(())
        }
    }
}

impl Classifier {
    /// A freshly initialised classifier of `kind` (not `segnet` or `simclr`).
    pub fn new<R: Rng + ?Sized>(
        kind: ModelKind,
        rng: &mut R,
        shape: Shape,
        classes: usize,
        o: &ModelOptions,
        device: &Device,
    ) -> Self {
        match kind {
            ModelKind::Mlp => {
                let mut sizes = vec![shape.c * shape.h * shape.w];
                sizes.extend_from_slice(&o.mlp_hidden);
                sizes.push(classes);
                Self::Mlp(Mlp::new(rng, &sizes, device))
            }
            ModelKind::Cnn => {
                let encoder = CnnEncoder::new(rng, shape.c, &o.cnn_widths, device);
                Self::Cnn(Cnn {
                    encoder,
                    head: linear(rng, *o.cnn_widths.last().expect("checked"), classes, device),
                })
            }
            ModelKind::Resnet32 => {
                let trunk =
                    ResNetTrunk::new(rng, shape.c, &o.resnet_widths, o.resnet_blocks, device);
                Self::ResNet(ResNet {
                    trunk,
                    head: linear(
                        rng,
                        *o.resnet_widths.last().expect("checked"),
                        classes,
                        device,
                    ),
                })
            }
            ModelKind::Vgg19 => {
                let mut cin = shape.c;
                let stages = o
                    .vgg_widths
                    .iter()
                    .zip([2, 2, 4, 4, 4])
                    .map(|(&w, n)| {
                        (0..n)
                            .map(|_| {
                                let c = conv(rng, cin, w, 3, 1, true, device);
                                cin = w;
                                c
                            })
                            .collect()
                    })
                    .collect();
                let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
                Self::Vgg(Vgg {
                    stages,
                    pool,
                    head: linear(rng, cin, classes, device),
                })
            }
            ModelKind::VitTiny => Self::Vit(Vit::new(rng, shape, o, classes, device)),
            ModelKind::Segnet | ModelKind::Simclr => unreachable!("not a plain classifier"),
        }
    }

    /// Class scores `[B, classes]` of images `[B, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => {
                let [b, c, h, w] = x.dims();
                m.forward(x.reshape([b, c * h * w]), Activation::None)
            }
            Self::Cnn(m) => head(
                &m.head,
                global_pool(m.encoder.features(x).pop().expect("a stage")),
            ),
            Self::ResNet(m) => head(&m.head, m.trunk.forward(x)),
            Self::Vgg(m) => m.forward(x),
            Self::Vit(m) => m.forward(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::GradientsParams;
    use burn::tensor::Int;
    use rand::SeedableRng;

    pub(super) fn images(shape: [usize; 4], device: &Device) -> Tensor<4> {
        let n = shape.iter().product::<usize>();
        Tensor::from_data(
            TensorData::new(
                (0..n)
                    .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
                    .collect::<Vec<_>>(),
                shape,
            ),
            device,
        )
    }

    pub(super) fn labels(values: &[i64], device: &Device) -> Tensor<1, Int> {
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
    }

    /// Number of parameters that received a finite, non-zero gradient, and their total.
    pub(super) fn grads_reach<M: Module>(module: &M, grads: &GradientsParams) -> (usize, usize) {
        struct Count<'a>(&'a GradientsParams, usize, usize);
        impl burn::module::ModuleVisitor for Count<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                // Batch-norm running statistics are visited too, but are not trained.
                if !p.val().is_require_grad() {
                    return;
                }
                self.2 += 1;
                if let Some(g) = self.0.get::<D>(p.id) {
                    let v = g.abs().sum().into_scalar::<f64>();
                    if v.is_finite() && v > 0.0 {
                        self.1 += 1;
                    }
                }
            }
        }
        let mut c = Count(grads, 0, 0);
        module.visit(&mut c);
        (c.1, c.2)
    }

    pub(super) fn classifier_forward_backward(kind: ModelKind, shape: Shape, o: &ModelOptions) {
        let device = Device::default().autodiff();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        check_shape(kind, shape, o).unwrap();
        let model = Classifier::new(kind, &mut rng, shape, 5, o, &device);
        let logits = model.forward(images([2, shape.c, shape.h, shape.w], &device));
        assert_eq!(logits.dims(), [2, 5]);
        let loss = cross_entropy(logits, labels(&[1, 4], &device));
        let value = loss.clone().into_scalar::<f64>();
        assert!(value.is_finite() && value > 0.0, "{kind:?} loss {value}");
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let (reached, total) = grads_reach(&model, &grads);
        // Every trained tensor gets a gradient.
        assert_eq!(
            reached, total,
            "{kind:?}: {reached}/{total} parameters got a gradient"
        );
    }

    #[test]
    fn mlp_and_cnn_forward_backward() {
        let o = ModelOptions::default();
        classifier_forward_backward(ModelKind::Mlp, Shape { c: 1, h: 8, w: 8 }, &o);
        classifier_forward_backward(ModelKind::Cnn, Shape { c: 1, h: 8, w: 8 }, &o);
    }
}
