//! Configuration helpers shared by the optimizers' config structs.

use crate::error::{OptimError, Result};

/// Serde for an `f64` that may be infinite (`growth_rate`, `gamma_b`): JSON has no infinity, so
/// it is written as the string `"inf"`; a plain number, `inf` in TOML, or `"inf"`/`"-inf"`
/// strings are all read.
pub mod f64_or_inf {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Write infinities as `"inf"`/`"-inf"`, finite values as numbers.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_infinite() {
            s.serialize_str(if *v > 0.0 { "inf" } else { "-inf" })
        } else {
            s.serialize_f64(*v)
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(f64),
        Text(String),
    }

    /// Read a number or one of the strings `inf`, `+inf`, `infinity`, `-inf`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Num(v) => Ok(v),
            NumOrText::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number or \"inf\", got \"{other}\""
                ))),
            },
        }
    }
}

/// Checks on configuration values, each failing with a message naming the option.
pub(crate) struct Check {
    optimizer: &'static str,
}

impl Check {
    pub(crate) fn new(optimizer: &'static str) -> Self {
        Self { optimizer }
    }

    fn fail(&self, message: String) -> OptimError {
        OptimError::InvalidConfig {
            optimizer: self.optimizer.to_string(),
            message,
        }
    }

    /// `lo <= v < hi` (a momentum or decay rate).
    pub(crate) fn unit(&self, name: &str, v: f64) -> Result<&Self> {
        if (0.0..1.0).contains(&v) {
            Ok(self)
        } else {
            Err(self.fail(format!("`{name}` = {v} must be in [0, 1)")))
        }
    }

    /// `v >= 0` and not NaN (infinity allowed).
    pub(crate) fn non_negative(&self, name: &str, v: f64) -> Result<&Self> {
        if v >= 0.0 {
            Ok(self)
        } else {
            Err(self.fail(format!("`{name}` = {v} must be >= 0")))
        }
    }

    /// `v > 0`, finite.
    pub(crate) fn positive(&self, name: &str, v: f64) -> Result<&Self> {
        if v > 0.0 && v.is_finite() {
            Ok(self)
        } else {
            Err(self.fail(format!("`{name}` = {v} must be a positive number")))
        }
    }

    /// `v >= 1` (a growth rate; infinity allowed).
    pub(crate) fn at_least_one(&self, name: &str, v: f64) -> Result<&Self> {
        if v >= 1.0 {
            Ok(self)
        } else {
            Err(self.fail(format!(
                "`{name}` = {v} must be >= 1 (use \"inf\" for no limit)"
            )))
        }
    }

    /// Not NaN.
    pub(crate) fn number(&self, name: &str, v: f64) -> Result<&Self> {
        if v.is_nan() {
            Err(self.fail(format!("`{name}` is NaN")))
        } else {
            Ok(self)
        }
    }
}
