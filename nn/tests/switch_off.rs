//! With the fused op switched off (process-wide, hence its own test binary), `linear` is the
//! composite exactly and the fused kernel never runs.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use lrfree_nn::{Activation, fused_linear_applies, fused_linear_calls, linear, set_fused_linear};

#[test]
fn switched_off_it_is_the_composite() {
    let device = Device::flex().autodiff();
    let layer = Linear {
        weight: Param::from_tensor(Tensor::from_floats(
            [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]],
            &device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_floats(
            [0.1, -0.2],
            &device,
        ))),
    };
    let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], &device);
    assert!(fused_linear_applies(&layer, &x));
    set_fused_linear(false);
    assert!(!fused_linear_applies(&layer, &x));
    let before = fused_linear_calls();
    let y = linear(&layer, x.clone(), Activation::Relu);
    assert_eq!(
        fused_linear_calls(),
        before,
        "the fused kernel ran while switched off"
    );
    y.into_data()
        .assert_eq(&relu(layer.forward(x)).into_data(), true);
    set_fused_linear(true);
}
