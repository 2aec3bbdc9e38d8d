//! # lrfree-optspec: the optimizers of a run, as `rl-train` and `sl-train` read them
//!
//! Both runners take optimizer names on the command line (`--opt a,b`) and each optimizer's
//! `lr` and options from an `[optimizers.<name>]` table of their TOML config. Reading both
//! needs the registry of [`burn_lrfree`], so it cannot live in the Burn-free
//! `lrfree-runkit`; and `sl-train` should not depend on the SAC crate, where the optimizer
//! spec type lives (`lrfree_agents::OptimizerSpec`). It is here until it moves next to the
//! registry in `optim/` (with the spec type), where it belongs.

use std::collections::BTreeMap;

use burn_lrfree::registry::{OptimizerConfig, canonical_name, default_lr, toml_to_json};
use lrfree_runkit::RunError;

/// Optimizer `name` with `lr` and options from its `[optimizers.<name>]` table in `tables`
/// (matched by canonical name; defaults otherwise): the method with its options, and the
/// learning rate (or multiplier of the estimate) to step with.
pub fn optimizer_spec(
    tables: &BTreeMap<String, toml::Table>,
    name: &str,
) -> Result<(OptimizerConfig, f64), RunError> {
    let canonical = canonical_name(name).map_err(|e| RunError::Usage(e.to_string()))?;
    let mut options = tables
        .iter()
        .find(|(k, _)| canonical_name(k).ok() == Some(canonical))
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    let lr = match options.remove("lr") {
        None => default_lr(canonical).map_err(|e| RunError::Usage(e.to_string()))?,
        Some(v) => v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .filter(|lr| *lr > 0.0 && lr.is_finite())
            .ok_or_else(|| {
                RunError::Usage(format!(
                    "[optimizers.{canonical}] lr = {v} must be a positive number"
                ))
            })?,
    };
    let config = OptimizerConfig::from_json(canonical, toml_to_json(toml::Value::Table(options)))
        .map_err(|e| RunError::Usage(e.to_string()))?;
    Ok((config, lr))
}

/// Optimizer names as the registry spells them, in the given order, each once.
pub fn canonical_optimizers(names: &[String]) -> Result<Vec<String>, RunError> {
    let mut optimizers: Vec<String> = Vec::new();
    for name in names {
        let canonical = canonical_name(name).map_err(|e| RunError::Usage(e.to_string()))?;
        if !optimizers.iter().any(|o| o == canonical) {
            optimizers.push(canonical.to_string());
        }
    }
    Ok(optimizers)
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
        let (config, lr) = optimizer_spec(&t, "ps-da-sgd").unwrap();
        assert_eq!((config.name(), lr), ("ps-da-sgd", 2.0));
        let (config, lr) = optimizer_spec(&t, "Adam").unwrap();
        assert_eq!(config.name(), "adam");
        assert_eq!(lr, default_lr("adam").unwrap());
        assert_eq!(config.options()["betas"][0], 0.8);
        assert_eq!(
            optimizer_spec(&t, "dog").unwrap().1,
            default_lr("dog").unwrap()
        );
    }

    #[test]
    fn bad_names_lrs_and_options_are_usage_errors() {
        for (text, name, says) in [
            ("", "adamw", "adamw"),
            (
                "[adam]\nlr = -1\n",
                "adam",
                "lr = -1 must be a positive number",
            ),
            ("[adam]\nwobble = 1\n", "adam", "wobble"),
        ] {
            let e = optimizer_spec(&tables(text), name).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn names_are_canonical_in_order_each_once() {
        let names: Vec<String> = ["PS_DA_SGD", "adam", "ps-da-sgd"]
            .map(String::from)
            .to_vec();
        assert_eq!(canonical_optimizers(&names).unwrap(), ["ps-da-sgd", "adam"]);
        assert!(canonical_optimizers(&["nope".into()]).is_err());
    }
}
