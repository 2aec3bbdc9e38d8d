//! SAC under burn-train's `RLTraining` (feature `burn-train`): its record as a burn-train
//! [`Checkpoint`], its [`UpdateReport`] as a metric item, and metrics that show what each
//! optimizer estimated next to the losses.
//!
//! [`rl_training`] sets up `RLTraining` + `OffPolicyStrategy` with SAC's batch and buffer
//! sizes and these metrics (estimated LR of actor and critic, critic loss, α):
//!
//! ```text
//! let env_init = BurnEnv::init("Pendulum", &kwargs, seed)?;
//! let result = rl_training(dir, env_init, &plan).launch(sac);
//! ```
//! `cargo run --release --example rltraining` runs it on Pendulum (docs/burn-rl.md).

use std::path::PathBuf;
use std::sync::Arc;

use burn::store::RecordError;
use burn::tensor::{Bytes, TensorReadError};
use burn_std::ExecutionError;
use burn_train::ItemLazy;
use burn_train::checkpoint::{Checkpoint, CheckpointerError};
use burn_train::metric::state::{FormatOptions, NumericMetricState};
use burn_train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use burn::rl::{Batchable, Policy, PolicyLearner, PolicyState};
use burn_train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn_train::metric::MetricDefinition;
use burn_train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn_train::{OffPolicyConfig, RLComponentsMarker, RLStrategies, RLTraining};
use lrfree_envs::{Actions, BurnEnv, Observations};

use crate::agent::{Network, UpdateStats};
use crate::checkpoint::AgentRecord;
use crate::learner::UpdateReport;

impl ItemLazy for UpdateReport {
    /// Host numbers already: nothing to wait for.
    fn sync(self) -> Result<Self, ExecutionError> {
        Ok(self)
    }
}

impl Adaptor<UpdateReport> for UpdateReport {
    fn adapt(&self) -> UpdateReport {
        self.clone()
    }
}

impl Checkpoint for AgentRecord {
    fn save(self, path: PathBuf) -> Result<(), CheckpointerError> {
        std::fs::write(&path, self.to_bytes()).map_err(CheckpointerError::IOError)
    }

    fn load(path: PathBuf) -> Result<Self, CheckpointerError> {
        let bytes = std::fs::read(&path).map_err(CheckpointerError::IOError)?;
        AgentRecord::from_bytes(&bytes).map_err(|e| CheckpointerError::Unknown(e.to_string()))
    }

    fn checkpoint_from_bytes(bytes: Bytes) -> Result<Self, RecordError> {
        AgentRecord::from_bytes(&bytes).map_err(|e| RecordError::Io(e.to_string()))
    }

    fn checkpoint_into_bytes(self) -> Result<Bytes, RecordError> {
        Ok(Bytes::from_bytes_vec(self.to_bytes()))
    }
}

/// A number of each [`UpdateReport`] as a numeric burn-train metric (its running mean over the
/// items of an epoch). An update an optimizer refused, or a value the optimizer does not have
/// (Adam has no D), is reported as not available.
#[derive(Clone)]
pub struct UpdateMetric {
    name: MetricName,
    network: Network,
    pick: fn(Network, &UpdateStats) -> Option<f64>,
    state: NumericMetricState,
}

impl UpdateMetric {
    fn new(name: String, network: Network, pick: fn(Network, &UpdateStats) -> Option<f64>) -> Self {
        Self {
            name: Arc::new(name),
            network,
            pick,
            state: NumericMetricState::new(),
        }
    }

    /// The learning rate `network`'s optimizer used at this update (for the Adam-like methods
    /// the Adam-equivalent rate, D·η).
    pub fn estimated_lr(network: Network) -> Self {
        let name = format!("Estimated LR ({})", network.name());
        Self::new(name, network, |n, s| s.estimate(n).and_then(|e| e.lr))
    }

    /// The distance estimate D of `network`'s optimizer (the D-Adaptation family).
    pub fn estimated_d(network: Network) -> Self {
        let name = format!("Estimated D ({})", network.name());
        Self::new(name, network, |n, s| s.estimate(n).and_then(|e| e.d))
    }

    /// The twin critics' loss before the step.
    pub fn critic_loss() -> Self {
        Self::new("Critic loss".into(), Network::Critic, |_, s| {
            Some(s.critic_loss)
        })
    }

    /// The actor's loss before the step.
    pub fn actor_loss() -> Self {
        Self::new("Actor loss".into(), Network::Actor, |_, s| {
            Some(s.actor_loss)
        })
    }

    /// The temperature α after the step.
    pub fn temperature() -> Self {
        Self::new("Temperature α".into(), Network::Temperature, |_, s| {
            s.temperature.as_ref().map(|t| t.value)
        })
    }

    fn format(&self) -> FormatOptions {
        FormatOptions::new(self.name.clone()).precision(4)
    }
}

impl Metric for UpdateMetric {
    type Input = UpdateReport;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &UpdateReport,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value = item.stats().and_then(|s| (self.pick)(self.network, s));
        match value.filter(|v| v.is_finite()) {
            Some(value) => {
                self.state.update(value, 1);
                Ok(self.state.compute_update(self.format()))
            }
            None => Ok(SerializedEntry::not_available(None)),
        }
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.state.compute_final(self.format()))
    }

    fn clear(&mut self) {
        self.state.reset();
    }
}

impl Numeric for UpdateMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

/// The budget of an `RLTraining` run, in rl-train's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffPolicyPlan {
    /// Environment steps.
    pub steps: usize,
    /// Steps before the first update (burn-train acts with the initial policy meanwhile, not
    /// uniformly at random as rl-train does).
    pub learning_starts: usize,
    /// Steps between burn-train's evaluations.
    pub eval_every: usize,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
    /// The agent's mini-batch size.
    pub batch_size: usize,
    /// The replay buffer's capacity.
    pub buffer_size: usize,
}

/// burn-train's `RLTraining` for an agent of this crate (SAC, TD3) on one [`BurnEnv`] in
/// `dir`: `OffPolicyStrategy` with one environment, one update per step, the agent's batch and
/// replay-buffer sizes (`plan`), the metrics of [`UpdateMetric`] (estimated LR of actor and
/// critic, critic loss, α where the agent has one) and [`StepLines`] as the renderer. Add
/// metrics or change the renderer on the result, then `launch(agent)`.
pub fn rl_training<A, P, F>(
    dir: impl AsRef<std::path::Path>,
    env_init: F,
    plan: &OffPolicyPlan,
) -> RLTraining<RLComponentsMarker<BurnEnv, F, A>>
where
    F: Fn() -> BurnEnv + Clone + Send + 'static,
    A: PolicyLearner<TrainContext = UpdateReport, InnerPolicy = P, Record = AgentRecord>
        + Send
        + 'static,
    P: Policy<Observation = Observations, Action = Actions, ActionContext = ()> + Send + 'static,
    P::ActionDistribution: Batchable + Clone + Send,
    P::PolicyState: Clone + Send + 'static,
    <P::PolicyState as PolicyState>::Record: Checkpoint,
{
    let strategy = OffPolicyConfig::new()
        .with_num_envs(1)
        .with_replay_buffer_size(plan.buffer_size)
        .with_train_batch_size(plan.batch_size)
        .with_warmup_steps(plan.learning_starts)
        .with_eval_interval(plan.eval_every)
        .with_eval_episodes(plan.eval_episodes);
    RLTraining::new(dir, env_init)
        .num_steps(plan.steps)
        .metrics_train((
            UpdateMetric::estimated_lr(Network::Actor),
            UpdateMetric::estimated_lr(Network::Critic),
            UpdateMetric::critic_loss(),
            UpdateMetric::temperature(),
        ))
        .renderer(Box::new(StepLines { total: plan.steps }))
        .with_learning_strategy(RLStrategies::OffPolicyStrategy(strategy))
}

/// A renderer for logs: burn-train's CLI renderer prints a line per environment step, this
/// one the step count every 1000 steps on stderr and nothing else (the metrics are in
/// burn-train's logs in the training directory).
pub struct StepLines {
    total: usize,
}

impl MetricsRendererTraining for StepLines {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for StepLines {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for StepLines {
    fn start(&mut self, _epochs: usize, _start: usize, items: Option<usize>, _label: Option<&str>) {
        self.total = items.unwrap_or(0);
    }
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, items_processed: usize) {
        if items_processed.is_multiple_of(1000) {
            eprintln!("step {items_processed} of {}", self.total);
        }
    }
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for StepLines {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for StepLines {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
