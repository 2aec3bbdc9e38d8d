//! TD3, Twin Delayed Deep Deterministic policy gradient (Fujimoto, van Hoof and Meger 2018,
//! "Addressing Function Approximation Error in Actor-Critic Methods"), the second agent: one
//! file, registered by one line in [`registry`](crate::registry).
//!
//! - **Actor** μ: a ReLU MLP whose output is squashed, `a = tanh(μ(s))·scale + bias`.
//! - **Twin critics** Q₁, Q₂ (the same module as SAC's) on `MSE(Q₁, y) + MSE(Q₂, y)` with
//!   `y = r + γ·(1 − terminated)·min(Q̄₁, Q̄₂)(s', ã')`, from **target critics**.
//! - **Target policy smoothing**: `ã' = clip(μ̄(s') + clip(σ̃·ε, −c, c)·scale, low, high)`, the
//!   noise in the normalised action space (σ̃ = `target_policy_noise`, c = `target_noise_clip`),
//!   from a **target actor** μ̄.
//! - **Delayed actor updates**: every `policy_delay`-th update (the first one included, as in
//!   the paper's Algorithm 1) the actor steps on `−mean Q₁(s, μ(s))` and both targets follow by
//!   Polyak averaging with `tau`.
//! - **Exploration**: `a = clip(μ(s) + σ·ε·scale, low, high)`, σ = `exploration_noise`.
//!
//! Everything random (initialisation, warm-up actions, replay sampling, exploration and
//! smoothing noise) comes from the agent's ChaCha8 stream, so one seed gives one result and
//! a checkpoint resumes bit for bit, as with SAC. Options (`[agents.td3]` in a run config)
//! are [`Td3Config`]'s fields.

use std::path::Path;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use burn_lrfree::LrFreeOptimizer;
use lrfree_nn::{Activation, Mlp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use burn::rl::{
    LearnerTransitionBatch, Policy, PolicyLearner, PolicyState, RLTrainOutput, TransitionBatch,
};
use burn::store::ModuleRecord;
use lrfree_envs::{Actions, Observations};

use crate::agent::{Network, RlAgent, UpdateStats};
use crate::checkpoint::{AgentRecord, BufferMeta, RngState};
use crate::config::SacOptimizers;
use crate::error::AgentError;
use crate::learner::UpdateReport;
use crate::networks::{Critic, polyak};
use crate::registry::{AgentKind, AgentSpec};
use crate::replay::ReplayBuffer;
use crate::sac::{optimizer_step, standard_normals};

/// TD3's hyperparameters; defaults are the paper's (and Stable-Baselines3's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Td3Config {
    /// Discount γ. Default 0.99.
    pub gamma: f64,
    /// Polyak coefficient of the targets. Default 0.005.
    pub tau: f64,
    /// Mini-batch size. Default 256.
    pub batch_size: usize,
    /// Replay buffer capacity. Default 1 000 000.
    pub buffer_size: usize,
    /// Hidden layer widths of actor and critics. Default [256, 256].
    pub hidden: Vec<usize>,
    /// Critic updates per actor update. Default 2.
    pub policy_delay: u64,
    /// Std of the target policy smoothing noise, in normalised action units. Default 0.2.
    pub target_policy_noise: f64,
    /// Bound of that noise. Default 0.5.
    pub target_noise_clip: f64,
    /// Std of the exploration noise, in normalised action units. Default 0.1.
    pub exploration_noise: f64,
}

impl Default for Td3Config {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            tau: 0.005,
            batch_size: 256,
            buffer_size: 1_000_000,
            hidden: vec![256, 256],
            policy_delay: 2,
            target_policy_noise: 0.2,
            target_noise_clip: 0.5,
            exploration_noise: 0.1,
        }
    }
}

impl Td3Config {
    /// Check ranges, so a bad value is reported before any training.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |what: String| Err(AgentError::BadInput(format!("td3: {what}")));
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if !unit(self.gamma) || !unit(self.tau) {
            return bad(format!(
                "gamma and tau must be in [0, 1], got {} and {}",
                self.gamma, self.tau
            ));
        }
        if self.batch_size == 0 || self.buffer_size == 0 || self.policy_delay == 0 {
            return bad("batch_size, buffer_size and policy_delay must be at least 1".into());
        }
        if self.hidden.contains(&0) {
            return bad(format!(
                "hidden widths must be positive, got {:?}",
                self.hidden
            ));
        }
        for (name, value) in [
            ("target_policy_noise", self.target_policy_noise),
            ("target_noise_clip", self.target_noise_clip),
            ("exploration_noise", self.exploration_noise),
        ] {
            if !non_negative(value) {
                return bad(format!("{name} must be finite and ≥ 0, got {value}"));
            }
        }
        Ok(())
    }
}

/// The deterministic policy `tanh(μ(s))·scale + bias`.
#[derive(Module, Debug)]
pub struct DeterministicActor {
    mlp: Mlp,
}

impl DeterministicActor {
    fn new<R: Rng + ?Sized>(rng: &mut R, sizes: &[usize], device: &Device) -> Self {
        Self {
            mlp: Mlp::new(rng, sizes, device),
        }
    }

    fn forward(&self, obs: Tensor<2>, scale: &Tensor<2>, bias: &Tensor<2>) -> Tensor<2> {
        let squashed = self.mlp.forward(obs, Activation::None).tanh();
        squashed * scale.clone() + bias.clone()
    }
}

/// The `format` field of `td3.json`.
pub const TD3_FORMAT: &str = "lrfree-td3/1";

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: String,
    obs_dim: usize,
    act_low: Vec<f32>,
    act_high: Vec<f32>,
    config: Td3Config,
    /// Optimizer names of actor and critic.
    optimizers: [String; 2],
    seed: u64,
    rng: RngState,
    updates: u64,
    actor_loss: f64,
    buffer: Option<BufferMeta>,
}

/// A TD3 agent: networks, targets, their optimizers, the replay buffer and its random stream.
pub struct Td3 {
    config: Td3Config,
    obs_dim: usize,
    act_low: Vec<f32>,
    act_high: Vec<f32>,
    plain: Device,
    scale: Tensor<2>,
    bias: Tensor<2>,
    actor: DeterministicActor,
    actor_target: DeterministicActor,
    critic: Critic,
    critic_target: Critic,
    opt_actor: Box<dyn LrFreeOptimizer>,
    opt_critic: Box<dyn LrFreeOptimizer>,
    lr_actor: f64,
    lr_critic: f64,
    /// The optimizer plan, to restore a record into (burn-rl's `load_record`).
    optimizers: SacOptimizers,
    buffer: ReplayBuffer,
    rng: ChaCha8Rng,
    seed: u64,
    updates: u64,
    /// The actor's loss at its last step (reported by the updates between actor steps).
    actor_loss: f64,
}

/// The registry's entry.
pub(crate) const KIND: AgentKind = AgentKind {
    name: "td3",
    networks: &[Network::Critic, Network::Actor],
    new: |spec| Ok(Box::new(Td3::new(spec, &spec.options()?)?)),
    load: |dir, spec| Ok(Box::new(Td3::load(dir, spec, &spec.options()?)?)),
};

impl Td3 {
    /// A fresh agent for `spec`'s sizes, optimizers (`actor`, `critic`; the temperature's
    /// is not used) and seed.
    pub fn new(spec: &AgentSpec, config: &Td3Config) -> Result<Self, AgentError> {
        config.validate()?;
        spec.check()?;
        let (obs_dim, act_dim) = (spec.obs_dim, spec.low.len());
        let train = spec.device.clone().autodiff();
        let plain = spec.device.clone().inner();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut sizes = vec![obs_dim];
        sizes.extend_from_slice(&config.hidden);
        sizes.push(act_dim);
        let actor = DeterministicActor::new(&mut rng, &sizes, &train);
        let critic = Critic::new(&mut rng, obs_dim, act_dim, &config.hidden, &train);
        let row = |f: fn(f32, f32) -> f32| {
            let values: Vec<f32> = (0..act_dim).map(|i| f(spec.low[i], spec.high[i])).collect();
            Tensor::from_data(TensorData::new(values, [1, act_dim]), &plain)
        };
        let optimizers: &SacOptimizers = spec.optimizers;
        Ok(Self {
            obs_dim,
            act_low: spec.low.to_vec(),
            act_high: spec.high.to_vec(),
            scale: row(|lo, hi| (hi - lo) / 2.0),
            bias: row(|lo, hi| (hi + lo) / 2.0),
            actor_target: actor.valid(),
            critic_target: critic.valid(),
            actor,
            critic,
            opt_actor: optimizers.actor.config.build()?,
            opt_critic: optimizers.critic.config.build()?,
            lr_actor: optimizers.actor.lr,
            lr_critic: optimizers.critic.lr,
            optimizers: optimizers.clone(),
            buffer: ReplayBuffer::new(obs_dim, act_dim, config.buffer_size),
            config: config.clone(),
            plain,
            rng,
            seed: spec.seed,
            updates: 0,
            actor_loss: 0.0,
        })
    }

    fn upload(&self, values: Vec<f32>, cols: usize) -> Tensor<2> {
        let rows = values.len() / cols;
        Tensor::from_data(TensorData::new(values, [rows, cols]), &self.plain)
    }

    fn act_dim(&self) -> usize {
        self.act_low.len()
    }

    /// `rows × act_dim` draws of `std·clip(N(0, 1), ±clip)·scale` from the agent's stream.
    fn noise(&mut self, rows: usize, std: f64, clip: f64) -> Tensor<2> {
        let n = rows * self.act_dim();
        let values = standard_normals(&mut self.rng, n)
            .into_iter()
            .map(|e| ((e as f64 * std).clamp(-clip, clip)) as f32)
            .collect();
        self.upload(values, self.act_dim()) * self.scale.clone()
    }

    /// The current policy (the actor off the graph) drawing its exploration noise from `rng`.
    fn policy_with(&self, rng: ChaCha8Rng) -> Td3Policy {
        Td3Policy {
            actor: self.actor.valid(),
            scale: self.scale.clone(),
            bias: self.bias.clone(),
            low: self.act_low.clone(),
            high: self.act_high.clone(),
            exploration_noise: self.config.exploration_noise,
            rng,
            device: self.plain.clone(),
        }
    }

    /// One TD3 update on a mini-batch from the buffer: the critics, then (every
    /// `policy_delay`-th update, the first included) the actor and both targets.
    pub fn update(&mut self) -> Result<UpdateStats, AgentError> {
        if self.buffer.is_empty() {
            return Err(AgentError::BadInput(
                "update needs at least one transition in the replay buffer".into(),
            ));
        }
        // burn-rl's seam: the batch this agent's buffer and stream drew, handed to its own
        // `PolicyLearner::train`.
        let batch = self.buffer.sample(self.config.batch_size, &mut self.rng);
        let (o, a) = (self.obs_dim, self.act_dim());
        let input = TransitionBatch {
            states: Observations(self.upload(batch.obs, o)),
            next_states: Observations(self.upload(batch.next_obs, o)),
            actions: Actions(self.upload(batch.actions, a)),
            rewards: self.upload(batch.rewards, 1),
            dones: self.upload(batch.terminated, 1),
        };
        PolicyLearner::train(self, input).item.into_result()
    }

    /// One update on a given mini-batch (plain-device tensors): what `PolicyLearner::train`
    /// does.
    fn update_on(
        &mut self,
        (obs, actions, rewards, next_obs, terminated): (
            Tensor<2>,
            Tensor<2>,
            Tensor<2>,
            Tensor<2>,
            Tensor<2>,
        ),
    ) -> Result<UpdateStats, AgentError> {
        let (b, a) = (obs.dims()[0], self.act_dim());
        let smoothing = self.noise(
            b,
            self.config.target_policy_noise,
            self.config.target_noise_clip,
        );

        // 1. Critics, towards the target with the smoothed target action.
        let low = self.upload(self.act_low.clone(), a);
        let high = self.upload(self.act_high.clone(), a);
        let next_action = (self
            .actor_target
            .forward(next_obs.clone(), &self.scale, &self.bias)
            + smoothing)
            .max_pair(low.repeat_dim(0, b))
            .min_pair(high.repeat_dim(0, b));
        let (q1_next, q2_next) = self.critic_target.forward(next_obs, next_action);
        let not_terminated = terminated.neg().add_scalar(1.0);
        let target =
            rewards + not_terminated * q1_next.min_pair(q2_next).mul_scalar(self.config.gamma);
        let (q1, q2) = self.critic.forward(obs.clone(), actions);
        let critic_loss = (q1 - target.clone()).square().mean() + (q2 - target).square().mean();
        let critic_loss_value = critic_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.critic);
        optimizer_step(
            "critic",
            self.opt_critic.as_mut(),
            self.lr_critic,
            &mut self.critic,
            grads,
            critic_loss_value,
        )?;

        // 2. Delayed: the actor on −Q₁(s, μ(s)) (the critics as constants), then the targets.
        if self.updates.is_multiple_of(self.config.policy_delay) {
            let action = self.actor.forward(obs.clone(), &self.scale, &self.bias);
            let (q1, _) = self.critic.valid().forward(obs, action);
            let actor_loss = q1.mean().neg();
            self.actor_loss = actor_loss.clone().into_scalar::<f64>();
            let grads = GradientsParams::from_grads(actor_loss.backward(), &self.actor);
            optimizer_step(
                "actor",
                self.opt_actor.as_mut(),
                self.lr_actor,
                &mut self.actor,
                grads,
                self.actor_loss,
            )?;
            let tau = self.config.tau;
            self.critic_target = polyak(self.critic_target.clone(), &self.critic, tau);
            self.actor_target = polyak(self.actor_target.clone(), &self.actor, tau);
        }
        self.updates += 1;
        Ok(UpdateStats {
            critic_loss: critic_loss_value,
            actor_loss: self.actor_loss,
            critic: self.opt_critic.estimate(),
            actor: self.opt_actor.estimate(),
            temperature: None,
        })
    }

    /// Completed updates.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    fn record(&self, include_buffer: bool) -> Result<AgentRecord, AgentError> {
        let mut record = AgentRecord::new();
        record.insert_module("actor.f32", &self.actor);
        record.insert_module("actor_target.f32", &self.actor_target);
        record.insert_module("critic.f32", &self.critic);
        record.insert_module("critic_target.f32", &self.critic_target);
        record.insert_optim("actor", self.opt_actor.as_ref())?;
        record.insert_optim("critic", self.opt_critic.as_ref())?;
        let buffer = include_buffer.then(|| record.insert_buffer(&self.buffer));
        let meta = Meta {
            format: TD3_FORMAT.into(),
            obs_dim: self.obs_dim,
            act_low: self.act_low.clone(),
            act_high: self.act_high.clone(),
            config: self.config.clone(),
            optimizers: [self.opt_actor.name().into(), self.opt_critic.name().into()],
            seed: self.seed,
            rng: RngState::of(&self.rng),
            updates: self.updates,
            actor_loss: self.actor_loss,
            buffer,
        };
        record.insert_json("td3.json", &meta);
        Ok(record)
    }

    /// Restore an agent saved by [`RlAgent::save`] in `dir`; `spec` and `config` must describe
    /// the same agent (sizes, hidden layers, optimizer kinds), or it is an error.
    pub fn load(dir: &Path, spec: &AgentSpec, config: &Td3Config) -> Result<Self, AgentError> {
        let record = AgentRecord::load_dir(dir)?;
        // Errors name the directory's files.
        Self::from_record(&record, spec, config).map_err(|e| e.in_dir(dir))
    }

    /// Restore an agent from its [`AgentRecord`], checked against `spec` and `config` as
    /// [`Td3::load`] does.
    pub fn from_record(
        record: &AgentRecord,
        spec: &AgentSpec,
        config: &Td3Config,
    ) -> Result<Self, AgentError> {
        let bad = |m: String| AgentError::checkpoint(Path::new("td3.json"), m);
        let meta: Meta = record.json("td3.json")?;
        if meta.format != TD3_FORMAT {
            return Err(bad(format!(
                "format `{}`, this build reads `{TD3_FORMAT}`",
                meta.format
            )));
        }
        if meta.config.hidden != config.hidden {
            return Err(bad(format!(
                "saved with hidden = {:?}, asked for {:?}",
                meta.config.hidden, config.hidden
            )));
        }
        let wanted = [
            spec.optimizers.actor.config.name(),
            spec.optimizers.critic.config.name(),
        ];
        if meta.optimizers != wanted {
            return Err(bad(format!(
                "saved with optimizers {:?} (actor, critic), asked for {wanted:?}",
                meta.optimizers
            )));
        }
        let spec = AgentSpec {
            obs_dim: meta.obs_dim,
            low: &meta.act_low,
            high: &meta.act_high,
            seed: meta.seed,
            ..*spec
        };
        let mut td3 = Td3::new(&spec, config)?;
        td3.actor = record.module("actor.f32", td3.actor)?;
        td3.actor_target = record.module("actor_target.f32", td3.actor_target)?;
        td3.critic = record.module("critic.f32", td3.critic)?;
        td3.critic_target = record.module("critic_target.f32", td3.critic_target)?;
        record.load_optim("actor", td3.opt_actor.as_mut(), &td3.plain)?;
        record.load_optim("critic", td3.opt_critic.as_mut(), &td3.plain)?;
        td3.rng = meta
            .rng
            .restore()
            .ok_or_else(|| bad("unreadable RNG state".into()))?;
        td3.updates = meta.updates;
        td3.actor_loss = meta.actor_loss;
        if let Some(b) = &meta.buffer {
            let dims = (td3.obs_dim, td3.act_dim());
            td3.buffer = record.buffer(b, dims, config.buffer_size)?;
        }
        Ok(td3)
    }
}

impl RlAgent for Td3 {
    fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        // burn-rl's seam: the agent's `Policy`, drawing from the agent's own stream.
        let rng = std::mem::replace(&mut self.rng, ChaCha8Rng::seed_from_u64(0));
        let mut policy = self.policy_with(rng);
        let obs = Observations::from_row(obs, &self.plain);
        let (action, _) = Policy::action(&mut policy, obs, deterministic);
        self.rng = policy.rng;
        action.to_host()
    }

    fn random_action(&mut self) -> Vec<f32> {
        crate::agent::uniform_action(&mut self.rng, &self.act_low, &self.act_high)
    }

    fn observe(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    ) {
        self.buffer.push(obs, action, reward, next_obs, terminated);
    }

    fn buffer_len(&self) -> usize {
        self.buffer.len()
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn update(&mut self) -> Result<UpdateStats, AgentError> {
        Td3::update(self)
    }

    fn networks(&self) -> &'static [Network] {
        KIND.networks
    }

    fn set_diagnostics(&mut self, on: bool) {
        self.opt_actor.set_diagnostics(on);
        self.opt_critic.set_diagnostics(on);
    }

    fn save(&self, dir: &Path, include_buffer: bool) -> Result<(), AgentError> {
        self.record(include_buffer)?.save_dir(dir)
    }
}

/// TD3's policy as a [`burn::rl::Policy`]: the deterministic actor, its action box and the
/// exploration noise's own stream.
#[derive(Clone, Debug)]
pub struct Td3Policy {
    actor: DeterministicActor,
    scale: Tensor<2>,
    bias: Tensor<2>,
    low: Vec<f32>,
    high: Vec<f32>,
    exploration_noise: f64,
    rng: ChaCha8Rng,
    device: Device,
}

impl Td3Policy {
    /// `μ(s)`, or with exploration `μ(s) + σ·ε·scale`, clamped into the box on the host.
    fn act(&mut self, obs: Tensor<2>, deterministic: bool) -> Tensor<2> {
        let rows = obs.dims()[0];
        let n = self.low.len();
        let mean = self.actor.forward(obs, &self.scale, &self.bias);
        let action = if deterministic {
            mean
        } else {
            let noise: Vec<f32> = standard_normals(&mut self.rng, rows * n)
                .into_iter()
                .map(|e| (e as f64 * self.exploration_noise) as f32)
                .collect();
            let noise = Tensor::from_data(TensorData::new(noise, [rows, n]), &self.device);
            mean + noise * self.scale.clone()
        };
        let mut values = action
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 action");
        for (i, a) in values.iter_mut().enumerate() {
            *a = a.clamp(self.low[i % n], self.high[i % n]);
        }
        Tensor::from_data(TensorData::new(values, [rows, n]), &self.device)
    }
}

/// What a [`Td3Policy`] learns: its actor.
#[derive(Clone, Debug)]
pub struct Td3ActorState(pub DeterministicActor);

impl PolicyState for Td3ActorState {
    type Record = ModuleRecord;

    fn into_record(self) -> ModuleRecord {
        self.0.into_record()
    }

    fn load_record(&self, record: ModuleRecord) -> Self {
        Self(self.0.clone().load_record(record))
    }
}

impl Policy for Td3Policy {
    type Observation = Observations;
    /// Deterministic: the distribution is its mode, `μ(s)`.
    type ActionDistribution = Actions;
    type Action = Actions;
    type ActionContext = ();
    type PolicyState = Td3ActorState;

    fn forward(&mut self, obs: Observations) -> Actions {
        Actions(self.actor.forward(obs.0, &self.scale, &self.bias))
    }

    fn action(&mut self, obs: Observations, deterministic: bool) -> (Actions, Vec<()>) {
        let rows = obs.0.dims()[0];
        (Actions(self.act(obs.0, deterministic)), vec![(); rows])
    }

    fn update(&mut self, update: Td3ActorState) {
        self.actor = update.0;
    }

    fn state(&self) -> Td3ActorState {
        Td3ActorState(self.actor.clone())
    }

    fn to_device(self, device: &Device) -> Self {
        Self {
            actor: self.actor.to_device(device),
            scale: self.scale.to_device(device),
            bias: self.bias.to_device(device),
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

impl PolicyLearner for Td3 {
    type TrainContext = UpdateReport;
    type InnerPolicy = Td3Policy;
    type Record = AgentRecord;

    /// One TD3 update on `input` (critics; every `policy_delay`-th update the actor and the
    /// targets). `dones` should be terminations only; burn-train 0.22 passes truncations too.
    fn train(
        &mut self,
        input: LearnerTransitionBatch<Td3Policy>,
    ) -> RLTrainOutput<UpdateReport, Td3ActorState> {
        let plain = self.plain.clone();
        let batch = (
            input.states.0.to_device(&plain),
            input.actions.0.to_device(&plain),
            input.rewards.to_device(&plain),
            input.next_states.0.to_device(&plain),
            input.dones.to_device(&plain),
        );
        let item = match self.update_on(batch) {
            Ok(stats) => UpdateReport::Done(Box::new(stats)),
            Err(e) => UpdateReport::Refused(Arc::new(e)),
        };
        RLTrainOutput {
            policy: Td3ActorState(self.actor.valid()),
            item,
        }
    }

    /// The current policy; its noise stream starts afresh from the agent's seed (stream 1).
    fn policy(&self) -> Td3Policy {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(1);
        self.policy_with(rng)
    }

    /// # Panics
    /// If `update` is another agent's policy (other shapes).
    fn update_policy(&mut self, update: Td3Policy) {
        let params = crate::networks::to_host(&update.actor);
        self.actor = crate::networks::from_host(self.actor.clone(), params)
            .unwrap_or_else(|e| panic!("a policy of another agent: {e}"));
    }

    /// # Panics
    /// If an optimizer's state cannot be serialised ([`RlAgent::save`] returns that error).
    fn record(&self) -> AgentRecord {
        Td3::record(self, false).unwrap_or_else(|e| panic!("serialising the TD3 agent: {e}"))
    }

    /// # Panics
    /// If `record` is another agent's (burn-rl's `load_record` cannot fail; training on from a
    /// fresh agent would be silently wrong). [`Td3::from_record`] returns the error instead.
    fn load_record(self, record: AgentRecord) -> Self {
        let empty = toml::Table::new();
        let spec = AgentSpec {
            obs_dim: self.obs_dim,
            low: &self.act_low,
            high: &self.act_high,
            optimizers: &self.optimizers,
            seed: self.seed,
            device: &self.plain,
            options: &empty,
        };
        Td3::from_record(&record, &spec, &self.config)
            .unwrap_or_else(|e| panic!("cannot restore this TD3 agent from the record: {e}"))
    }

    fn device(&self) -> Device {
        self.plain.clone()
    }
}
