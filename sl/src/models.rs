//! The supervised models, as Burn modules.
//!
//! Every weight is drawn on the host from the seed's RNG (never Burn's global RNG), so runs in
//! parallel threads stay reproducible: convolutions He-normal (`std = √(2/fan_in)`, zero bias;
//! VGG without batch norm does not train from PyTorch's smaller default), linear layers
//! PyTorch's `U(±1/√fan_in)`, ViT tokens `N(0, 0.02²)`; norms start at γ = 1, β = 0.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Initializer, LayerNorm, LayerNormConfig, Linear, PaddingConfig2d,
};
use burn::tensor::activation::{gelu, log_softmax, relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use lrfree_nn::Activation;
use rand::Rng;
use serde::{Deserialize, Serialize};

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

/// `−mean log softmax(logits)[target]`; `targets` is `[N]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let n = targets.dims()[0];
    log_softmax(logits, 1)
        .gather(1, targets.reshape([n, 1]))
        .mean()
        .neg()
}

/// Cross-entropy over the pixels whose `weight` is 1 (the others are ignored): `logits`
/// `[N, K]`, `targets` and `weight` `[N]`.
pub fn masked_cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    weight: Tensor<1>,
) -> Tensor<1> {
    let n = targets.dims()[0];
    let nll = log_softmax(logits, 1)
        .gather(1, targets.reshape([n, 1]))
        .reshape([n])
        .neg();
    (nll * weight.clone()).sum() / weight.sum().clamp_min(1.0)
}

/// SimCLR's NT-Xent loss of two views' projections `[B, P]` at temperature `tau`: each of the
/// 2B rows has its other view as the positive among the 2B − 1 others.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, tau: f64) -> Tensor<1> {
    let [b, _] = z1.dims();
    let device = z1.device();
    let z = Tensor::cat(vec![z1, z2], 0);
    let z = z.clone() / (z.square().sum_dim(1).sqrt().clamp_min(1e-8));
    let eye = Tensor::<2>::from_data(
        TensorData::new(
            (0..4 * b * b)
                .map(|i| {
                    if i / (2 * b) == i % (2 * b) {
                        1e9f32
                    } else {
                        0.0
                    }
                })
                .collect::<Vec<_>>(),
            [2 * b, 2 * b],
        ),
        &device,
    );
    let sim = z.clone().matmul(z.transpose()).div_scalar(tau) - eye;
    let targets: Vec<i64> = (0..2 * b).map(|i| ((i + b) % (2 * b)) as i64).collect();
    cross_entropy(
        sim,
        Tensor::from_data(TensorData::new(targets, [2 * b]), &device),
    )
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

/// Convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBnRelu {
    fn new<R: Rng + ?Sized>(rng: &mut R, cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            conv: conv(rng, cin, cout, 3, 1, false, device),
            bn: batch_norm(cout, device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
    head: Linear,
}

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
    trunk: ResNetTrunk,
    head: Linear,
}

/// VGG-19 without batch norm: 2, 2, 4, 4, 4 conv–ReLU layers (with bias), 2×2 max-pool after
/// each stage (skipped once the map is 1 pixel, so small images fit), global average pool
/// (the flatten of CIFAR VGG on 32×32 input) and a linear classifier.
#[derive(Module, Debug)]
pub struct Vgg {
    stages: Vec<Vec<Conv2d>>,
    pool: MaxPool2d,
    head: Linear,
}

impl Vgg {
    fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
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
    fn new<R: Rng + ?Sized>(
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

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
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

/// SimCLR (Chen et al. 2020): a ResNet trunk and a two-layer projection head, trained with
/// [`nt_xent`]; the trunk's features are then evaluated by a linear classifier.
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
    use burn::optim::GradientsParams;
    use rand::SeedableRng;

    fn images(shape: [usize; 4], device: &Device) -> Tensor<4> {
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

    fn labels(values: &[i64], device: &Device) -> Tensor<1, Int> {
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
    }

    /// Number of parameters that received a finite, non-zero gradient, and their total.
    fn grads_reach<M: Module>(module: &M, grads: &GradientsParams) -> (usize, usize) {
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

    fn classifier_forward_backward(kind: ModelKind, shape: Shape, o: &ModelOptions) {
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

    #[test]
    fn resnet32_forward_backward_on_cifar_sized_input() {
        let o = ModelOptions::default();
        assert_eq!(o.resnet_blocks * 6 + 2, 32);
        classifier_forward_backward(ModelKind::Resnet32, Shape { c: 3, h: 16, w: 16 }, &o);
    }

    #[test]
    fn vgg19_forward_backward() {
        classifier_forward_backward(
            ModelKind::Vgg19,
            Shape { c: 3, h: 16, w: 16 },
            &ModelOptions::default(),
        );
    }

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
