//! Soft Actor-Critic with automatic entropy tuning (Haarnoja et al. 2018), written to be read
//! top to bottom next to CleanRL's `sac_continuous_action.py`.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use burn_lrfree::{Estimate, LrFreeOptimizer, Rejected, StepModule};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{SacConfig, SacOptimizers};
use crate::error::AgentError;
use crate::networks::{ActionMap, Actor, Critic, Temperature, polyak};
use crate::replay::ReplayBuffer;

/// What one [`Sac::update`] did: the three losses, the temperature, and what each optimizer
/// estimated (its learning rate, D, step count).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStats {
    /// `MSE(Q₁, y) + MSE(Q₂, y)` on the batch, before the step.
    pub critic_loss: f64,
    /// `mean(α·log π − min(Q₁, Q₂))` on the batch, before the step.
    pub actor_loss: f64,
    /// `mean(−α·(log π + H̄))` on the batch, before the step.
    pub alpha_loss: f64,
    /// The temperature α after this update's step.
    pub alpha: f64,
    /// The critic optimizer's estimate after its step.
    pub critic: Estimate,
    /// The actor optimizer's estimate after its step.
    pub actor: Estimate,
    /// The temperature optimizer's estimate after its step.
    pub alpha_est: Estimate,
}

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
    pub(crate) opt_alpha: Box<dyn LrFreeOptimizer>,
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
        if obs_dim == 0 || act_dim == 0 {
            return Err(AgentError::BadInput(format!("need obs_dim > 0 and act_dim > 0, got {obs_dim} and {act_dim}")));
        }
        if act_high.len() != act_dim {
            return Err(AgentError::BadInput(format!(
                "action bounds differ in length: low has {act_dim}, high has {}",
                act_high.len()
            )));
        }
        if let Some(i) = (0..act_dim).find(|&i| !(act_low[i].is_finite() && act_high[i].is_finite() && act_low[i] < act_high[i])) {
            return Err(AgentError::BadInput(format!(
                "action dimension {i} needs finite low < high, got [{}, {}]",
                act_low[i], act_high[i]
            )));
        }
        let train = device.clone().autodiff();
        let plain = device.clone().inner();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let actor = Actor::new(&mut rng, obs_dim, act_dim, &config.hidden, &train);
        let critic = Critic::new(&mut rng, obs_dim, act_dim, &config.hidden, &train);
        // The targets start as exact copies of the online critics.
        let critic_target = critic.valid();
        let temperature = Temperature::new(config.init_alpha, &train);
        let scale: Vec<f32> = (0..act_dim).map(|i| (act_high[i] - act_low[i]) / 2.0).collect();
        let bias: Vec<f32> = (0..act_dim).map(|i| (act_high[i] + act_low[i]) / 2.0).collect();
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
            opt_alpha: optimizers.alpha.config.build()?,
            buffer: ReplayBuffer::new(obs_dim, act_dim, config.buffer_size),
            rng,
            seed,
            updates: 0,
        })
    }

    /// An action for `obs`, inside the action bounds: a sample of the policy, or with
    /// `deterministic` its mode `tanh(mean)·scale + bias` (for evaluation; draws no random
    /// numbers).
    ///
    /// # Panics
    /// If `obs` does not have `obs_dim` values.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        assert_eq!(obs.len(), self.obs_dim, "observation length");
        let actor = self.actor.valid();
        let x = self.upload(obs.to_vec(), 1, self.obs_dim);
        let action = if deterministic {
            actor.mode(x, &self.map)
        } else {
            let noise = self.noise(1);
            actor.sample(x, noise, &self.map).action
        };
        let mut action = action.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 action");
        // tanh can round to ±1 in f32: keep the action inside the box exactly.
        for (a, (lo, hi)) in action.iter_mut().zip(self.act_low.iter().zip(&self.act_high)) {
            *a = a.clamp(*lo, *hi);
        }
        action
    }

    /// A uniformly random action in the bounds (for the warm-up steps), from the agent's RNG.
    pub fn random_action(&mut self) -> Vec<f32> {
        (0..self.act_dim)
            .map(|i| {
                let (lo, hi) = (self.act_low[i], self.act_high[i]);
                (lo + (hi - lo) * self.rng.random::<f32>()).clamp(lo, hi)
            })
            .collect()
    }

    /// Store one transition. `terminated` means the episode reached a terminal state (the
    /// target will not bootstrap from `next_obs`); a time-limit truncation is *not* terminal.
    ///
    /// # Panics
    /// If a slice does not have the agent's width.
    pub fn observe(&mut self, obs: &[f32], action: &[f32], reward: f32, next_obs: &[f32], terminated: bool) {
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
    /// is [`AgentError::Optim`]; the refused network keeps its parameters (parts stepped
    /// earlier in this update keep their new ones).
    pub fn update(&mut self) -> Result<UpdateStats, AgentError> {
        if self.buffer.is_empty() {
            return Err(AgentError::BadInput("update needs at least one transition in the replay buffer".into()));
        }
        let (b, o, a) = (self.config.batch_size, self.obs_dim, self.act_dim);
        let batch = self.buffer.sample(b, &mut self.rng);
        let next_noise = self.noise(b);
        let pi_noise = self.noise(b);
        let obs = self.upload(batch.obs, b, o);
        let actions = self.upload(batch.actions, b, a);
        let rewards = self.upload(batch.rewards, b, 1);
        let next_obs = self.upload(batch.next_obs, b, o);
        let terminated = self.upload(batch.terminated, b, 1);
        // α as a constant for the critic target and the actor loss (the value before this
        // update's temperature step, as in CleanRL).
        let alpha = self.temperature.log_alpha.val().inner().exp().reshape([1, 1]);

        // 1. Critics: y = r + γ·(1 − terminated)·(min Q̄(s', a') − α·log π(a'|s')), a' ~ π(·|s').
        let target = {
            // Everything here is on the plain device: no graph, no gradient.
            let next = self.actor.valid().sample(next_obs.clone(), next_noise, &self.map);
            let (q1, q2) = self.critic_target.forward(next_obs, next.action);
            let soft_value = q1.min_pair(q2) - next.log_prob * alpha.clone();
            rewards + terminated.neg().add_scalar(1.0) * soft_value.mul_scalar(self.config.gamma)
        };
        let (q1, q2) = self.critic.forward(obs.clone(), actions);
        let critic_loss = (q1 - target.clone()).square().mean() + (q2 - target).square().mean();
        let critic_loss_value = critic_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.critic);
        step(&mut *self.opt_critic, self.optimizers.critic.lr, &mut self.critic, grads, critic_loss_value)?;

        // 2. Actor: minimise E[α·log π(ã|s) − min Q(s, ã)], ã reparameterised. The critics
        // enter as plain (non-autodiff) copies: the actor loss cannot move them, and no
        // gradient is computed for their weights.
        let critic_fixed = self.critic.valid();
        let pi = self.actor.sample(obs.clone(), pi_noise, &self.map);
        let (q1, q2) = critic_fixed.forward(obs, pi.action);
        let log_pi = pi.log_prob;
        let actor_loss = (log_pi.clone() * alpha - q1.min_pair(q2)).mean();
        let actor_loss_value = actor_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.actor);
        step(&mut *self.opt_actor, self.optimizers.actor.lr, &mut self.actor, grads, actor_loss_value)?;

        // 3. Temperature: minimise −α·(log π + H̄), log π detached (from step 2's sample, as SB3).
        let entropy_gap = log_pi.inner().mean().add_scalar(self.target_entropy);
        let alpha_loss = (self.temperature.log_alpha.val().exp() * entropy_gap).neg();
        let alpha_loss_value = alpha_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(alpha_loss.backward(), &self.temperature);
        step(&mut *self.opt_alpha, self.optimizers.alpha.lr, &mut self.temperature, grads, alpha_loss_value)?;

        // 4. Targets: θ̄ ← τ·θ + (1 − τ)·θ̄.
        self.critic_target = polyak(self.critic_target.clone(), &self.critic, self.config.tau);
        self.updates += 1;

        Ok(UpdateStats {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            alpha_loss: alpha_loss_value,
            alpha: self.alpha(),
            critic: self.opt_critic.estimate(),
            actor: self.opt_actor.estimate(),
            alpha_est: self.opt_alpha.estimate(),
        })
    }

    /// The current temperature α.
    pub fn alpha(&self) -> f64 {
        self.temperature.log_alpha.val().inner().into_scalar::<f64>().exp()
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

    /// What each optimizer estimated at its last step: `(actor, critic, alpha)`.
    pub fn estimates(&self) -> (Estimate, Estimate, Estimate) {
        (self.opt_actor.estimate(), self.opt_critic.estimate(), self.opt_alpha.estimate())
    }

    /// Row-major host values as a `[rows, cols]` tensor on the plain device.
    fn upload(&self, values: Vec<f32>, rows: usize, cols: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values, [rows, cols]), &self.plain)
    }

    /// `[rows, act_dim]` standard normal noise from the agent's RNG.
    fn noise(&mut self, rows: usize) -> Tensor<2> {
        let values = standard_normals(&mut self.rng, rows * self.act_dim);
        self.upload(values, rows, self.act_dim)
    }
}

/// One optimizer step of the module in `slot`, with this step's loss (SPS-type methods need
/// it). On refusal the module goes back into `slot` unchanged.
fn step<M: Module>(
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
            Err(AgentError::Optim(error))
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
