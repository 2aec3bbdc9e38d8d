//! One optimizer of a run: the method with its options and the `lr` to step with, read from
//! the `[optimizers.<name>]` tables of a TOML config (re-exported from [`registry`](crate::registry)).

use std::collections::BTreeMap;

use crate::error::{OptimError, Result};
use crate::registry::{OptimizerConfig, canonical_name, default_lr, toml_to_json};

/// One optimizer: which method with which options, and the `lr` passed to every step
/// (a step size for `sgd`/`adam`, a multiplier of the estimate, usually 1.0, for the others).
///
/// ```
/// use std::collections::BTreeMap;
/// use burn_lrfree::registry::OptimizerSpec;
/// // The `[optimizers]` section of a config: one table per optimizer, under any spelling.
/// let tables: BTreeMap<String, toml::Table> =
///     toml::from_str("[PS_DA_SGD]\nlr = 0.5\nmomentum = 0.0\n").unwrap();
/// let spec = OptimizerSpec::from_tables("ps-da-sgd", &tables).unwrap();
/// assert_eq!((spec.config.name(), spec.lr), ("ps-da-sgd", 0.5));
/// assert_eq!(OptimizerSpec::from_tables("adam", &tables).unwrap(), OptimizerSpec::defaults("adam").unwrap());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerSpec {
    /// The method and its options.
    pub config: OptimizerConfig,
    /// The learning rate (or multiplier) passed to `step`.
    pub lr: f64,
}

impl OptimizerSpec {
    /// Method `name` with its reference defaults and [`default_lr`].
    pub fn defaults(name: &str) -> Result<Self> {
        Ok(Self {
            config: OptimizerConfig::defaults(name)?,
            lr: default_lr(name)?,
        })
    }

    /// Method `name` with `lr` and options from its table in `tables`, the `[optimizers]`
    /// section of a config (one `[optimizers.<name>]` table per optimizer, matched by
    /// canonical name, so `PS_DA_SGD` sets `ps-da-sgd`). Without a table, or without `lr` in
    /// it, the reference defaults and [`default_lr`].
    ///
    /// Errors: an unknown name ([`OptimError::UnknownOptimizer`]), an `lr` that is not a
    /// positive finite number ([`OptimError::InvalidLr`]), an unknown or out-of-range option
    /// ([`OptimError::InvalidConfig`]).
    pub fn from_tables(name: &str, tables: &BTreeMap<String, toml::Table>) -> Result<Self> {
        let canonical = canonical_name(name)?;
        let mut options = tables
            .iter()
            .find(|(k, _)| canonical_name(k).ok() == Some(canonical))
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        let lr = match options.remove("lr") {
            None => default_lr(canonical)?,
            Some(v) => v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|lr| *lr > 0.0 && lr.is_finite())
                .ok_or_else(|| OptimError::InvalidLr {
                    optimizer: canonical.to_string(),
                    value: v.to_string(),
                })?,
        };
        let config =
            OptimizerConfig::from_json(canonical, toml_to_json(toml::Value::Table(options)))?;
        Ok(Self { config, lr })
    }
}

/// Optimizer names (as given on a command line, `--opt a,b`) as the registry spells them, in
/// the given order, each once. An unknown name is an error listing the valid ones.
///
/// ```
/// use burn_lrfree::registry::canonical_names;
/// assert_eq!(canonical_names(["PS_DA_SGD", "adam", "ps-da-sgd"]).unwrap(), ["ps-da-sgd", "adam"]);
/// ```
pub fn canonical_names<I>(names: I) -> Result<Vec<&'static str>>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut canonical: Vec<&'static str> = Vec::new();
    for name in names {
        let name = canonical_name(name.as_ref())?;
        if !canonical.contains(&name) {
            canonical.push(name);
        }
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(text: &str) -> BTreeMap<String, toml::Table> {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_table_sets_lr_and_options_under_any_spelling_of_the_name() {
        let t = tables("[PS_DA_SGD]\nlr = 2\n[adam]\nbetas = [0.8, 0.99]\n");
        let spec = OptimizerSpec::from_tables("ps-da-sgd", &t).unwrap();
        assert_eq!((spec.config.name(), spec.lr), ("ps-da-sgd", 2.0));
        let spec = OptimizerSpec::from_tables("Adam", &t).unwrap();
        assert_eq!(spec.config.name(), "adam");
        assert_eq!(spec.lr, default_lr("adam").unwrap());
        assert_eq!(spec.config.options()["betas"][0], 0.8);
        assert_eq!(
            OptimizerSpec::from_tables("dog", &t).unwrap(),
            OptimizerSpec::defaults("dog").unwrap()
        );
        let inf = tables("[prodigy]\nlr = 0.5\ngrowth_rate = inf\n");
        let spec = OptimizerSpec::from_tables("prodigy", &inf).unwrap();
        assert_eq!(spec.lr, 0.5);
        assert_eq!(spec.config.options()["growth_rate"], "inf");
    }

    #[test]
    fn bad_names_lrs_and_options_are_errors_that_say_what_is_wrong() {
        for (text, name, says) in [
            (
                "",
                "adamw",
                "unknown optimizer `adamw`; valid names are: sgd, sps,",
            ),
            (
                "[adam]\nlr = -1\n",
                "adam",
                "[optimizers.adam] lr = -1 must be a positive number",
            ),
            (
                "[Adam]\nlr = \"fast\"\n",
                "ADAM",
                "[optimizers.adam] lr = \"fast\" must be a positive number",
            ),
            (
                "[dog]\nlr = inf\n",
                "dog",
                "[optimizers.dog] lr = inf must be a positive number",
            ),
            (
                "[adam]\nwobble = 1\n",
                "adam",
                "invalid configuration for `adam`: `wobble`: unknown field `wobble`",
            ),
            (
                "[ps-da-sgd]\nmomentum = 2.0\n",
                "ps-da-sgd",
                "invalid configuration for `ps-da-sgd`",
            ),
        ] {
            let e = OptimizerSpec::from_tables(name, &tables(text)).unwrap_err();
            assert!(e.to_string().starts_with(says), "{e}");
        }
        assert!(matches!(
            OptimizerSpec::from_tables("adam", &tables("[adam]\nlr = 0\n")),
            Err(OptimError::InvalidLr { .. })
        ));
        // A table of an unknown name is not read (the runners check their tables' names).
        assert!(OptimizerSpec::from_tables("adam", &tables("[adamw]\nlr = -1\n")).is_ok());
    }

    #[test]
    fn names_are_canonical_in_order_each_once() {
        let names: Vec<String> = ["PS_DA_SGD", "adam", "ps-da-sgd"]
            .map(String::from)
            .to_vec();
        assert_eq!(canonical_names(&names).unwrap(), ["ps-da-sgd", "adam"]);
        assert!(canonical_names(Vec::<String>::new()).unwrap().is_empty());
        let e = canonical_names(["adam", "nope"]).unwrap_err();
        assert_eq!(
            e,
            OptimError::UnknownOptimizer {
                name: "nope".into(),
                valid: crate::registry::NAMES.join(", "),
            }
        );
    }
}
