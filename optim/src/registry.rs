//! Build any optimizer by name, with options from TOML or JSON; read a run's optimizers
//! (names from a command line, [`canonical_names`]; `lr` and options from a config's
//! `[optimizers.<name>]` tables, [`OptimizerSpec::from_tables`]).
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

use crate::adam::TorchAdamConfig;
use crate::api::LrFreeOptimizer;
use crate::cocob::CocobConfig;
use crate::dadapt_adam::DAdaptAdamConfig;
use crate::dadapt_sgd::DAdaptSgdConfig;
use crate::dog::DogConfig;
use crate::error::{OptimError, Result};
use crate::ldog::LdogConfig;
use crate::method::LrFreeConfig;
use crate::module::ModuleOptimizer;
use crate::prodigy::ProdigyConfig;
use crate::ps_da_sgd::PsDaSgdConfig;
use crate::ps_sps::PsSpsConfig;
use crate::sgd::SgdConfig;
use crate::sps::SpsConfig;

pub use crate::spec::{OptimizerSpec, canonical_names};

/// The registry: one line per optimizer (its variant and config type; the name and properties
/// come from the config's [`LrFreeConfig`] implementation), in the order of the paper's
/// Table 3: steepest descent (SGD, SPS, DoG, D-Adapt SGD), adaptive (Adam, COCOB, LDoG,
/// D-Adapt Adam, Prodigy), proposed (PS-SPS, PS-DA-SGD).
macro_rules! registry {
    ($($variant:ident($config:ty)),* $(,)?) => {
        /// The registry names, in the order of the paper's Table 3 (steepest descent:
        /// `sgd` to `dadapt-sgd`; adaptive: `adam` to `prodigy`; proposed: `ps-sps`, `ps-da-sgd`).
        pub const NAMES: [&str; [$(<$config as LrFreeConfig>::NAME),*].len()] =
            [$(<$config as LrFreeConfig>::NAME),*];

        /// The configuration of any of the optimizers, chosen by name at run time.
        #[derive(Debug, Clone, PartialEq)]
        pub enum OptimizerConfig {
            $(
                #[doc = concat!("`", stringify!($config), "`")]
                $variant($config),
            )*
        }

        /// (name, Adam-equivalent rate, needs the optimal loss, default lr) per optimizer.
        const PROPERTIES: [(&str, bool, bool, f64); NAMES.len()] = [$((
            <$config as LrFreeConfig>::NAME,
            <$config as LrFreeConfig>::ADAM_EQUIVALENT_LR,
            <$config as LrFreeConfig>::NEEDS_OPTIMAL_LOSS,
            <$config as LrFreeConfig>::DEFAULT_LR,
        )),*];

        impl OptimizerConfig {
            fn parse_named(name: &'static str, options: Value) -> Result<Self> {
                $(
                    if name == <$config as LrFreeConfig>::NAME {
                        return Ok(Self::$variant(parse(name, options)?));
                    }
                )*
                Err(unknown(name))
            }

            /// The registry name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$config as LrFreeConfig>::NAME,)*
                }
            }

            /// The options as a JSON object (for run records); `from_json(name, options())`
            /// round-trips.
            pub fn options(&self) -> Value {
                match self {
                    $(Self::$variant(c) => value(c),)*
                }
            }

            /// A fresh bare optimizer of this configuration (for runners that hold any of
            /// them); [`init`](Self::init) is the Burn-style one.
            pub fn build(&self) -> Result<Box<dyn LrFreeOptimizer>> {
                Ok(match self {
                    $(Self::$variant(c) => Box::new(c.build()?),)*
                })
            }

            /// Burn's `ModuleOptimizer` of this method, for burn-train's `Learner`, and the
            /// tracker of its estimate ([`train::init`](crate::train::init)).
            pub fn init_learner(&self) -> Result<(burn::optim::ModuleOptimizer, crate::train::Tracker)> {
                match self {
                    $(Self::$variant(c) => crate::train::init(c),)*
                }
            }
        }
    };
}

registry! {
    Sgd(SgdConfig),
    Sps(SpsConfig),
    Dog(DogConfig),
    DAdaptSgd(DAdaptSgdConfig),
    Adam(TorchAdamConfig),
    Cocob(CocobConfig),
    Ldog(LdogConfig),
    DAdaptAdam(DAdaptAdamConfig),
    Prodigy(ProdigyConfig),
    PsSps(PsSpsConfig),
    PsDaSgd(PsDaSgdConfig),
}

fn properties(name: &str) -> Result<(&'static str, bool, bool, f64)> {
    let name = canonical_name(name)?;
    PROPERTIES
        .iter()
        .copied()
        .find(|p| p.0 == name)
        .ok_or_else(|| unknown(name))
}

fn unknown(name: &str) -> OptimError {
    OptimError::UnknownOptimizer {
        name: name.to_string(),
        valid: NAMES.join(", "),
    }
}

fn value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// Whether the method needs the loss value at the optimum (SPS and PS-SPS: Polyak's step
/// `(f − f*)/‖g‖²` with `f* = 0`). On a loss with no lower bound at 0 the step changes sign
/// and climbs the loss; the paper leaves these two out of its RL experiments for that reason.
pub fn needs_optimal_loss(name: &str) -> Result<bool> {
    Ok(properties(name)?.2)
}

/// Whether the method's [`Estimate::lr`](crate::Estimate) is Adam-equivalent: a step of
/// about `lr` per coordinate, whatever the gradient's scale (Adam, D-Adapt Adam, Prodigy, the
/// PS methods). The others (SGD, SPS, DoG, LDoG, D-Adapt SGD) multiply the raw gradient, and
/// COCOB reports no rate.
pub fn adam_equivalent_lr(name: &str) -> Result<bool> {
    Ok(properties(name)?.1)
}

/// The canonical name for `name`: case-insensitive, `_` accepted for `-` (the golden files'
/// spelling). Unknown names are an error listing the valid ones.
pub fn canonical_name(name: &str) -> Result<&'static str> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    NAMES
        .iter()
        .copied()
        .find(|n| *n == wanted)
        .ok_or_else(|| unknown(name))
}

/// The `lr` to pass to `step` when the user gives none: a step size for `sgd` and `adam`
/// (3e-4, the usual SAC value), a multiplier of the estimate (1.0) for the others.
pub fn default_lr(name: &str) -> Result<f64> {
    Ok(properties(name)?.3)
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
        let config = Self::parse_named(name, options)?;
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

    /// The optimizer, ready to step Burn modules (`model = optim.step(lr, model, grads)`).
    pub fn init(&self) -> ModuleOptimizer<Box<dyn LrFreeOptimizer>> {
        ModuleOptimizer::from_build(self.build())
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
