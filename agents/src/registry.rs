//! The agents rl-train can train, by name (`--agent`, `agent = "..."` in a config).
//!
//! Adding an agent is one new file implementing [`RlAgent`] with a
//! `KIND: AgentKind`, and one line in [`AGENTS`]; its options come from the run config's
//! `[agents.<name>]` table ([`AgentSpec::options`]). `agents/tests/registry.rs` checks every entry
//! trains, saves and resumes bit for bit.

use std::path::Path;

use burn::tensor::Device;
use serde::de::DeserializeOwned;

use crate::agent::{Network, RlAgent};
use crate::config::SacOptimizers;
use crate::error::AgentError;

/// Every agent, by name. The first is the default.
pub const AGENTS: &[AgentKind] = &[crate::sac::KIND, crate::td3::KIND];

/// What an agent is built from: the environment's sizes, the optimizers, the seed, the
/// device and the agent's options.
#[derive(Debug, Clone, Copy)]
pub struct AgentSpec<'a> {
    /// Observation width.
    pub obs_dim: usize,
    /// Lower bounds of the action box.
    pub low: &'a [f32],
    /// Upper bounds of the action box.
    pub high: &'a [f32],
    /// One optimizer per network (an agent uses those of its [`AgentKind::networks`]).
    pub optimizers: &'a SacOptimizers,
    /// The agent's seed: its weights and its random stream.
    pub seed: u64,
    /// The device (plain or autodiff; the networks train on its autodiff form).
    pub device: &'a Device,
    /// The agent's options (`[agents.<name>]`, or `[sac]` for SAC), as TOML.
    pub options: &'a toml::Table,
}

impl AgentSpec<'_> {
    /// The options as the agent's config type, defaults for what is not given; an unknown
    /// key or a bad value is an error naming it.
    pub fn options<T: DeserializeOwned>(&self) -> Result<T, AgentError> {
        toml::Table::try_into(self.options.clone())
            .map_err(|e| AgentError::BadInput(format!("agent options: {}", e.message())))
    }

    /// Check the sizes and bounds (every agent needs the same).
    pub fn check(&self) -> Result<(), AgentError> {
        let act_dim = self.low.len();
        if self.obs_dim == 0 || act_dim == 0 {
            return Err(AgentError::BadInput(format!(
                "need obs_dim > 0 and act_dim > 0, got {} and {act_dim}",
                self.obs_dim
            )));
        }
        if self.high.len() != act_dim {
            return Err(AgentError::BadInput(format!(
                "action bounds differ in length: low has {act_dim}, high has {}",
                self.high.len()
            )));
        }
        if let Some(i) = (0..act_dim).find(|&i| {
            let (lo, hi) = (self.low[i], self.high[i]);
            !(lo.is_finite() && hi.is_finite() && lo < hi)
        }) {
            return Err(AgentError::BadInput(format!(
                "action dimension {i} needs finite low < high, got [{}, {}]",
                self.low[i], self.high[i]
            )));
        }
        Ok(())
    }
}

/// A fresh agent for a spec.
pub type NewAgent = fn(&AgentSpec) -> Result<Box<dyn RlAgent>, AgentError>;
/// An agent saved in a directory, checked against a spec.
pub type LoadAgent = fn(&Path, &AgentSpec) -> Result<Box<dyn RlAgent>, AgentError>;

/// One agent of the registry.
#[derive(Debug, Clone, Copy)]
pub struct AgentKind {
    /// Its name (`sac`, `td3`).
    pub name: &'static str,
    /// The networks it optimizes, each with its own optimizer.
    pub networks: &'static [Network],
    /// Build a fresh one.
    pub new: NewAgent,
    /// Restore a saved one.
    pub load: LoadAgent,
}

impl AgentKind {
    /// Whether it learns an entropy temperature (with its own optimizer).
    pub fn has_temperature(&self) -> bool {
        self.networks.contains(&Network::Temperature)
    }
}

/// The agent called `name` (any case), or an error listing the known ones.
pub fn agent(name: &str) -> Result<&'static AgentKind, AgentError> {
    AGENTS
        .iter()
        .find(|kind| kind.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let known: Vec<&str> = AGENTS.iter().map(|k| k.name).collect();
            AgentError::BadInput(format!(
                "unknown agent `{name}`; known: {}",
                known.join(", ")
            ))
        })
}
