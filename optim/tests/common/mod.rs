//! Fixtures shared by the module-level tests: a small regression batch, a linear model and
//! ways to read and perturb it.
#![allow(dead_code)] // each test file uses its own subset

use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use burn_lrfree::{LrFreeOptimizer, StepModule};

pub fn device() -> Device {
    Device::default().autodiff()
}

/// A fixed regression batch: y = sin(x·A).
pub fn batch(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let x: Vec<f32> = (0..64 * 4)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [64, 4]), device);
    let a = Tensor::<2>::from_data(
        TensorData::new(
            (0..8).map(|i| (i as f32 - 3.5) / 3.0).collect::<Vec<_>>(),
            [4, 2],
        ),
        device,
    );
    let y = x.clone().matmul(a).sin();
    (x, y)
}

pub fn model(device: &Device) -> Linear {
    LinearConfig::new(4, 2).init(device)
}

pub fn loss(model: &Linear, x: &Tensor<2>, y: &Tensor<2>) -> Tensor<1> {
    (model.forward(x.clone()) - y.clone()).square().mean()
}

/// One step of `opt` on the batch; returns the new model (panics on refusal).
pub fn train_step(
    opt: &mut dyn LrFreeOptimizer,
    lr: f64,
    m: Linear,
    x: &Tensor<2>,
    y: &Tensor<2>,
) -> Linear {
    let l = loss(&m, x, y);
    let value = l.clone().into_scalar::<f64>();
    let grads = GradientsParams::from_grads(l.backward(), &m);
    opt.step_with_loss(lr, m, grads, value).expect("step")
}

pub fn weights(m: &Linear) -> Vec<f32> {
    let mut w = m
        .weight
        .val()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    w.extend(
        m.bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap(),
    );
    w
}

/// Gradients of the right shape filled with `value`.
pub fn filled_grads(m: &Linear, value: f32) -> GradientsParams {
    let mut grads = GradientsParams::new();
    grads.register(m.weight.id, m.weight.val().inner().full_like(value));
    let bias = m.bias.as_ref().unwrap();
    grads.register(bias.id, bias.val().inner().full_like(value));
    grads
}
