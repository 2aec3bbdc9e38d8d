//! The resolved configuration of a run: built-in per-environment defaults (`configs/*.toml`,
//! compiled in), a `--config FILE`, then command-line overrides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn_lrfree::registry::{
    OptimizerSpec, adam_equivalent_lr, canonical_name, needs_optimal_loss,
};
use lrfree_agents::{SacConfig, SacOptimizers};
use lrfree_device::DeviceChoice;
use lrfree_envs::{KwargValue, Kwargs};
use lrfree_runkit::RunError;
use lrfree_runkit::config::{one_line, parse_toml, read_config};
use serde::{Deserialize, Serialize};

use crate::outcome::LrBounds;

/// Built-in defaults, by the environment names they serve (`lrfree_envs::SHORT_NAMES`, a unit
/// test keeps the two lists equal).
const BUILTIN: &[(&str, &str)] = &[
    ("Pendulum", include_str!("../configs/pendulum.toml")),
    (
        "MountainCarContinuous",
        include_str!("../configs/mountaincar.toml"),
    ),
    ("Hopper", include_str!("../configs/hopper.toml")),
    ("Humanoid", include_str!("../configs/humanoid.toml")),
];

/// The settings of a Gymnasium id without its own file ([`RunConfig::generic`]).
const GENERIC: &str = include_str!("../configs/hopper-as-defined.toml");

/// Everything one run needs; the file format of `configs/*.toml` and of a run's `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Environment name for `lrfree_envs::make_env` (`Pendulum`, `Hopper`, any Gymnasium id).
    pub env: String,
    /// Keyword arguments for the environment constructor.
    #[serde(default)]
    pub env_kwargs: toml::Table,
    /// Environment steps per seed.
    pub steps: u64,
    /// Uniformly random actions before the first update.
    pub learning_starts: u64,
    /// Evaluate every N steps (and at the end).
    pub eval_every: u64,
    /// Episodes per evaluation (deterministic policy).
    pub eval_episodes: usize,
    /// An `update` row in metrics.csv every N steps.
    pub log_every: u64,
    /// Checkpoint at the first episode end after every N steps.
    pub checkpoint_every: u64,
    /// Include the replay buffer in checkpoints (exact resume) or not (smaller checkpoints).
    pub save_buffer: bool,
    /// Final evaluation return that makes a seed a success.
    pub success_threshold: f64,
    /// An estimated learning rate above this bound counts as divergence.
    pub lr_divergence_bound: f64,
    /// Treat subnormal floats (below ~1.2e-38) as zero on the training thread (x86-64; see
    /// `burn_lrfree::internals::flush_denormals`). The CPU's slow path for them made Adam's step ten times
    /// its normal cost once training produced them (bench/README.md). Default on, as in XLA.
    #[serde(default = "yes")]
    pub flush_denormals: bool,
    /// Where to train: `"cpu"`, `"cuda"` or `"auto"` (CUDA if usable, else the CPU, saying
    /// so); `--device` overrides it. Default `"cuda"` in a build with the `cuda` feature,
    /// `"cpu"` otherwise. A run's `config.toml` records the device it ran on.
    #[serde(default = "crate::device::default_device")]
    pub device: DeviceChoice,
    /// The agent: `"sac"` (default) or `"td3"` (`lrfree_agents::registry`); `--agent`
    /// overrides it.
    #[serde(default = "sac")]
    pub agent: String,
    /// SAC hyperparameters.
    #[serde(default)]
    pub sac: SacConfig,
    /// Other agents' options by name (`[agents.td3]`: `lrfree_agents::Td3Config`'s fields);
    /// defaults for what is not given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agents: BTreeMap<String, toml::Table>,
    /// An Adam-equivalent learning-rate estimate (Adam, D-Adapt Adam, Prodigy, the PS methods:
    /// about `lr` per coordinate and step) above this bound counts as divergence. At 1 every
    /// step moves each weight by about its whole initial scale (at most 1/√fan_in), so the
    /// networks are being thrown around, not trained. Default 1. `lr_divergence_bound` applies
    /// to the rates of the other methods, which multiply raw gradients.
    #[serde(default = "one")]
    pub adam_lr_divergence_bound: f64,
    /// Optimizer of SAC's temperature log α, whatever the networks use: `"adam"` (default,
    /// SAC's published setting, lr and options from `[optimizers.adam]`: 3e-4), any other
    /// optimizer name, or `"same"`: the run's own optimizer, as for actor and critics (an
    /// ablation: D-Adaptation methods diverge on it, docs/suite.md).
    #[serde(default = "adam")]
    pub temperature_optimizer: String,
    /// Run SPS and PS-SPS in RL anyway, on the critics only (the squared TD error is bounded
    /// below by f* = 0; the actor's and temperature's losses are not), with the actor on
    /// `[optimizers.adam]`. Beyond the paper, which leaves both methods out of RL; without
    /// this key `rl-train` refuses them. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sps_critics_only: bool,
    /// Write each seed's `diagnostics.csv`: at every `log_every`-th update, what moved each
    /// D-Adaptation-type optimizer's D (the numerator, ‖s‖, d̂, D, G, the gradient's norm;
    /// `burn_lrfree::Diagnostics`), for `rl-plot`'s diagnostics figure. Off by default: then
    /// nothing is measured or written. `--diagnostics` turns it on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub diagnostics: bool,
    /// Per-optimizer `lr` and options, by registry name.
    #[serde(default)]
    pub optimizers: BTreeMap<String, toml::Table>,
}

impl RunConfig {
    /// The built-in defaults of a named environment ([`for_env`](Self::for_env) without a
    /// success threshold of the caller's).
    pub fn builtin(env: &str) -> Result<Self, RunError> {
        Self::for_env(env, None)
    }

    /// The defaults for `env`: its own file for the named environments (in any case,
    /// `lrfree_envs::canonical_env`), with `success_threshold` if given; for any other
    /// Gymnasium id, the generic MuJoCo settings ([`generic`](Self::generic)), which need
    /// `success_threshold`: without it that is an error saying so, not Hopper's bar in silence.
    pub fn for_env(env: &str, success_threshold: Option<f64>) -> Result<Self, RunError> {
        let Some(name) = lrfree_envs::canonical_env(env) else {
            return Self::generic(env, success_threshold);
        };
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| RunError::Usage(format!("no built-in config for `{name}`")))?;
        let mut config = Self::parse(text, "built-in config")?;
        config.env = name.to_string();
        if let Some(threshold) = success_threshold {
            config.success_threshold = threshold;
        }
        Ok(config)
    }

    /// The settings for a Gymnasium id without a config of its own: SAC as on Hopper
    /// (CleanRL's MuJoCo settings, `configs/hopper-as-defined.toml`: every method as defined)
    /// with the caller's success threshold, which no environment shares with another.
    pub fn generic(env: &str, success_threshold: Option<f64>) -> Result<Self, RunError> {
        lrfree_envs::check_name(env).map_err(|e| RunError::Usage(e.to_string()))?;
        let Some(threshold) = success_threshold else {
            return Err(RunError::Usage(format!(
                "`{env}` has no built-in config: it would train with the generic MuJoCo settings (configs/hopper-as-defined.toml), but what counts as success there is yours to say: give --success-threshold R (the final return of a success), or a --config file"
            )));
        };
        let mut config = Self::parse(GENERIC, "generic config")?;
        config.env = env.to_string();
        config.success_threshold = threshold;
        Ok(config)
    }

    /// Parse a TOML config's text (`origin` names it in errors).
    pub fn parse(text: &str, origin: &str) -> Result<Self, RunError> {
        parse_toml(text, origin)
    }

    /// Read a TOML config file.
    pub fn load(path: &Path) -> Result<Self, RunError> {
        Self::parse(&read_config(path)?, &path.display().to_string())
    }

    /// As TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Check values that TOML cannot.
    pub fn validate(&self) -> Result<(), RunError> {
        let bad = |m: String| Err(RunError::Usage(m));
        if self.steps == 0 {
            return bad("`steps` must be at least 1".into());
        }
        if self.eval_every == 0 || self.log_every == 0 || self.checkpoint_every == 0 {
            return bad(
                "`eval_every`, `log_every` and `checkpoint_every` must be at least 1".into(),
            );
        }
        if self.eval_episodes == 0 {
            return bad("`eval_episodes` must be at least 1".into());
        }
        for (key, bound) in [
            ("lr_divergence_bound", self.lr_divergence_bound),
            ("adam_lr_divergence_bound", self.adam_lr_divergence_bound),
        ] {
            if bound.is_nan() || bound <= 0.0 {
                return bad(format!("`{key}` = {bound} must be positive"));
            }
        }
        if self.sac.batch_size == 0 || self.sac.buffer_size < self.sac.batch_size {
            return bad(format!(
                "`sac.buffer_size` ({}) must be at least `sac.batch_size` ({}) > 0",
                self.sac.buffer_size, self.sac.batch_size
            ));
        }
        if self.temperature_optimizer != SAME {
            canonical_name(&self.temperature_optimizer).map_err(|e| {
                RunError::Usage(format!(
                    "temperature_optimizer = \"{}\": {e} (or \"{SAME}\")",
                    self.temperature_optimizer
                ))
            })?;
        }
        for name in self.optimizers.keys() {
            self.spec(name)?;
        }
        let usage = |e: lrfree_agents::AgentError| RunError::Usage(e.to_string());
        lrfree_agents::agent(&self.agent).map_err(usage)?;
        for name in self.agents.keys() {
            let kind = lrfree_agents::agent(name).map_err(usage)?;
            if kind.name == "sac" {
                return bad("SAC's options are the `[sac]` table, not `[agents.sac]`".into());
            }
        }
        Ok(())
    }

    /// The agent this run trains ([`agent`](Self::agent), checked by [`validate`](Self::validate)).
    pub fn agent_kind(&self) -> Result<&'static lrfree_agents::AgentKind, RunError> {
        lrfree_agents::agent(&self.agent).map_err(|e| RunError::Usage(e.to_string()))
    }

    /// The agent's options as a TOML table: `[sac]` for SAC, `[agents.<name>]` for the others.
    pub fn agent_options(&self) -> Result<toml::Table, RunError> {
        let kind = self.agent_kind()?;
        if kind.name == "sac" {
            return toml::Table::try_from(&self.sac)
                .map_err(|e| RunError::Usage(format!("[sac]: {e}")));
        }
        Ok(self.agents.get(kind.name).cloned().unwrap_or_default())
    }

    /// What a run of optimizer `name` (any spelling) trains with, resolved once: the name
    /// canonicalised, SPS-type methods refused unless `sps_critics_only` opts in (one line:
    /// why, and how), each part's optimizer spec (critics on `name`; the actor too, except
    /// SPS-type methods on the critics only, whose actor is on Adam; the temperature on
    /// `temperature_optimizer`) and each part's bound on its estimated rate.
    pub fn plan(&self, name: &str) -> Result<OptimizerPlan, RunError> {
        let name = canonical_name(name).map_err(|e| RunError::Usage(e.to_string()))?;
        let needs_optimum = needs_optimal_loss(name).unwrap_or(false);
        if needs_optimum && !self.sps_critics_only {
            return Err(RunError::Usage(format!(
                "{name} needs the loss at the optimum (f* = 0), which SAC's actor and temperature losses do not have, \
                 so the paper leaves it out of RL; --sps-critics-only (config: sps_critics_only = true) runs it on the \
                 critics only, actor on adam (beyond the paper)"
            )));
        }
        let actor_name = if needs_optimum { "adam" } else { name };
        let temperature_name = if self.temperature_optimizer == SAME {
            name
        } else {
            canonical_name(&self.temperature_optimizer)
                .map_err(|e| RunError::Usage(format!("temperature_optimizer: {e}")))?
        };
        // Adam-equivalent rates move every weight by about `lr`: their own, tighter bound.
        let bound = |n: &str| {
            if adam_equivalent_lr(n).unwrap_or(false) {
                self.adam_lr_divergence_bound
            } else {
                self.lr_divergence_bound
            }
        };
        Ok(OptimizerPlan {
            name: name.to_string(),
            optimizers: SacOptimizers {
                actor: self.spec(actor_name)?,
                critic: self.spec(name)?,
                temperature: self.spec(temperature_name)?,
            },
            lr_bounds: LrBounds {
                critic: bound(name),
                actor: bound(actor_name),
                temperature: bound(temperature_name),
            },
            actor_optimizer: needs_optimum.then(|| actor_name.to_string()),
            temperature_optimizer: temperature_name.to_string(),
        })
    }

    /// The environment's keyword arguments.
    pub fn kwargs(&self) -> Result<Kwargs, RunError> {
        self.env_kwargs
            .iter()
            .map(|(k, v)| Ok((k.clone(), kwarg(k, v)?)))
            .collect()
    }

    /// Optimizer `name` with `lr` and options from `[optimizers.<name>]` (defaults otherwise).
    fn spec(&self, name: &str) -> Result<OptimizerSpec, RunError> {
        OptimizerSpec::from_tables(name, &self.optimizers)
            .map_err(|e| RunError::Usage(e.to_string()))
    }
}

/// What a run of one optimizer trains with ([`RunConfig::plan`]): resolved once, at the edge,
/// from the config and the optimizer's name; the trainer and the records read it, nothing
/// recomputes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerPlan {
    /// The canonical registry name: the run's cell (`<out>/<name>/seed-N`).
    pub name: String,
    /// Each part's optimizer and learning rate.
    pub optimizers: SacOptimizers,
    /// Each part's bound on its estimated rate (see `adam_lr_divergence_bound`).
    pub lr_bounds: LrBounds,
    /// The actor's optimizer when it is not `name` (SPS-type methods on the critics only).
    pub actor_optimizer: Option<String>,
    /// The temperature's optimizer (canonical name).
    pub temperature_optimizer: String,
}

/// A reproduction suite (`configs/suite-*.toml`): every listed optimizer over `seeds` seeds on
/// one environment, on top of a regular config. Command-line flags still override each field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Environment; must agree with the base config's `env`.
    pub env: String,
    /// The regular rl-train config the runs use (relative to the suite file's directory).
    pub base: PathBuf,
    /// Environment steps per seed.
    pub steps: u64,
    /// Seeds `0..seeds`.
    pub seeds: u64,
    /// Seeds trained in parallel.
    pub jobs: usize,
    /// Run directory (relative to the working directory).
    pub out: PathBuf,
    /// Optimizers, in the table's row order.
    pub optimizers: Vec<String>,
}

/// What `--config FILE` holds: a run config, or a suite.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigFile {
    /// A regular config (`configs/pendulum.toml`, a run's `config.toml`).
    Run(RunConfig),
    /// A `[suite]` file, with its base config loaded and checked.
    Suite(Suite, RunConfig),
}

impl ConfigFile {
    /// Read `path`: a file with a `[suite]` table is a suite, anything else a run config.
    pub fn load(path: &Path) -> Result<Self, RunError> {
        let text = read_config(path)?;
        let origin = path.display().to_string();
        let table: toml::Table = parse_toml(&text, &origin)?;
        let Some(suite) = table.get("suite") else {
            return RunConfig::parse(&text, &origin).map(Self::Run);
        };
        if table.len() > 1 {
            let other: Vec<&str> = table
                .keys()
                .filter(|k| *k != "suite")
                .map(String::as_str)
                .collect();
            return Err(RunError::Usage(format!(
                "{origin}: a suite file holds only [suite] (run settings go in its `base` config), found {}",
                other.join(", ")
            )));
        }
        let suite: Suite = suite.clone().try_into().map_err(|e: toml::de::Error| {
            RunError::Usage(format!("{origin}: [suite] {}", one_line(&e.to_string())))
        })?;
        let base_path = path.parent().unwrap_or(Path::new("")).join(&suite.base);
        let base = RunConfig::load(&base_path)?;
        if !base.env.eq_ignore_ascii_case(&suite.env) {
            return Err(RunError::Usage(format!(
                "{origin}: [suite] env = \"{}\" but its base {} has env = \"{}\"",
                suite.env,
                base_path.display(),
                base.env
            )));
        }
        if suite.seeds == 0 || suite.jobs == 0 || suite.optimizers.is_empty() {
            return Err(RunError::Usage(format!(
                "{origin}: [suite] needs seeds >= 1, jobs >= 1 and at least one optimizer"
            )));
        }
        Ok(Self::Suite(suite, base))
    }
}

fn kwarg(key: &str, value: &toml::Value) -> Result<KwargValue, RunError> {
    Ok(match value {
        toml::Value::Boolean(b) => KwargValue::Bool(*b),
        toml::Value::Integer(i) => KwargValue::Int(*i),
        toml::Value::Float(f) => KwargValue::Float(*f),
        toml::Value::String(s) => KwargValue::Str(s.clone()),
        toml::Value::Array(items) => KwargValue::List(
            items
                .iter()
                .map(|v| kwarg(key, v))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(RunError::Usage(format!(
                "env_kwargs.{key} = {other}: only numbers, booleans, strings and lists"
            )));
        }
    })
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

fn adam() -> String {
    "adam".into()
}

fn sac() -> String {
    "sac".into()
}

/// `temperature_optimizer = "same"`: the run's own optimizer on the temperature.
pub const SAME: &str = "same";

#[cfg(test)]
mod tests {
    use super::*;

    /// The Hopper configs say they differ from the as-defined one in one setting each: the
    /// built-in default in PS-DA-SGD's growth cap (issue 25), the COCOB one in the temperature.
    #[test]
    fn the_hopper_variants_differ_from_the_as_defined_config_only_where_they_say() {
        let load = |name: &str| {
            RunConfig::load(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("configs")
                    .join(name),
            )
            .unwrap()
        };
        let defined = load("hopper-as-defined.toml");
        assert!(!defined.optimizers.contains_key("ps-da-sgd"));
        let mut builtin = RunConfig::builtin("Hopper").unwrap();
        let capped = builtin.optimizers.remove("ps-da-sgd").unwrap();
        assert_eq!(capped.get("growth_rate"), Some(&toml::Value::Float(1.02)));
        assert_eq!(builtin, defined);
        let mut cocob = load("hopper-cocob-temperature.toml");
        assert_eq!(cocob.temperature_optimizer, "cocob");
        cocob.temperature_optimizer = defined.temperature_optimizer.clone();
        assert_eq!(cocob, defined);
    }

    /// The plots crate (no Burn dependency) keeps the paper's eleven names in Table 3's order
    /// (colours, groups, report rows); they must be the registry's first eleven, so that a
    /// method added to the registry later only needs its file and its registry line.
    #[test]
    fn the_palette_lists_the_papers_methods_as_the_registry_does() {
        let registry = burn_lrfree::registry::NAMES;
        let paper = lrfree_plots::palette::NAMES;
        assert!(registry.len() >= paper.len());
        assert_eq!(paper.to_vec(), registry[..paper.len()].to_vec());
    }

    /// The plots crate (no Burn dependency) keeps its own list of the methods not run in RL;
    /// it must stay the registry's.
    #[test]
    fn the_report_leaves_out_of_rl_exactly_the_methods_that_need_the_optimal_loss() {
        let needing: Vec<&str> = burn_lrfree::registry::NAMES
            .iter()
            .copied()
            .filter(|n| needs_optimal_loss(n).unwrap())
            .collect();
        assert_eq!(needing, lrfree_plots::rl::report::NOT_IN_RL);
    }

    #[test]
    fn the_temperature_is_on_adam_unless_the_config_says_same() {
        let config = RunConfig::builtin("Pendulum").unwrap();
        assert_eq!(config.temperature_optimizer, "adam");
        let sac = config.plan("ps-da-sgd").unwrap().optimizers;
        assert_eq!(
            (
                sac.critic.config.name(),
                sac.actor.config.name(),
                sac.temperature.config.name()
            ),
            ("ps-da-sgd", "ps-da-sgd", "adam")
        );
        assert_eq!(sac.temperature.lr, 3e-4);
        // A config without the key (written before it had a default) now means Adam too.
        let old: String = config
            .to_toml()
            .lines()
            .filter(|l| !l.starts_with("temperature_optimizer"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            RunConfig::parse(&old, "old").unwrap().temperature_optimizer,
            "adam"
        );
        let mut same = config.clone();
        same.temperature_optimizer = SAME.into();
        let same = RunConfig::parse(&same.to_toml(), "run").unwrap();
        assert_eq!(
            same.plan("prodigy")
                .unwrap()
                .optimizers
                .temperature
                .config
                .name(),
            "prodigy"
        );
        let mut cocob = config.clone();
        cocob.temperature_optimizer = "COCOB".into();
        assert!(cocob.validate().is_ok());
        assert_eq!(
            cocob
                .plan("ps-da-sgd")
                .unwrap()
                .optimizers
                .temperature
                .config
                .name(),
            "cocob"
        );
        let mut bad = config;
        bad.temperature_optimizer = "adamw".into();
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("temperature_optimizer") && e.contains("same"),
            "{e}"
        );
    }

    #[test]
    fn sps_methods_are_refused_in_rl_unless_on_the_critics_only() {
        let mut config = RunConfig::builtin("Pendulum").unwrap();
        for name in ["sps", "PS_SPS"] {
            let e = config.plan(name).unwrap_err().to_string();
            assert!(
                e.contains("--sps-critics-only") && e.contains("optimum"),
                "{e}"
            );
        }
        assert!(config.plan("dog").is_ok());
        config.sps_critics_only = true;
        let plan = config.plan("PS_SPS").unwrap();
        assert_eq!(
            (plan.name.as_str(), plan.actor_optimizer.as_deref()),
            ("ps-sps", Some("adam"))
        );
        let sac = plan.optimizers;
        assert_eq!(
            (
                sac.critic.config.name(),
                sac.actor.config.name(),
                sac.temperature.config.name()
            ),
            ("ps-sps", "adam", "adam")
        );
        // Other methods are untouched by the opt-in.
        let dog = config.plan("dog").unwrap();
        assert_eq!(dog.optimizers.actor.config.name(), "dog");
        assert_eq!(dog.actor_optimizer, None);
    }

    #[test]
    fn each_part_gets_the_bound_of_its_optimizers_units() {
        let mut config = RunConfig::builtin("Pendulum").unwrap();
        config.lr_divergence_bound = 1000.0;
        config.adam_lr_divergence_bound = 1.0;
        let b = config.plan("dog").unwrap().lr_bounds;
        assert_eq!((b.critic, b.actor, b.temperature), (1000.0, 1000.0, 1.0));
        let b = config.plan("prodigy").unwrap().lr_bounds;
        assert_eq!((b.critic, b.actor, b.temperature), (1.0, 1.0, 1.0));
        config.temperature_optimizer = "cocob".into();
        config.sps_critics_only = true;
        let b = config.plan("sps").unwrap().lr_bounds;
        assert_eq!((b.critic, b.actor, b.temperature), (1000.0, 1.0, 1000.0));
    }

    /// One table of environment names: every short name of `lrfree_envs` has its built-in
    /// config and the reverse, and the names are matched in any case.
    #[test]
    fn every_named_environment_has_its_config_in_any_case() {
        let names: Vec<&str> = lrfree_envs::SHORT_NAMES.iter().map(|n| n.0).collect();
        let configs: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
        assert_eq!(names, configs);
        for name in names {
            let config = RunConfig::builtin(&name.to_ascii_lowercase()).unwrap();
            assert_eq!(config.env, name);
        }
    }

    /// A Gymnasium id without a config of its own gets the generic settings only with the
    /// caller's success threshold: not Hopper's 3000 in silence (issue 27).
    #[test]
    fn an_unknown_gymnasium_id_asks_for_its_success_threshold() {
        let refused = RunConfig::builtin("Walker2d-v5").unwrap_err().to_string();
        assert!(
            refused.contains("--success-threshold") && !refused.contains('\n'),
            "{refused}"
        );
        let config = RunConfig::for_env("Walker2d-v5", Some(4000.0)).unwrap();
        assert_eq!(
            (config.env.as_str(), config.success_threshold),
            ("Walker2d-v5", 4000.0)
        );
        assert!(
            config.optimizers.is_empty(),
            "the generic settings carry Hopper's tuned options: {:?}",
            config.optimizers
        );
        // A named environment keeps its own settings; the threshold is the caller's if given.
        let hopper = RunConfig::for_env("hopper", Some(2500.0)).unwrap();
        assert_eq!(
            (hopper.env.as_str(), hopper.success_threshold),
            ("Hopper", 2500.0)
        );
    }

    #[test]
    fn flush_denormals_defaults_on_and_round_trips_through_a_run_config() {
        for env in ["Pendulum", "MountainCarContinuous", "Hopper", "Humanoid"] {
            assert!(RunConfig::builtin(env).unwrap().flush_denormals, "{env}");
        }
        let generic = RunConfig::for_env("Walker2d-v5", Some(4000.0)).unwrap();
        assert!(generic.flush_denormals);
        // A config written before the key existed reads as on.
        let mut old = RunConfig::builtin("Pendulum").unwrap().to_toml();
        old = old
            .lines()
            .filter(|l| !l.starts_with("flush_denormals"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(RunConfig::parse(&old, "old").unwrap().flush_denormals);
        // Off survives the run directory's config.toml, so a resume keeps IEEE subnormals.
        let mut off = RunConfig::builtin("Pendulum").unwrap();
        off.flush_denormals = false;
        assert!(
            !RunConfig::parse(&off.to_toml(), "run")
                .unwrap()
                .flush_denormals
        );
    }
}
