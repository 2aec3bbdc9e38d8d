//! [`Sac`] as a [`burn::rl::PolicyLearner`]: burn-train's `RLTraining` (or any loop written
//! against burn-rl) samples the transitions and hands SAC one mini-batch per `train` call.
//!
//! What the trait has no word for stays on [`Sac`] itself: the replay buffer and warm-up of
//! rl-train's own loop ([`Sac::observe`], [`Sac::update`]), the three optimizers' estimates
//! ([`UpdateStats`]), diagnostics and the directory checkpoint.

use burn::module::Module;
use burn::rl::{LearnerTransitionBatch, PolicyLearner, RLTrainOutput};
use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use std::sync::Arc;

use crate::agent::UpdateStats;
use crate::checkpoint::AgentRecord;
use crate::error::AgentError;
use crate::policy::{ActorState, SacPolicy};
use crate::sac::{BatchTensors, Sac};

/// What one `train` call did: the update's numbers, or why an optimizer refused its step
/// (non-finite gradients once a run has diverged). burn-rl's `train` cannot fail, so a refusal
/// is reported here and the refused network keeps its parameters.
#[derive(Debug, Clone)]
pub enum UpdateReport {
    /// The update happened.
    Done(Box<UpdateStats>),
    /// An optimizer refused its step: why ([`AgentError::Refused`]; shared so the report can
    /// be cloned, as burn-train's metrics need).
    Refused(Arc<AgentError>),
}

impl UpdateReport {
    /// The update's numbers, or the refusal as the error it was.
    pub fn into_result(self) -> Result<UpdateStats, AgentError> {
        match self {
            Self::Done(stats) => Ok(*stats),
            Self::Refused(e) => Err(Arc::try_unwrap(e)
                .unwrap_or_else(|shared| AgentError::BadInput(shared.to_string()))),
        }
    }

    /// The update's numbers, if it happened.
    pub fn stats(&self) -> Option<&UpdateStats> {
        match self {
            Self::Done(stats) => Some(stats),
            Self::Refused(_) => None,
        }
    }
}

/// The stream of the policy handed to other loops: seeded by the agent's seed, apart from the
/// agent's own stream (stream 1 of the same key).
fn policy_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    rng
}

impl PolicyLearner for Sac {
    type TrainContext = UpdateReport;
    type InnerPolicy = SacPolicy;
    type Record = AgentRecord;

    /// One SAC update on `input` (critics, actor, temperature, targets; see [`Sac::update`]).
    /// `dones` should be terminations only; burn-train 0.22 passes truncations too.
    fn train(
        &mut self,
        input: LearnerTransitionBatch<SacPolicy>,
    ) -> RLTrainOutput<UpdateReport, ActorState> {
        let plain = self.plain.clone();
        let batch = BatchTensors {
            obs: input.states.0.to_device(&plain),
            actions: input.actions.0.to_device(&plain),
            rewards: input.rewards.to_device(&plain),
            next_obs: input.next_states.0.to_device(&plain),
            terminated: input.dones.to_device(&plain),
        };
        let item = match self.update_on(batch) {
            Ok(stats) => UpdateReport::Done(Box::new(stats)),
            Err(e) => UpdateReport::Refused(Arc::new(e)),
        };
        RLTrainOutput {
            policy: ActorState(self.actor.valid()),
            item,
        }
    }

    /// The current policy. Its noise stream starts afresh from the agent's seed at each call;
    /// burn-train takes one policy per runner and then only sends it new actors.
    fn policy(&self) -> SacPolicy {
        self.policy_with(policy_rng(self.seed))
    }

    fn update_policy(&mut self, update: SacPolicy) {
        self.set_actor(update.actor);
    }

    fn record(&self) -> AgentRecord {
        self.record(false)
    }

    /// # Panics
    /// If `record` was saved by another kind of agent (other sizes, hidden layers or
    /// optimizers): burn-rl's `load_record` cannot fail, and training on from a fresh agent
    /// instead would be silently wrong. [`Sac::from_record`] returns the error instead.
    fn load_record(self, record: AgentRecord) -> Self {
        let (config, optimizers, device) = (
            self.config.clone(),
            self.optimizers.clone(),
            self.device.clone(),
        );
        Sac::from_record(&record, &config, &optimizers, &device)
            .unwrap_or_else(|e| panic!("cannot restore this SAC agent from the record: {e}"))
    }

    /// The device the mini-batches should live on (plain; the networks train on its
    /// autodiff form).
    fn device(&self) -> Device {
        self.plain.clone()
    }
}
