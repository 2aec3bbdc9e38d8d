//! Saved optimizer state: named scalars and tensors, written as a burn-pack (`.bpk`) file.
//!
//! Burn's own `OptimizerRecord` cannot be built outside `burn-optim`, so the state is kept in
//! this small, explicit form and stored in the same burnpack container Burn uses. Scalars are
//! stored as text in their shortest round-trip form, so save → load is bit exact.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};

use crate::api::{Diagnostics, Layout};
use crate::error::{OptimError, Result};

/// Version of the state layout; bumped when an optimizer's saved fields change meaning.
pub const STATE_FORMAT: u32 = 1;

/// The complete state of one optimizer.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimState {
    /// Registry name of the optimizer that saved it.
    pub optimizer: String,
    /// The optimizer's configuration, as JSON (for information and checks).
    pub config: String,
    /// The parameter layout the state was built for (`None` before the first step).
    pub layout: Option<Layout>,
    /// Named scalars (step counters, D, running sums).
    pub scalars: BTreeMap<String, f64>,
    /// Named flat tensors (moments, accumulators, anchors).
    pub tensors: BTreeMap<String, TensorData>,
}

impl OptimState {
    /// An empty state for `optimizer`.
    pub fn new(optimizer: &str, config: String, layout: Option<Layout>) -> Self {
        Self {
            optimizer: optimizer.to_string(),
            config,
            layout,
            scalars: BTreeMap::new(),
            tensors: BTreeMap::new(),
        }
    }

    /// Add a scalar.
    pub fn with_scalar(mut self, name: &str, value: f64) -> Self {
        self.scalars.insert(name.to_string(), value);
        self
    }

    /// Add a tensor, if present.
    pub fn with_tensor(mut self, name: &str, tensor: Option<&Tensor<1>>) -> Self {
        if let Some(t) = tensor {
            self.tensors.insert(name.to_string(), t.to_data());
        }
        self
    }

    /// Add the (learning rate, D) of the last step of a method with a D (NaN before the first).
    pub fn with_last(self, last: Option<(f64, f64)>) -> Self {
        let (lr, d) = last.unwrap_or((f64::NAN, f64::NAN));
        self.with_scalar("last_lr", lr).with_scalar("last_d", d)
    }

    /// The (learning rate, D) saved by [`with_last`](Self::with_last).
    pub fn last(&self) -> Result<Option<(f64, f64)>> {
        let [lr, d] = self.scalars(["last_lr", "last_d"])?;
        Ok((!lr.is_nan()).then_some((lr, d)))
    }

    /// Add the last step's [`Diagnostics`] (scalars `diag.*`, only the fields present), so that
    /// a resumed optimizer reports the same estimate as the one saved.
    pub fn with_diagnostics(mut self, diagnostics: Option<Diagnostics>) -> Self {
        let Some(d) = diagnostics else { return self };
        self = self.with_scalar("diag", 1.0);
        for (name, value) in Self::diagnostic_fields(&d) {
            if let Some(v) = value {
                self = self.with_scalar(name, v);
            }
        }
        self
    }

    /// The [`Diagnostics`] saved by [`with_diagnostics`](Self::with_diagnostics); `None` for a
    /// state saved without them (before the first step, or by an older version).
    pub fn diagnostics(&self) -> Option<Diagnostics> {
        self.scalars.get("diag")?;
        let get = |name: &str| self.scalars.get(name).copied();
        Some(Diagnostics {
            numerator: get("diag.numerator"),
            s_norm: get("diag.s_norm"),
            d_hat: get("diag.d_hat"),
            g0_norm: get("diag.g0_norm"),
            grad_norm: get("diag.grad_norm"),
        })
    }

    fn diagnostic_fields(d: &Diagnostics) -> [(&'static str, Option<f64>); 5] {
        [
            ("diag.numerator", d.numerator),
            ("diag.s_norm", d.s_norm),
            ("diag.d_hat", d.d_hat),
            ("diag.g0_norm", d.g0_norm),
            ("diag.grad_norm", d.grad_norm),
        ]
    }

    /// Fail unless this state was saved by `optimizer`.
    pub fn expect_optimizer(&self, optimizer: &str) -> Result<()> {
        if self.optimizer == optimizer {
            Ok(())
        } else {
            Err(OptimError::StateMismatch {
                expected: optimizer.to_string(),
                found: self.optimizer.clone(),
            })
        }
    }

    /// A scalar that must be present.
    pub fn scalar(&self, name: &str) -> Result<f64> {
        self.scalars
            .get(name)
            .copied()
            .ok_or_else(|| self.corrupt(format!("missing scalar `{name}`")))
    }

    /// Several scalars that must all be present, in the order asked.
    pub fn scalars<const N: usize>(&self, names: [&str; N]) -> Result<[f64; N]> {
        let mut out = [0.0; N];
        for (o, name) in out.iter_mut().zip(names) {
            *o = self.scalar(name)?;
        }
        Ok(out)
    }

    /// A tensor that may be absent (state not yet created), placed on `device`.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<Option<Tensor<1>>> {
        let Some(data) = self.tensors.get(name) else {
            return Ok(None);
        };
        if data.shape().len() != 1 {
            return Err(self.corrupt(format!("tensor `{name}` is not flat")));
        }
        if let Some(layout) = &self.layout {
            let n = data.num_elements();
            // Per-parameter tensors have the layout's size; a few states are per tensor (LDoG) or sliced (Prodigy).
            if n != layout.numel() && n != layout.tensors.len() && n > layout.numel() {
                return Err(self.corrupt(format!(
                    "tensor `{name}` has {n} values for a model of {}",
                    layout.numel()
                )));
            }
        }
        Ok(Some(Tensor::from_data(
            data.clone(),
            (device, data.dtype()),
        )))
    }

    fn corrupt(&self, message: String) -> OptimError {
        OptimError::CorruptState {
            optimizer: self.optimizer.clone(),
            message,
        }
    }

    /// Serialize to burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let bytes = self
            .writer()?
            .into_bytes()
            .map_err(|e| io_err("<memory>", e))?;
        Ok(bytes.to_vec())
    }

    /// Parse burnpack bytes written by [`to_bytes`](Self::to_bytes) or [`save`](Self::save).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let reader = burn_pack::Reader::from_bytes(burn_pack::Bytes::from_bytes_vec(bytes))
            .map_err(|e| io_err("<memory>", e))?;
        Self::from_reader(reader, "<memory>")
    }

    /// Write atomically to `path` (a crash leaves the old file or the new one, never half of one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let shown = path.display().to_string();
        self.writer()?
            .write_to_file(path)
            .map_err(|e| io_err(&shown, e))
    }

    /// Read a file written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let reader = burn_pack::Reader::from_file(path).map_err(|e| io_err(&shown, e))?;
        Self::from_reader(reader, &shown)
    }

    fn writer(&self) -> Result<burn_pack::Writer> {
        let tensors = self
            .tensors
            .iter()
            .map(|(name, data)| {
                burn_pack::Tensor::new(
                    name.clone(),
                    data.dtype(),
                    data.shape().clone(),
                    None,
                    data.bytes().clone(),
                )
            })
            .collect();
        let layout =
            serde_json::to_string(&self.layout).map_err(|e| self.corrupt(e.to_string()))?;
        let mut writer = burn_pack::Writer::new(tensors)
            .with_metadata("lrfree.format", &STATE_FORMAT.to_string())
            .with_metadata("lrfree.optimizer", &self.optimizer)
            .with_metadata("lrfree.config", &self.config)
            .with_metadata("lrfree.layout", &layout);
        for (name, value) in &self.scalars {
            writer = writer.with_metadata(&format!("scalar.{name}"), &value.to_string());
        }
        Ok(writer)
    }

    fn from_reader(reader: burn_pack::Reader, shown: &str) -> Result<Self> {
        let meta = reader.metadata().clone();
        let get = |key: &str| {
            meta.get(key).cloned().ok_or_else(|| OptimError::Io {
                path: shown.to_string(),
                message: format!("not an lrfree optimizer state (no `{key}` entry)"),
            })
        };
        let format: u32 = get("lrfree.format")?.parse().unwrap_or(0);
        let optimizer = get("lrfree.optimizer")?;
        if format != STATE_FORMAT {
            return Err(OptimError::CorruptState {
                optimizer,
                message: format!("state format {format}, this build reads format {STATE_FORMAT}"),
            });
        }
        let mut state = OptimState::new(&optimizer, get("lrfree.config")?, None);
        state.layout = serde_json::from_str(&get("lrfree.layout")?)
            .map_err(|e| state.corrupt(e.to_string()))?;
        for (key, value) in &meta {
            if let Some(name) = key.strip_prefix("scalar.") {
                let v: f64 = value
                    .parse()
                    .map_err(|_| state.corrupt(format!("scalar `{name}` = `{value}`")))?;
                state.scalars.insert(name.to_string(), v);
            }
        }
        for tensor in reader.into_tensors().map_err(|e| io_err(shown, e))? {
            let (name, dtype, shape, _, bytes) =
                tensor.into_parts().map_err(|e| io_err(shown, e))?;
            state
                .tensors
                .insert(name, TensorData::from_bytes(bytes, shape, dtype));
        }
        Ok(state)
    }
}

fn io_err(path: &str, e: impl std::fmt::Display) -> OptimError {
    OptimError::Io {
        path: path.to_string(),
        message: e.to_string(),
    }
}
