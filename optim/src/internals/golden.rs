//! Replay of reference trajectories (`lrfree-golden/1` files, see `shared/golden/README.md`).
//!
//! Each file holds a small tanh MLP regression problem, the reference optimizer's
//! hyperparameters and 60 steps of its trajectory (loss, learning-rate estimate, D, all
//! parameters). [`replay`] runs this crate's optimizer on the same problem in f64 through the
//! public module API ([`StepModule`]) with gradients from Burn's autodiff, and measures how far
//! it drifts from the reference.

use std::path::Path;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use serde::Deserialize;
use serde_json::Value;

use crate::api::LrFreeOptimizer;
use crate::error::{OptimError, Result};
use crate::module::StepModule;
use crate::registry::OptimizerConfig;

/// The tolerance of the README's "Recommended checks".
pub const TOLERANCE: f64 = 1e-9;

/// A parsed golden file.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldenFile {
    /// Must be `lrfree-golden/1`.
    pub schema: String,
    /// Reference optimizer name (`dadapt_sgd`, ...).
    pub optimizer: String,
    /// Reference package and class.
    #[serde(default)]
    pub reference: String,
    /// Constructor arguments, reference names.
    pub hyper: serde_json::Map<String, Value>,
    /// Data and batches.
    pub problem: Problem,
    /// Initial parameters.
    pub init: Params,
    /// The trajectory.
    pub steps: Vec<GoldenStep>,
}

/// The regression problem.
#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    /// Must be `mlp_tanh_mse`.
    pub kind: String,
    /// Inputs, one row per example.
    pub x: Vec<Vec<f64>>,
    /// Targets.
    pub y: Vec<Vec<f64>>,
    /// Row indices per step (`None`: every step uses all rows).
    pub batches: Option<Vec<Vec<usize>>>,
}

/// The MLP's parameters: `h = tanh(x·w1 + b1)`, `pred = h·w2 + b2`.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    /// Shape \[in, hidden\].
    pub w1: Vec<Vec<f64>>,
    /// Shape \[hidden\].
    pub b1: Vec<f64>,
    /// Shape \[hidden, out\].
    pub w2: Vec<Vec<f64>>,
    /// Shape \[out\].
    pub b2: Vec<f64>,
}

/// One reference step.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldenStep {
    /// Loss before the step, on the step's batch.
    pub loss: f64,
    /// The learning-rate estimate (a list for LDoG, `null` for COCOB).
    pub lr_estimate: Value,
    /// D used by the step.
    pub d: Option<f64>,
    /// D after the step.
    pub d_next: Option<f64>,
    /// Parameters after the step.
    pub params: Params,
}

impl GoldenFile {
    /// Read and check a golden file.
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| OptimError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let file: GoldenFile = serde_json::from_str(&text).map_err(|e| OptimError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        if file.schema != "lrfree-golden/1" || file.problem.kind != "mlp_tanh_mse" {
            return Err(OptimError::Io {
                path: shown,
                message: format!(
                    "unsupported schema `{}` / problem `{}`",
                    file.schema, file.problem.kind
                ),
            });
        }
        Ok(file)
    }

    /// This crate's configuration for the file's optimizer and `hyper`, and the `lr` to step with.
    pub fn config(&self) -> Result<(OptimizerConfig, f64)> {
        let mut hyper = self.hyper.clone();
        let lr = hyper.remove("lr").and_then(|v| v.as_f64()).unwrap_or(1.0);
        Ok((
            OptimizerConfig::from_json(&self.optimizer, Value::Object(hyper))?,
            lr,
        ))
    }
}

/// The MLP of the golden problem, as a Burn module.
#[derive(Module, Debug)]
pub struct GoldenMlp {
    w1: Param<Tensor<2>>,
    b1: Param<Tensor<1>>,
    w2: Param<Tensor<2>>,
    b2: Param<Tensor<1>>,
}

fn matrix(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let (r, c) = (rows.len(), rows.first().map_or(0, Vec::len));
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [r, c]), (device, DType::F64))
}

fn vector(v: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (device, DType::F64))
}

impl GoldenMlp {
    /// The model at `params`, in f64 on `device` (use an autodiff device to train it).
    pub fn new(params: &Params, device: &Device) -> Self {
        Self {
            w1: Param::from_tensor(matrix(&params.w1, device)),
            b1: Param::from_tensor(vector(&params.b1, device)),
            w2: Param::from_tensor(matrix(&params.w2, device)),
            b2: Param::from_tensor(vector(&params.b2, device)),
        }
    }

    /// `mean over rows of 0.5·||pred - y||²`.
    pub fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let rows = x.dims()[0] as f64;
        let h = (x.matmul(self.w1.val()) + self.b1.val().unsqueeze()).tanh();
        let pred = h.matmul(self.w2.val()) + self.b2.val().unsqueeze();
        (pred - y).square().sum().mul_scalar(0.5 / rows)
    }

    /// Current parameters as flat f64 vectors, in file order.
    pub fn flat(&self) -> [Vec<f64>; 4] {
        let read = |t: TensorData| t.convert::<f64>().try_to_vec::<f64>().unwrap_or_default();
        [
            read(self.w1.val().into_data()),
            read(self.b1.val().into_data()),
            read(self.w2.val().into_data()),
            read(self.b2.val().into_data()),
        ]
    }
}

fn flat_params(p: &Params) -> [Vec<f64>; 4] {
    [p.w1.concat(), p.b1.clone(), p.w2.concat(), p.b2.clone()]
}

/// How far a replay drifted from the reference.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    /// Largest per-tensor `||a - b||_inf / ||b||_inf` of the parameters, over all steps.
    pub params: f64,
    /// Largest relative error of the loss.
    pub loss: f64,
    /// Largest relative error of the learning-rate estimate (every element for LDoG).
    pub lr_estimate: f64,
    /// Largest relative error of `d` and `d_next`.
    pub d: f64,
    /// Largest of all the above over the first 10 steps (rounding only: ~1e-13 expected).
    pub first_10: f64,
    /// Steps replayed.
    pub steps: usize,
    /// Mismatches in kind (an estimate present in one and absent in the other).
    pub kind_mismatches: Vec<String>,
}

impl Drift {
    /// Whether every recommended check passes.
    pub fn passes(&self) -> bool {
        self.kind_mismatches.is_empty()
            && [self.params, self.loss, self.lr_estimate, self.d]
                .iter()
                .all(|e| *e <= TOLERANCE)
    }
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else if b == 0.0 {
        f64::INFINITY
    } else {
        ((a - b) / b).abs()
    }
}

fn inf_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if a.len() != b.len() {
        f64::INFINITY
    } else if diff == 0.0 {
        0.0
    } else {
        diff / scale
    }
}

/// Replay `file` with the optimizer and hyperparameters it names, on `device` (an autodiff
/// device; computation in f64).
pub fn replay(file: &GoldenFile, device: &Device) -> Result<Drift> {
    let (config, lr) = file.config()?;
    replay_with(file, config.build()?.as_mut(), lr, device)
}

/// Replay `file`'s problem with any `optimizer` (fresh) and step `lr`, comparing with the
/// file's trajectory: for checking that one method reduces to another.
pub fn replay_with(
    file: &GoldenFile,
    optimizer: &mut dyn LrFreeOptimizer,
    lr: f64,
    device: &Device,
) -> Result<Drift> {
    let mut model = GoldenMlp::new(&file.init, device);
    let x = matrix(&file.problem.x, device);
    let y = matrix(&file.problem.y, device);
    let mut drift = Drift::default();
    for (t, golden) in file.steps.iter().enumerate() {
        let (xb, yb) = match &file.problem.batches {
            None => (x.clone(), y.clone()),
            Some(batches) => {
                let rows = batches.get(t).ok_or_else(|| OptimError::Io {
                    path: file.optimizer.clone(),
                    message: format!("no batch for step {t}"),
                })?;
                let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [rows.len()]), device);
                (x.clone().select(0, idx.clone()), y.clone().select(0, idx))
            }
        };
        let loss = model.loss(xb, yb);
        let loss_value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step_with_loss(lr, model, grads, loss_value)?;
        let est = optimizer.estimate();

        let mut step_max = 0.0f64;
        let mut note = |value: f64, slot: &mut f64| {
            *slot = slot.max(value);
            step_max = step_max.max(value);
        };
        let ours = model.flat();
        let theirs = flat_params(&golden.params);
        for (a, b) in ours.iter().zip(&theirs) {
            note(inf_rel(a, b), &mut drift.params);
        }
        note(rel(loss_value, golden.loss), &mut drift.loss);
        match (&golden.lr_estimate, est.per_tensor_lr.as_ref(), est.lr) {
            (Value::Array(list), Some(per_tensor), _) => {
                for (b, a) in list.iter().zip(per_tensor) {
                    note(
                        rel(*a, b.as_f64().unwrap_or(f64::NAN)),
                        &mut drift.lr_estimate,
                    );
                }
            }
            (Value::Number(n), None, Some(a)) => note(
                rel(a, n.as_f64().unwrap_or(f64::NAN)),
                &mut drift.lr_estimate,
            ),
            (Value::Null, None, None) => {}
            (g, _, _) => drift
                .kind_mismatches
                .push(format!("step {t}: lr_estimate {g} vs ours {:?}", est)),
        }
        for (name, theirs, ours) in [
            ("d", golden.d, est.d),
            ("d_next", golden.d_next, est.d_next),
        ] {
            match (theirs, ours) {
                (Some(b), Some(a)) => note(rel(a, b), &mut drift.d),
                (None, None) => {}
                _ => drift
                    .kind_mismatches
                    .push(format!("step {t}: {name} {theirs:?} vs ours {ours:?}")),
            }
        }
        if t < 10 {
            drift.first_10 = drift.first_10.max(step_max);
        }
        drift.steps += 1;
    }
    Ok(drift)
}
