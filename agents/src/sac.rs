//! Soft Actor-Critic with automatic entropy tuning (Haarnoja et al. 2018), written to be read
//! top to bottom next to CleanRL's `sac_continuous_action.py`.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use burn_lrfree::{Estimate, LrFreeOptimizer, Rejected, StepModule};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::agent::{Network, RlAgent, TemperatureUpdate, UpdateStats};
use crate::config::{SacConfig, SacOptimizers};
use crate::error::AgentError;
use crate::networks::{ActionMap, Actor, Critic, Temperature, polyak};
use crate::policy::SacPolicy;
use crate::registry::{AgentKind, AgentSpec};
use crate::replay::{Batch, ReplayBuffer};
use burn::rl::{Policy, PolicyLearner, TransitionBatch};
use lrfree_envs::{Actions, Observations};

/// A SAC agent: networks, target critics, temperature, their optimizers, the replay buffer and
/// the agent's own random stream. Everything random comes from that stream, so one seed gives
/// one result, whatever else runs in other threads.
pub struct Sac {
    pub(crate) config: SacConfig,
    pub(crate) optimizers: SacOptimizers,
    pub(crate) obs_dim: usize,
    pub(crate) act_dim: usize,
    pub(crate) act_low: Vec<f32>,
    pub(crate) act_high: Vec<f32>,
    /// The autodiff device the online networks train on.
    pub(crate) device: Device,
    /// The same device without autodiff: targets, acting, constants.
    pub(crate) plain: Device,
    pub(crate) map: ActionMap,
    pub(crate) target_entropy: f64,
    pub(crate) actor: Actor,
    pub(crate) critic: Critic,
    /// Polyak-averaged copy of `critic`, on the plain device (never on the graph).
    pub(crate) critic_target: Critic,
    pub(crate) temperature: Temperature,
    pub(crate) opt_actor: Box<dyn LrFreeOptimizer>,
    pub(crate) opt_critic: Box<dyn LrFreeOptimizer>,
    pub(crate) opt_temperature: Box<dyn LrFreeOptimizer>,
    pub(crate) buffer: ReplayBuffer,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) seed: u64,
    pub(crate) updates: u64,
}

impl Sac {
    /// A fresh agent for observations of `obs_dim` values and actions in the box
    /// `[act_low, act_high]`. All weights are drawn from `seed`'s RNG. `device` may be plain
    /// or autodiff; the networks train on its autodiff form.
    pub fn new(
        obs_dim: usize,
        act_low: &[f32],
        act_high: &[f32],
        config: &SacConfig,
        optimizers: &SacOptimizers,
        seed: u64,
        device: &Device,
    ) -> Result<Self, AgentError> {
        config.validate()?;
        let act_dim = act_low.len();
        let empty = toml::Table::new();
        let spec = AgentSpec {
            obs_dim,
            low: act_low,
            high: act_high,
            optimizers,
            seed,
            device,
            options: &empty,
        };
        spec.check()?;
        let train = device.clone().autodiff();
        let plain = device.clone().inner();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let actor = Actor::new(&mut rng, obs_dim, act_dim, &config.hidden, &train);
        let critic = Critic::new(&mut rng, obs_dim, act_dim, &config.hidden, &train);
        // The targets start as exact copies of the online critics.
        let critic_target = critic.valid();
        let temperature = Temperature::new(config.init_alpha, &train);
        let scale: Vec<f32> = (0..act_dim)
            .map(|i| (act_high[i] - act_low[i]) / 2.0)
            .collect();
        let bias: Vec<f32> = (0..act_dim)
            .map(|i| (act_high[i] + act_low[i]) / 2.0)
            .collect();
        let map = ActionMap {
            scale: Tensor::from_data(TensorData::new(scale, [1, act_dim]), &plain),
            bias: Tensor::from_data(TensorData::new(bias, [1, act_dim]), &plain),
            log_std_min: config.log_std_min,
            log_std_max: config.log_std_max,
        };
        Ok(Self {
            config: config.clone(),
            optimizers: optimizers.clone(),
            obs_dim,
            act_dim,
            act_low: act_low.to_vec(),
            act_high: act_high.to_vec(),
            device: train,
            plain,
            map,
            target_entropy: config.target_entropy_for(act_dim),
            actor,
            critic,
            critic_target,
            temperature,
            opt_actor: optimizers.actor.config.build()?,
            opt_critic: optimizers.critic.config.build()?,
            opt_temperature: optimizers.temperature.config.build()?,
            buffer: ReplayBuffer::new(obs_dim, act_dim, config.buffer_size),
            rng,
            seed,
            updates: 0,
        })
    }

    /// An action for `obs`, inside the action bounds: a sample of the policy, or with
    /// `deterministic` its mode `tanh(mean)·scale + bias` (for evaluation; draws no random
    /// numbers). The noise comes from the agent's own stream (see [`SacPolicy::act`]).
    ///
    /// # Panics
    /// If `obs` does not have `obs_dim` values.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        assert_eq!(obs.len(), self.obs_dim, "observation length");
        // burn-rl's seam: the agent's `Policy`, drawing from the agent's own stream.
        let rng = std::mem::replace(&mut self.rng, ChaCha8Rng::seed_from_u64(0));
        let mut policy = self.policy_with(rng);
        let obs = Observations::from_row(obs, &self.plain);
        let (action, _) = Policy::action(&mut policy, obs, deterministic);
        self.rng = policy.rng;
        action.to_host()
    }

    /// The current policy (the actor off the autodiff graph) drawing its noise from `rng`.
    pub(crate) fn policy_with(&self, rng: ChaCha8Rng) -> SacPolicy {
        SacPolicy {
            actor: self.actor.valid(),
            map: self.map.clone(),
            low: self.act_low.clone(),
            high: self.act_high.clone(),
            rng,
            device: self.plain.clone(),
        }
    }

    /// A uniformly random action in the bounds (for the warm-up steps), from the agent's RNG.
    pub fn random_action(&mut self) -> Vec<f32> {
        crate::agent::uniform_action(&mut self.rng, &self.act_low, &self.act_high)
    }

    /// Store one transition. `terminated` means the episode reached a terminal state (the
    /// target will not bootstrap from `next_obs`); a time-limit truncation is *not* terminal.
    ///
    /// # Panics
    /// If a slice does not have the agent's width.
    pub fn observe(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    ) {
        assert_eq!(obs.len(), self.obs_dim, "observation length");
        assert_eq!(next_obs.len(), self.obs_dim, "next observation length");
        assert_eq!(action.len(), self.act_dim, "action length");
        self.buffer.push(obs, action, reward, next_obs, terminated);
    }

    /// Transitions in the replay buffer.
    pub fn buffer_len(&self) -> usize {
        self.buffer.len()
    }

    /// One SAC update on one mini-batch: one gradient step of the twin critics, then of the
    /// actor, then of the temperature, then the Polyak update of the target critics.
    ///
    /// A refused optimizer step (for example a non-finite gradient once the run has diverged)
    /// is [`AgentError::Refused`]; the refused network keeps its parameters (parts stepped
    /// earlier in this update keep their new ones).
    pub fn update(&mut self) -> Result<UpdateStats, AgentError> {
        if self.buffer.is_empty() {
            return Err(AgentError::BadInput(
                "update needs at least one transition in the replay buffer".into(),
            ));
        }
        // burn-rl's seam: the batch this agent's buffer and stream drew, handed to its own
        // `PolicyLearner::train`, as any burn-rl loop would hand one.
        let batch = self.buffer.sample(self.config.batch_size, &mut self.rng);
        let batch = self.upload_batch(batch);
        let input = TransitionBatch {
            states: Observations(batch.obs),
            next_states: Observations(batch.next_obs),
            actions: Actions(batch.actions),
            rewards: batch.rewards,
            dones: batch.terminated,
        };
        PolicyLearner::train(self, input).item.into_result()
    }

    /// [`Sac::update`] on a given mini-batch (burn-rl's `PolicyLearner::train` hands one in):
    /// the noise of the next actions and of the policy sample comes from the agent's stream.
    pub(crate) fn update_on(&mut self, batch: BatchTensors) -> Result<UpdateStats, AgentError> {
        let b = batch.obs.dims()[0];
        let next_noise = self.noise(b);
        let pi_noise = self.noise(b);
        // α as a constant for the critic target and the actor loss (the value before this
        // update's temperature step, as in CleanRL).
        let temperature = self
            .temperature
            .log_alpha
            .val()
            .inner()
            .exp()
            .reshape([1, 1]);

        // 1. Critics: one step towards the soft Bellman target (see `soft_target`).
        let critic_loss_value = self.critic_step(&batch, next_noise, temperature.clone())?;

        // 2. Actor: minimise E[α·log π(ã|s) − min Q(s, ã)], ã reparameterised. The critics
        // enter as plain (non-autodiff) copies: the actor loss cannot move them, and no
        // gradient is computed for their weights.
        let critic_fixed = self.critic.valid();
        let pi = self.actor.sample(batch.obs.clone(), pi_noise, &self.map);
        let (q1, q2) = critic_fixed.forward(batch.obs, pi.action);
        let log_pi = pi.log_prob;
        let actor_loss = (log_pi.clone() * temperature - q1.min_pair(q2)).mean();
        let actor_loss_value = actor_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.actor);
        optimizer_step(
            "actor",
            &mut *self.opt_actor,
            self.optimizers.actor.lr,
            &mut self.actor,
            grads,
            actor_loss_value,
        )?;

        // 3. Temperature: minimise −α·(log π + H̄) with log π detached: CleanRL's loss (SB3
        // multiplies by log α instead). log π is step 2's sample, drawn before the actor's
        // step; CleanRL draws a fresh one after it.
        let entropy_gap = log_pi.inner().mean().add_scalar(self.target_entropy);
        let temperature_loss = (self.temperature.log_alpha.val().exp() * entropy_gap).neg();
        let temperature_loss_value = temperature_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(temperature_loss.backward(), &self.temperature);
        optimizer_step(
            "temperature",
            &mut *self.opt_temperature,
            self.optimizers.temperature.lr,
            &mut self.temperature,
            grads,
            temperature_loss_value,
        )?;

        // 4. Targets: θ̄ ← τ·θ + (1 − τ)·θ̄.
        self.critic_target = polyak(self.critic_target.clone(), &self.critic, self.config.tau);
        self.updates += 1;

        Ok(UpdateStats {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            critic: self.opt_critic.estimate(),
            actor: self.opt_actor.estimate(),
            temperature: Some(TemperatureUpdate {
                loss: temperature_loss_value,
                value: self.temperature(),
                estimate: self.opt_temperature.estimate(),
            }),
        })
    }

    /// Replace the actor's parameters by those of `actor` (a policy's, off the graph), keeping
    /// the optimizer's state: burn-rl's `update_policy`.
    ///
    /// # Panics
    /// If `actor` has other shapes than this agent's (a policy of another agent).
    pub(crate) fn set_actor(&mut self, actor: Actor) {
        let params = crate::networks::to_host(&actor);
        self.actor = crate::networks::from_host(self.actor.clone(), params)
            .unwrap_or_else(|e| panic!("a policy of another agent: {e}"));
    }

    /// The current temperature α.
    pub fn temperature(&self) -> f64 {
        self.temperature
            .log_alpha
            .val()
            .inner()
            .into_scalar::<f64>()
            .exp()
    }

    /// Completed updates.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action width.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SacConfig {
        &self.config
    }

    /// The autodiff device the networks train on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The seed the agent was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Have every optimizer measure the diagnostics that cost work of their own
    /// (`burn_lrfree::LrFreeOptimizer::set_diagnostics`), or stop.
    pub fn set_diagnostics(&mut self, on: bool) {
        for opt in [
            &mut self.opt_critic,
            &mut self.opt_actor,
            &mut self.opt_temperature,
        ] {
            opt.set_diagnostics(on);
        }
    }

    /// What each optimizer estimated at its last step, in the order of an update (and of the
    /// records): `[critic, actor, temperature]`.
    pub fn estimates(&self) -> [Estimate; 3] {
        [
            self.opt_critic.estimate(),
            self.opt_actor.estimate(),
            self.opt_temperature.estimate(),
        ]
    }

    /// The soft Bellman target `y = r + γ·(1 − terminated)·(min(Q̄₁, Q̄₂)(s', a') − α·log π(a'|s'))`,
    /// `a' = ` the policy's sample at `s'` with `noise`. Computed entirely on the plain device:
    /// no graph, no gradient.
    pub(crate) fn soft_target(
        &self,
        batch: &BatchTensors,
        noise: Tensor<2>,
        temperature: Tensor<2>,
    ) -> Tensor<2> {
        let next = self
            .actor
            .valid()
            .sample(batch.next_obs.clone(), noise, &self.map);
        let (q1, q2) = self
            .critic_target
            .forward(batch.next_obs.clone(), next.action);
        let soft_value = q1.min_pair(q2) - next.log_prob * temperature;
        let not_terminated = batch.terminated.clone().neg().add_scalar(1.0);
        batch.rewards.clone() + not_terminated * soft_value.mul_scalar(self.config.gamma)
    }

    /// One step of the twin critics on `MSE(Q₁, y) + MSE(Q₂, y)`; returns that loss.
    pub(crate) fn critic_step(
        &mut self,
        batch: &BatchTensors,
        noise: Tensor<2>,
        temperature: Tensor<2>,
    ) -> Result<f64, AgentError> {
        let target = self.soft_target(batch, noise, temperature);
        let (q1, q2) = self
            .critic
            .forward(batch.obs.clone(), batch.actions.clone());
        let loss = (q1 - target.clone()).square().mean() + (q2 - target).square().mean();
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
        optimizer_step(
            "critic",
            &mut *self.opt_critic,
            self.optimizers.critic.lr,
            &mut self.critic,
            grads,
            value,
        )?;
        Ok(value)
    }

    /// A host batch as tensors on the plain device.
    pub(crate) fn upload_batch(&self, batch: Batch) -> BatchTensors {
        let (b, o, a) = (batch.size, self.obs_dim, self.act_dim);
        BatchTensors {
            obs: self.upload(batch.obs, b, o),
            actions: self.upload(batch.actions, b, a),
            rewards: self.upload(batch.rewards, b, 1),
            next_obs: self.upload(batch.next_obs, b, o),
            terminated: self.upload(batch.terminated, b, 1),
        }
    }

    /// Row-major host values as a `[rows, cols]` tensor on the plain device.
    fn upload(&self, values: Vec<f32>, rows: usize, cols: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values, [rows, cols]), &self.plain)
    }

    /// `[rows, act_dim]` standard normal noise from the agent's RNG.
    pub(crate) fn noise(&mut self, rows: usize) -> Tensor<2> {
        let values = standard_normals(&mut self.rng, rows * self.act_dim);
        self.upload(values, rows, self.act_dim)
    }
}

/// The registry's entry; SAC's options are the run config's `[sac]` table ([`SacConfig`]).
pub(crate) const KIND: AgentKind = AgentKind {
    name: "sac",
    networks: &Network::ALL,
    new: |spec| {
        let config: SacConfig = spec.options()?;
        let (o, low, high) = (spec.obs_dim, spec.low, spec.high);
        let sac = Sac::new(
            o,
            low,
            high,
            &config,
            spec.optimizers,
            spec.seed,
            spec.device,
        )?;
        Ok(Box::new(sac))
    },
    load: |dir, spec| {
        let config: SacConfig = spec.options()?;
        Ok(Box::new(Sac::load(
            dir,
            &config,
            spec.optimizers,
            spec.device,
        )?))
    },
};

impl RlAgent for Sac {
    fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        Sac::act(self, obs, deterministic)
    }

    fn random_action(&mut self) -> Vec<f32> {
        Sac::random_action(self)
    }

    fn observe(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    ) {
        Sac::observe(self, obs, action, reward, next_obs, terminated)
    }

    fn buffer_len(&self) -> usize {
        self.buffer.len()
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn update(&mut self) -> Result<UpdateStats, AgentError> {
        Sac::update(self)
    }

    fn networks(&self) -> &'static [Network] {
        &Network::ALL
    }

    fn set_diagnostics(&mut self, on: bool) {
        Sac::set_diagnostics(self, on)
    }

    fn save(&self, dir: &std::path::Path, include_buffer: bool) -> Result<(), AgentError> {
        Sac::save(self, dir, include_buffer)
    }
}

/// A mini-batch on the device: `obs`, `next_obs` `[B, O]`; `actions` `[B, A]`; `rewards`,
/// `terminated` `[B, 1]`.
pub(crate) struct BatchTensors {
    pub(crate) obs: Tensor<2>,
    pub(crate) actions: Tensor<2>,
    pub(crate) rewards: Tensor<2>,
    pub(crate) next_obs: Tensor<2>,
    pub(crate) terminated: Tensor<2>,
}

/// One optimizer step of the module in `slot`, with this step's loss (SPS-type methods need
/// it). On refusal the module goes back into `slot` unchanged.
pub(crate) fn optimizer_step<M: Module>(
    network: &'static str,
    optimizer: &mut dyn LrFreeOptimizer,
    lr: f64,
    slot: &mut M,
    grads: GradientsParams,
    loss: f64,
) -> Result<(), AgentError> {
    match optimizer.step_with_loss(lr, slot.clone(), grads, loss) {
        Ok(module) => {
            *slot = module;
            Ok(())
        }
        Err(Rejected { module, error }) => {
            *slot = module;
            Err(AgentError::Refused { network, error })
        }
    }
}

/// `n` draws of N(0, 1) by the Box–Muller transform (computed in f64), so the noise depends
/// on nothing but the RNG's state.
pub(crate) fn standard_normals<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
        let u2 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        out.push((r * c) as f32);
        out.push((r * s) as f32);
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_lrfree::registry::OptimizerConfig;

    fn tiny(optimizer: &str, lr: f64) -> Sac {
        let config = SacConfig {
            hidden: vec![16, 16],
            batch_size: 4,
            ..SacConfig::default()
        };
        let optimizers = SacOptimizers::same(OptimizerConfig::defaults(optimizer).unwrap(), lr);
        Sac::new(
            3,
            &[-1.0, -2.0],
            &[1.0, 0.0],
            &config,
            &optimizers,
            5,
            &Device::default(),
        )
        .unwrap()
    }

    fn host(t: Tensor<2>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    /// Rows 0 and 2 terminated, rows 1 and 3 not; same next_obs, so the same soft value.
    fn batch(sac: &Sac, rewards: [f32; 4]) -> BatchTensors {
        sac.upload_batch(Batch {
            size: 4,
            obs: (0..12).map(|i| (i as f32 * 0.37).sin()).collect(),
            actions: (0..8).map(|i| (i as f32 * 0.61).cos() * 0.5).collect(),
            rewards: rewards.to_vec(),
            next_obs: [0.3f32, -0.7, 1.1].repeat(4),
            terminated: vec![1.0, 0.0, 1.0, 0.0],
        })
    }

    #[test]
    fn target_bootstraps_only_when_not_terminated() {
        let mut sac = tiny("adam", 1e-3);
        let temperature = sac
            .temperature
            .log_alpha
            .val()
            .inner()
            .exp()
            .reshape([1, 1]);
        let noise = sac.noise(1).repeat_dim(0, 4);
        let y = host(sac.soft_target(
            &batch(&sac, [1.0, 2.0, 3.0, 4.0]),
            noise.clone(),
            temperature.clone(),
        ));
        let y0 = host(sac.soft_target(&batch(&sac, [0.0; 4]), noise, temperature));
        // Terminated rows: exactly the reward.
        assert_eq!((y[0], y[2]), (1.0, 3.0));
        // Others: reward + γ·(soft value), the soft value being y0 / γ (the same in both rows).
        let soft = y0[1] / 0.99;
        assert!(soft.abs() > 1e-3, "soft value {soft} too small to tell");
        assert_eq!(y0[1], y0[3]);
        assert!((y[1] - (2.0 + 0.99 * soft)).abs() < 1e-5, "{y:?} {y0:?}");
        assert!((y[3] - (4.0 + 0.99 * soft)).abs() < 1e-5, "{y:?} {y0:?}");
        assert_eq!((y0[0], y0[2]), (0.0, 0.0));
    }

    #[test]
    fn twin_critic_loss_decreases_on_a_fixed_batch() {
        for (optimizer, lr) in [("adam", 1e-3), ("ps-da-sgd", 1.0)] {
            let mut sac = tiny(optimizer, lr);
            let temperature = sac
                .temperature
                .log_alpha
                .val()
                .inner()
                .exp()
                .reshape([1, 1]);
            let n = 64;
            let noise = sac.noise(n);
            let fixed = sac.upload_batch(Batch {
                size: n,
                obs: (0..3 * n).map(|i| (i as f32 * 0.37).sin()).collect(),
                actions: (0..2 * n).map(|i| (i as f32 * 0.61).cos() * 0.5).collect(),
                rewards: (0..n).map(|i| (i as f32 * 1.3).sin() * 2.0).collect(),
                next_obs: (0..3 * n).map(|i| (i as f32 * 0.23).cos()).collect(),
                terminated: (0..n).map(|i| (i % 3 == 0) as u8 as f32).collect(),
            });
            let first = sac
                .critic_step(&fixed, noise.clone(), temperature.clone())
                .unwrap();
            let mut last = first;
            for _ in 0..400 {
                last = sac
                    .critic_step(&fixed, noise.clone(), temperature.clone())
                    .unwrap();
            }
            eprintln!("{optimizer}: critic loss {first} -> {last}");
            assert!(
                last < 0.75 * first,
                "{optimizer}: critic loss {first} -> {last}"
            );
        }
    }

    /// Every layer of every network runs as the fused CPU op, none silently as the composite:
    /// one update runs the actor twice (the next action, the policy sample) × 4 layers (trunk
    /// 2, mean, log-std) and the twin critics three times (target, online, in the actor's loss)
    /// × 2 × 3 layers.
    #[test]
    fn every_layer_takes_the_fused_linear_op_on_the_cpu() {
        let mut sac = tiny("adam", 1e-3);
        let obs = [0.1, -0.2, 0.3];
        for _ in 0..8 {
            let action = sac.random_action();
            sac.observe(&obs, &action, 0.5, &obs, false);
        }
        let before = lrfree_nn::fused_linear_calls();
        sac.update().unwrap();
        assert_eq!(lrfree_nn::fused_linear_calls() - before, 2 * 4 + 3 * 2 * 3);
    }

    #[test]
    fn standard_normals_have_unit_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = standard_normals(&mut rng, 100_001);
        assert_eq!(x.len(), 100_001);
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.015 && (var - 1.0).abs() < 0.02,
            "mean {mean}, var {var}"
        );
    }
}
