//! SAC's policy as a [`burn::rl::Policy`]: the actor network, the map into the action box and
//! a random stream of its own for the exploration noise, so it can act in other threads
//! (burn-train's environment runners) while [`Sac`](crate::Sac) trains.

use burn::module::Module;
use burn::rl::{Batchable, Policy, PolicyState};
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor, TensorData};
use lrfree_envs::{Actions, Observations};
use rand_chacha::ChaCha8Rng;

use crate::networks::{ActionMap, Actor};
use crate::sac::standard_normals;

/// The squashed Gaussians of a batch of observations: `action = tanh(mean + std·ε)·scale +
/// bias`, before squashing, `[batch, act_dim]` each.
#[derive(Clone, Debug)]
pub struct SquashedGaussians {
    /// The Gaussians' means.
    pub mean: Tensor<2>,
    /// Their log standard deviations (already rescaled into `[log_std_min, log_std_max]`).
    pub log_std: Tensor<2>,
}

impl Batchable for SquashedGaussians {
    fn batch(items: Vec<Self>) -> Self {
        let (mean, log_std) = items.into_iter().map(|g| (g.mean, g.log_std)).unzip();
        Self {
            mean: Tensor::cat(mean, 0),
            log_std: Tensor::cat(log_std, 0),
        }
    }

    fn unbatch(self) -> Vec<Self> {
        (0..self.mean.dims()[0])
            .map(|i| Self {
                mean: self.mean.clone().slice(i..i + 1),
                log_std: self.log_std.clone().slice(i..i + 1),
            })
            .collect()
    }
}

/// What a [`SacPolicy`] learns: its actor. burn-train sends it from the learner to the
/// environment runners after each update, and checkpoints it as a [`ModuleRecord`].
#[derive(Clone, Debug)]
pub struct ActorState(pub Actor);

impl PolicyState for ActorState {
    type Record = ModuleRecord;

    fn into_record(self) -> ModuleRecord {
        self.0.into_record()
    }

    fn load_record(&self, record: ModuleRecord) -> Self {
        Self(self.0.clone().load_record(record))
    }
}

/// SAC's stochastic policy, acting without autodiff. Cloning it clones its random stream too
/// (burn-rl's policies are `Clone`): two clones draw the same noise.
#[derive(Clone, Debug)]
pub struct SacPolicy {
    pub(crate) actor: Actor,
    pub(crate) map: ActionMap,
    pub(crate) low: Vec<f32>,
    pub(crate) high: Vec<f32>,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) device: Device,
}

impl SacPolicy {
    /// Actions for a batch of observations: samples of the policy, or with `deterministic`
    /// their modes `tanh(mean)·scale + bias` (drawing no random numbers), clamped into the
    /// box (tanh can round to ±1 in f32). A non-finite action stays non-finite: the caller
    /// can tell a diverged policy.
    pub fn act(&mut self, obs: Tensor<2>, deterministic: bool) -> Tensor<2> {
        let rows = obs.dims()[0];
        let act_dim = self.low.len();
        let action = if deterministic {
            self.actor.mode(obs, &self.map)
        } else {
            let noise = standard_normals(&mut self.rng, rows * act_dim);
            let noise = Tensor::from_data(TensorData::new(noise, [rows, act_dim]), &self.device);
            self.actor.sample(obs, noise, &self.map).action
        };
        let mut values = action
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 action");
        for (i, a) in values.iter_mut().enumerate() {
            let (lo, hi) = (self.low[i % act_dim], self.high[i % act_dim]);
            *a = a.clamp(lo, hi);
        }
        Tensor::from_data(TensorData::new(values, [rows, act_dim]), &self.device)
    }

    /// One action for one host observation (rl-train's loop), on the host.
    pub fn act_one(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        let obs = Observations::from_row(obs, &self.device);
        Actions(self.act(obs.0, deterministic)).to_host()
    }

    /// The actor network.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl Policy for SacPolicy {
    type Observation = Observations;
    type ActionDistribution = SquashedGaussians;
    type Action = Actions;
    type ActionContext = ();
    type PolicyState = ActorState;

    fn forward(&mut self, obs: Observations) -> SquashedGaussians {
        let (mean, log_std) = self.actor.forward(obs.0, &self.map);
        SquashedGaussians { mean, log_std }
    }

    fn action(&mut self, obs: Observations, deterministic: bool) -> (Actions, Vec<()>) {
        let rows = obs.0.dims()[0];
        (Actions(self.act(obs.0, deterministic)), vec![(); rows])
    }

    fn update(&mut self, update: ActorState) {
        self.actor = update.0;
    }

    fn state(&self) -> ActorState {
        ActorState(self.actor.clone())
    }

    fn to_device(self, device: &Device) -> Self {
        let map = ActionMap {
            scale: self.map.scale.to_device(device),
            bias: self.map.bias.to_device(device),
            ..self.map
        };
        Self {
            actor: self.actor.to_device(device),
            map,
            device: device.clone(),
            ..self
        }
    }

    fn load_record(self, record: ModuleRecord) -> Self {
        Self {
            actor: self.actor.load_record(record),
            ..self
        }
    }
}
