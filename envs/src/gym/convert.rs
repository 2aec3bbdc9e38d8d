//! Moving data across the Rust/Python boundary: kwargs, spaces, arrays and exceptions.
//!
//! Arrays cross through the buffer protocol (one memcpy, no per-element Python calls).

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::{BoxSpace, EnvError, KwargValue, Kwargs};

pub(crate) fn py_kwargs<'py>(py: Python<'py>, kwargs: &Kwargs) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in kwargs {
        dict.set_item(key, py_value(py, value)?)?;
    }
    Ok(dict)
}

fn py_value<'py>(py: Python<'py>, value: &KwargValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        KwargValue::None => py.None().into_bound(py),
        KwargValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        KwargValue::Int(i) => i.into_pyobject(py)?.into_any(),
        KwargValue::Float(f) => f.into_pyobject(py)?.into_any(),
        KwargValue::Str(s) => s.into_pyobject(py)?.into_any(),
        KwargValue::List(items) => {
            let items = items
                .iter()
                .map(|v| py_value(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
    })
}

/// Copies any array-like of numbers into a flat f32 vector.
///
/// `f64_first` says which buffer format to try first (MuJoCo observations are float64,
/// classic-control ones float32), so the common case costs a single buffer request.
pub(crate) fn read_f32(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    f64_first: bool,
) -> PyResult<Vec<f32>> {
    fn from_f64(py: Python<'_>, buf: PyBuffer<f64>) -> PyResult<Vec<f32>> {
        Ok(buf.to_vec(py)?.into_iter().map(|x| x as f32).collect())
    }
    if f64_first && let Ok(buf) = PyBuffer::<f64>::get(obj) {
        return from_f64(py, buf);
    }
    if let Ok(buf) = PyBuffer::<f32>::get(obj) {
        return buf.to_vec(py);
    }
    if !f64_first && let Ok(buf) = PyBuffer::<f64>::get(obj) {
        return from_f64(py, buf);
    }
    // Other dtypes, lists, scalars: one numpy call converts the whole thing.
    let array = py
        .import("numpy")?
        .call_method1("asarray", (obj, "float32"))?
        .call_method0("ravel")?;
    PyBuffer::<f32>::get(&array)?.to_vec(py)
}

/// Shape, low, high, and whether the dtype is float64.
type BoxParts = (Vec<usize>, Vec<f32>, Vec<f32>, bool);

/// Reads a `gymnasium.spaces.Box` into a [`BoxSpace`]; also returns whether its dtype is float64.
pub(crate) fn box_space(
    py: Python<'_>,
    env: &str,
    what: &'static str,
    space: &Bound<'_, PyAny>,
) -> Result<(BoxSpace, bool), EnvError> {
    let unsupported = || EnvError::UnsupportedSpace {
        env: env.to_owned(),
        what,
        space: space.to_string(),
    };
    let box_type = py
        .import("gymnasium.spaces")
        .and_then(|m| m.getattr("Box"))
        .map_err(|e| python_error(py, env, "make", e))?;
    if !space.is_instance(&box_type).unwrap_or(false) {
        return Err(unsupported());
    }
    let read = || -> PyResult<BoxParts> {
        let shape: Vec<usize> = space.getattr("shape")?.extract()?;
        let dtype = space.getattr("dtype")?;
        let is_f64 = dtype.getattr("kind")?.extract::<String>()? == "f"
            && dtype.getattr("itemsize")?.extract::<usize>()? == 8;
        let low = read_f32(py, &space.getattr("low")?, is_f64)?;
        let high = read_f32(py, &space.getattr("high")?, is_f64)?;
        Ok((shape, low, high, is_f64))
    };
    let (shape, low, high, is_f64) = read().map_err(|e| python_error(py, env, "make", e))?;
    let space = BoxSpace::new(shape, low, high).ok_or_else(unsupported)?;
    Ok((space, is_f64))
}

/// The full name of an exception's type: `TypeError`, `gymnasium.error.NameNotFound`.
pub(crate) fn exception_kind(py: Python<'_>, err: &PyErr) -> String {
    let ty = err.get_type(py);
    let name = ty
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "<unknown exception>".into());
    match ty.module().map(|m| m.to_string()) {
        Ok(module) if module != "builtins" => format!("{module}.{name}"),
        _ => name,
    }
}

/// Turns a Python exception into [`EnvError::Python`] with its type, message and traceback.
pub(crate) fn python_error(
    py: Python<'_>,
    env: &str,
    during: &'static str,
    err: PyErr,
) -> EnvError {
    let traceback = err
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    EnvError::Python {
        env: env.to_owned(),
        during,
        kind: exception_kind(py, &err),
        message: err.value(py).to_string(),
        traceback,
    }
}
