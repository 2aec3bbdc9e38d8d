//! The fused linear op as a Burn backend extension: its trait, the flex implementation, and
//! the autodiff implementation with its hand-written backward.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use crate::kernels;

/// `relu?(x·weight + bias)` as one backend op. Routed by `Dispatch` to flex and to autodiff
/// over flex only; [`crate::linear`] sends every other device to the composite of standard
/// ops before it gets here.
#[backend_extension(Flex, Autodiff)]
pub trait FusedLinearBackend: burn::backend::Backend {
    /// `x` `[m, k]`, `weight` `[k, n]`, `bias` `[n]` → `[m, n]`.
    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self>;
}

/// The high-level entry: tensors in, tensor out, through `Dispatch`.
pub(crate) fn fused_linear(
    x: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    relu: bool,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedLinearBackend>::fused_linear(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        relu,
    ))
}

impl FusedLinearBackend for Flex {
    fn fused_linear(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, relu: bool) -> FlexTensor {
        kernels::forward(&x, &weight, &bias, relu)
    }
}

/// What the backward pass needs: the input only for the weight's gradient, the weight only
/// for the input's, the output only for ReLU's mask. (Held directly: on flex a clone shares
/// the buffer.)
#[derive(Debug, Clone)]
struct Saved {
    x: Option<FlexTensor>,
    weight: Option<FlexTensor>,
    output: Option<FlexTensor>,
}

#[derive(Debug)]
struct FusedLinearBackward;

impl Backward<Flex, 3> for FusedLinearBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let Saved { x, weight, output } = ops.state;
        let out = kernels::backward(
            grad,
            kernels::Wanted {
                x_from_weight: node_x.as_ref().and(weight.as_ref()),
                weight_from_x: node_weight.as_ref().and(x.as_ref()),
                bias: node_bias.is_some(),
            },
            output.as_ref(),
        );
        for (node, grad) in [
            (node_x, out.x),
            (node_weight, out.weight),
            (node_bias, out.bias),
        ] {
            if let (Some(node), Some(grad)) = (node, grad) {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

impl<C: CheckpointStrategy> FusedLinearBackend for Autodiff<Flex, C> {
    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
        let prep = FusedLinearBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let (x, weight, bias) = (
            x.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
        );
        let output = kernels::forward(&x, &weight, &bias, relu);
        match prep {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    x: weight_tracked.then_some(x),
                    weight: x_tracked.then_some(weight),
                    output: relu.then(|| output.clone()),
                };
                prep.finish(saved, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}
