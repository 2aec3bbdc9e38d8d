//! Build any optimizer by name, with options from TOML or JSON.
//!
//! ```
//! use burn_lrfree::registry::OptimizerConfig;
//! let config = OptimizerConfig::from_toml("ps-da-sgd", "momentum = 0.0\ntransport = \"exact\"").unwrap();
//! let optimizer = config.build().unwrap();
//! assert_eq!(optimizer.name(), "ps-da-sgd");
//! assert!(OptimizerConfig::from_toml("adamw", "").unwrap_err().to_string().contains("ps-da-sgd"));
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::adam::AdamConfig;
use crate::api::LrFreeOptimizer;
use crate::cocob::CocobConfig;
use crate::dadapt_adam::DAdaptAdamConfig;
use crate::dadapt_sgd::DAdaptSgdConfig;
use crate::dog::DogConfig;
use crate::error::{OptimError, Result};
use crate::prodigy::ProdigyConfig;
use crate::ps_da_sgd::PsDaSgdConfig;
use crate::ps_sps::PsSpsConfig;
use crate::sgd::SgdConfig;
use crate::sps::SpsConfig;

/// The registry names in the order of the paper's Table 3: steepest descent (SGD, SPS, DoG,
/// D-Adapt SGD), adaptive (Adam, COCOB, LDoG, D-Adapt Adam, Prodigy), proposed (PS-SPS,
/// PS-DA-SGD); `lrfree_plots::palette::group` names the three.
pub const NAMES: [&str; 11] = [
    "sgd",
    "sps",
    "dog",
    "dadapt-sgd",
    "adam",
    "cocob",
    "ldog",
    "dadapt-adam",
    "prodigy",
    "ps-sps",
    "ps-da-sgd",
];

/// Whether the method needs the loss value at the optimum (SPS and PS-SPS: Polyak's step
/// `(f − f*)/‖g‖²` with `f* = 0`). On a loss with no lower bound at 0 the step changes sign
/// and climbs the loss; the paper leaves these two out of its RL experiments for that reason.
pub fn needs_optimal_loss(name: &str) -> Result<bool> {
    Ok(matches!(canonical_name(name)?, "sps" | "ps-sps"))
}

/// Whether the method's [`Estimate::lr`](crate::Estimate) is Adam-equivalent: a step of
/// about `lr` per coordinate, whatever the gradient's scale (Adam, D-Adapt Adam, Prodigy, the
/// PS methods). The others (SGD, SPS, DoG, LDoG, D-Adapt SGD) multiply the raw gradient, and
/// COCOB reports no rate.
pub fn adam_equivalent_lr(name: &str) -> Result<bool> {
    Ok(matches!(
        canonical_name(name)?,
        "adam" | "dadapt-adam" | "prodigy" | "ps-sps" | "ps-da-sgd"
    ))
}

/// The canonical name for `name`: case-insensitive, `_` accepted for `-` (the golden files'
/// spelling). Unknown names are an error listing the valid ones.
pub fn canonical_name(name: &str) -> Result<&'static str> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    NAMES
        .iter()
        .copied()
        .find(|n| *n == wanted)
        .ok_or_else(|| OptimError::UnknownOptimizer {
            name: name.to_string(),
            valid: NAMES.join(", "),
        })
}

/// The `lr` to pass to `step` when the user gives none: a step size for `sgd` and `adam`
/// (3e-4, the usual SAC value), a multiplier of the estimate (1.0) for the others.
pub fn default_lr(name: &str) -> Result<f64> {
    Ok(match canonical_name(name)? {
        "sgd" | "adam" => 3e-4,
        _ => 1.0,
    })
}

/// The configuration of any of the eleven optimizers.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerConfig {
    /// `sgd`
    Sgd(SgdConfig),
    /// `adam`
    Adam(AdamConfig),
    /// `sps`
    Sps(SpsConfig),
    /// `dog`
    Dog(DogConfig),
    /// `ldog`
    Ldog(DogConfig),
    /// `dadapt-sgd`
    DAdaptSgd(DAdaptSgdConfig),
    /// `dadapt-adam`
    DAdaptAdam(DAdaptAdamConfig),
    /// `prodigy`
    Prodigy(ProdigyConfig),
    /// `cocob`
    Cocob(CocobConfig),
    /// `ps-sps`
    PsSps(PsSpsConfig),
    /// `ps-da-sgd`
    PsDaSgd(PsDaSgdConfig),
}

fn parse<T: DeserializeOwned>(name: &str, options: Value) -> Result<T> {
    serde_path_to_error::deserialize(options).map_err(|e| {
        let message = match e.path().to_string().as_str() {
            "." => e.inner().to_string(),
            path => format!("`{path}`: {}", e.inner()),
        };
        OptimError::InvalidConfig {
            optimizer: name.to_string(),
            message,
        }
    })
}

impl OptimizerConfig {
    /// The reference defaults of optimizer `name`.
    pub fn defaults(name: &str) -> Result<Self> {
        Self::from_json(name, Value::Object(Default::default()))
    }

    /// Optimizer `name` with `options` (a JSON object of the option names in each optimizer's
    /// docs; missing options take their defaults, unknown ones are an error).
    pub fn from_json(name: &str, options: Value) -> Result<Self> {
        let name = canonical_name(name)?;
        let options = match options {
            Value::Null => Value::Object(Default::default()),
            obj @ Value::Object(_) => obj,
            other => {
                return Err(OptimError::InvalidConfig {
                    optimizer: name.to_string(),
                    message: format!("options must be a table, got `{other}`"),
                });
            }
        };
        let config = match name {
            "sgd" => Self::Sgd(parse(name, options)?),
            "adam" => Self::Adam(parse(name, options)?),
            "sps" => Self::Sps(parse(name, options)?),
            "dog" => Self::Dog(parse(name, options)?),
            "ldog" => Self::Ldog(parse(name, options)?),
            "dadapt-sgd" => Self::DAdaptSgd(parse(name, options)?),
            "dadapt-adam" => Self::DAdaptAdam(parse(name, options)?),
            "prodigy" => Self::Prodigy(parse(name, options)?),
            "cocob" => Self::Cocob(parse(name, options)?),
            "ps-sps" => Self::PsSps(parse(name, options)?),
            _ => Self::PsDaSgd(parse(name, options)?),
        };
        config.build()?; // validate now, so a bad value is reported where it was written
        Ok(config)
    }

    /// Optimizer `name` with options from a TOML table's text.
    pub fn from_toml(name: &str, options: &str) -> Result<Self> {
        let table: toml::Table =
            toml::from_str(options).map_err(|e| OptimError::InvalidConfig {
                optimizer: name.to_string(),
                message: e.to_string(),
            })?;
        Self::from_json(name, toml_to_json(toml::Value::Table(table)))
    }

    /// The registry name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "sgd",
            Self::Adam(_) => "adam",
            Self::Sps(_) => "sps",
            Self::Dog(_) => "dog",
            Self::Ldog(_) => "ldog",
            Self::DAdaptSgd(_) => "dadapt-sgd",
            Self::DAdaptAdam(_) => "dadapt-adam",
            Self::Prodigy(_) => "prodigy",
            Self::Cocob(_) => "cocob",
            Self::PsSps(_) => "ps-sps",
            Self::PsDaSgd(_) => "ps-da-sgd",
        }
    }

    /// The options as a JSON object (for run records); `from_json(name, options())` round-trips.
    pub fn options(&self) -> Value {
        fn value<T: Serialize>(t: &T) -> Value {
            serde_json::to_value(t).unwrap_or(Value::Null)
        }
        match self {
            Self::Sgd(c) => value(c),
            Self::Adam(c) => value(c),
            Self::Sps(c) => value(c),
            Self::Dog(c) | Self::Ldog(c) => value(c),
            Self::DAdaptSgd(c) => value(c),
            Self::DAdaptAdam(c) => value(c),
            Self::Prodigy(c) => value(c),
            Self::Cocob(c) => value(c),
            Self::PsSps(c) => value(c),
            Self::PsDaSgd(c) => value(c),
        }
    }

    /// A fresh optimizer of this configuration.
    pub fn build(&self) -> Result<Box<dyn LrFreeOptimizer>> {
        Ok(match self {
            Self::Sgd(c) => Box::new(c.init()?),
            Self::Adam(c) => Box::new(c.init()?),
            Self::Sps(c) => Box::new(c.init()?),
            Self::Dog(c) => Box::new(c.init()?),
            Self::Ldog(c) => Box::new(c.init_layerwise()?),
            Self::DAdaptSgd(c) => Box::new(c.init()?),
            Self::DAdaptAdam(c) => Box::new(c.init()?),
            Self::Prodigy(c) => Box::new(c.init()?),
            Self::Cocob(c) => Box::new(c.init()?),
            Self::PsSps(c) => Box::new(c.init()?),
            Self::PsDaSgd(c) => Box::new(c.init()?),
        })
    }
}

/// TOML to JSON, keeping TOML's `inf` (which JSON cannot hold) as the string `"inf"`.
pub fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::Float(f) if f.is_infinite() => {
            Value::String(if f > 0.0 { "inf" } else { "-inf" }.into())
        }
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(f).map_or(Value::String("nan".into()), Value::Number)
        }
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::String(s) => Value::String(s),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// Build optimizer `name` with its reference defaults.
pub fn build(name: &str) -> Result<Box<dyn LrFreeOptimizer>> {
    OptimizerConfig::defaults(name)?.build()
}
