//! One seed of one optimizer: the training loop of any [`RlAgent`] (SAC today) with
//! evaluation, records, checkpoints and resume. Reads top to bottom like the loop it is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use burn_lrfree::{Diagnostics, Estimate};
use lrfree_agents::{AgentError, AgentSpec, Network, RlAgent, SacOptimizers, UpdateStats};
use lrfree_envs::{Env, Step, evaluation_reset_seed, make_env, training_reset_seed};
use lrfree_runkit::RunError;
use lrfree_runkit::files::{read_json, write_json_atomic};
use lrfree_runkit::pool::ProgressBar;
use lrfree_runkit::records::rl::{
    DiagnosticRow, DiagnosticsWriter, Divergence, MaxLr, MetricsWriter, Net, NetEstimate,
    SeedSummary, SeedTiming, UpdateRow,
};
use lrfree_runkit::records::seed_dir;
use serde::{Deserialize, Serialize};

use crate::config::{OptimizerPlan, RunConfig};
use crate::outcome;

/// Where a seed stands; saved with each checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counters {
    /// Environment steps done.
    step: u64,
    /// Training episodes started so far (the next reset uses this to derive its seed).
    episode: u64,
    /// Length of metrics.csv at the checkpoint.
    metrics_len: u64,
    /// Length of diagnostics.csv at the checkpoint (runs with `diagnostics`; 0 in checkpoints
    /// written before it existed).
    #[serde(default)]
    diagnostics_len: u64,
    /// Step and mean return of the last evaluation.
    last_eval: Option<(u64, f64)>,
    /// Largest estimates so far.
    max_lr: MaxLr,
    /// Step of the next checkpoint.
    next_checkpoint: u64,
}

/// An update's numbers as `metrics.csv` records them (an agent without a temperature leaves
/// its cells empty).
fn update_row(s: &UpdateStats) -> UpdateRow {
    let est = |network| {
        s.estimate(network)
            .map_or_else(NetEstimate::default, |e: &Estimate| NetEstimate {
                lr: e.lr,
                d: e.d,
            })
    };
    let temperature = s.temperature.as_ref();
    UpdateRow {
        critic_loss: s.critic_loss,
        actor_loss: s.actor_loss,
        temperature_loss: temperature.map(|t| t.loss),
        temperature: temperature.map(|t| t.value),
        estimates: Network::ALL.map(est),
    }
}

/// One network's estimate and diagnostics as `diagnostics.csv` records them; `None` for an
/// optimizer without diagnostics (Adam, COCOB, ...).
fn diagnostic_row(e: &Estimate) -> Option<DiagnosticRow> {
    let Diagnostics {
        numerator,
        s_norm,
        d_hat,
        g0_norm,
        grad_norm,
    } = e.diagnostics?;
    Some(DiagnosticRow {
        values: [
            e.lr, e.d, e.d_next, d_hat, numerator, s_norm, g0_norm, grad_norm,
        ],
    })
}

fn env_err(e: impl std::fmt::Display) -> RunError {
    RunError::Io(format!("environment: {e}"))
}

fn agent_err(e: AgentError) -> RunError {
    RunError::Io(format!("agent: {e}"))
}

/// A line above the progress bars, or on stderr when they are hidden (not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}")
    } else {
        bar.println(line)
    }
}

/// Why a seed stopped before its budget: it diverged (recorded in its summary, the run goes
/// on), or something failed (an I/O or environment error that ends the run, resumable).
#[derive(Debug)]
pub enum Stop {
    /// The seed diverged: why.
    Diverged(String),
    /// The run cannot go on.
    Failed(RunError),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Diverged(reason) => write!(f, "diverged: {reason}"),
            Stop::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Stop {}

impl From<RunError> for Stop {
    fn from(e: RunError) -> Self {
        Stop::Failed(e)
    }
}

/// One environment step with `action`.
///
/// A policy's action is non-finite only when its weights are (an update that overflowed them
/// with finite gradients shows up here first), so that is the seed's divergence, not an
/// environment error that would end the whole run.
fn step_env(env: &mut dyn Env, action: &[f32]) -> Result<Step, Stop> {
    if let Some(reason) = outcome::action_divergence(action) {
        return Err(Stop::Diverged(reason));
    }
    Ok(env.step(action).map_err(env_err)?)
}

/// Mean and population std of the return of the deterministic policy `act` over `episodes`
/// episodes of `env` (reset seeds [`evaluation_reset_seed`]). rl-train's evaluation, and
/// the one its examples compare other loops by.
pub fn evaluate(
    mut act: impl FnMut(&[f32]) -> Vec<f32>,
    env: &mut dyn Env,
    seed: u64,
    episodes: usize,
) -> Result<(f64, f64), Stop> {
    let mut returns = Vec::with_capacity(episodes);
    for i in 0..episodes {
        let reset_seed = evaluation_reset_seed(seed, i as u64);
        let mut obs = env.reset(Some(reset_seed)).map_err(env_err)?;
        let mut total = 0.0;
        loop {
            let action = act(&obs);
            let step = step_env(env, &action).map_err(|stop| match stop {
                Stop::Diverged(reason) => Stop::Diverged(format!("in evaluation: {reason}")),
                failed => failed,
            })?;
            total += step.reward;
            obs = step.obs;
            if step.terminated || step.truncated {
                break;
            }
        }
        returns.push(total);
    }
    let mean = returns.iter().sum::<f64>() / episodes as f64;
    let std =
        (returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / episodes as f64).sqrt();
    Ok((mean, std))
}

/// A seed's summary and the environment steps this process took for it.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The seed's summary (`summary.json`).
    pub summary: SeedSummary,
    /// Steps trained by this process: 0 for a seed read back finished, the rest of the
    /// budget for one resumed from a checkpoint.
    pub env_steps: u64,
}

/// Run (or resume, or return the finished result of) one seed.
pub fn run_seed(
    config: &RunConfig,
    run_dir: &Path,
    optimizer: &str,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Trained, RunError> {
    let plan = config.plan(optimizer)?;
    let dir = seed_dir(run_dir, &plan.name, seed);
    // This thread does the seed's arithmetic (one thread per seed), so the mode covers it all.
    let _denormals = burn_lrfree::internals::FlushDenormals::scoped(config.flush_denormals);
    if let Some(summary) = finished(&dir, bar)? {
        return Ok(Trained {
            summary,
            env_steps: 0,
        });
    }
    let mut run = SeedRun::start(config, dir, &plan, seed, device, bar)?;
    let divergence = match run.train() {
        Ok(()) => None,
        Err(Stop::Diverged(reason)) => Some(run.divergence(reason)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    let env_steps = run.write_timing()?;
    Ok(Trained {
        summary: run.finish(divergence)?,
        env_steps,
    })
}

/// The summary of a seed that already finished (a resumed run reads it back, not reruns it).
fn finished(dir: &Path, bar: &ProgressBar) -> Result<Option<SeedSummary>, RunError> {
    let summary_path = dir.join("summary.json");
    if !summary_path.exists() {
        return Ok(None);
    }
    let done: SeedSummary = read_json(&summary_path)?;
    if !done.complete {
        return Ok(None);
    }
    bar.set_position(done.steps_done);
    bar.finish_with_message("already done");
    Ok(Some(done))
}

/// One seed in training: its environments, agent, records and counters.
struct SeedRun<'a> {
    config: &'a RunConfig,
    dir: PathBuf,
    plan: &'a OptimizerPlan,
    seed: u64,
    bar: &'a ProgressBar,
    env: Box<dyn Env>,
    eval_env: Box<dyn Env>,
    /// The agent, driven only through [`RlAgent`].
    agent: Box<dyn RlAgent>,
    counters: Counters,
    metrics: MetricsWriter,
    /// diagnostics.csv, in runs with `diagnostics`.
    diagnostics: Option<DiagnosticsWriter>,
    /// Throughput of this process's part of the seed (timing.json).
    start_step: u64,
    started: Instant,
    eval_seconds: f64,
}

impl<'a> SeedRun<'a> {
    /// Build the environments and the agent, fresh or from the seed's last checkpoint.
    fn start(
        config: &'a RunConfig,
        dir: PathBuf,
        plan: &'a OptimizerPlan,
        seed: u64,
        device: &Device,
        bar: &'a ProgressBar,
    ) -> Result<Self, RunError> {
        std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
        let (optimizers, optimizer) = (&plan.optimizers, &plan.name);
        let kwargs = config.kwargs()?;
        let env = make_env(&config.env, &kwargs).map_err(env_err)?;
        let eval_env = make_env(&config.env, &kwargs).map_err(env_err)?;
        let metrics_path = dir.join("metrics.csv");
        let diagnostics_path = dir.join("diagnostics.csv");
        let (mut agent, counters, metrics, diagnostics) = match latest_checkpoint(&dir) {
            Some(checkpoint) => {
                let counters: Counters = read_json(&checkpoint.join("counters.json"))?;
                let agent = load_agent(config, &checkpoint.join("agent"), optimizers, device)?;
                let metrics = MetricsWriter::resume(&metrics_path, counters.metrics_len)?;
                let diagnostics = match config.diagnostics {
                    false => None,
                    true if diagnostics_path.exists() => Some(DiagnosticsWriter::resume(
                        &diagnostics_path,
                        counters.diagnostics_len,
                    )?),
                    true => Some(DiagnosticsWriter::create(&diagnostics_path)?),
                };
                say(
                    bar,
                    format!(
                        "{optimizer} seed {seed}: resuming at step {}",
                        counters.step
                    ),
                );
                (agent, counters, metrics, diagnostics)
            }
            None => {
                let space = env.action_space();
                let (low, high) = (space.low().to_vec(), space.high().to_vec());
                let obs_dim = env.observation_space().dim();
                let agent = new_agent(config, (obs_dim, &low, &high), optimizers, seed, device)?;
                let counters = Counters {
                    next_checkpoint: config.checkpoint_every,
                    ..Counters::default()
                };
                let diagnostics = match config.diagnostics {
                    true => Some(DiagnosticsWriter::create(&diagnostics_path)?),
                    false => None,
                };
                let metrics = MetricsWriter::create(&metrics_path)?;
                (agent, counters, metrics, diagnostics)
            }
        };
        agent.set_diagnostics(config.diagnostics);
        bar.set_position(counters.step);
        if bar.is_hidden() {
            // Without bars, a log shows when each seed started (and that --jobs seeds overlap).
            eprintln!(
                "{optimizer} seed {seed}: training from step {} to {}",
                counters.step, config.steps
            );
        }
        Ok(Self {
            start_step: counters.step,
            started: Instant::now(),
            eval_seconds: 0.0,
            config,
            dir,
            plan,
            seed,
            bar,
            env,
            eval_env,
            agent,
            counters,
            metrics,
            diagnostics,
        })
    }

    /// The loop: act, observe, learn, and between steps record episodes, evaluate and
    /// checkpoint, until the step budget is spent or the seed stops.
    fn train(&mut self) -> Result<(), Stop> {
        let mut obs = self.reset_training_episode()?;
        let (mut episode_return, mut episode_len) = (0.0, 0u64);
        while self.counters.step < self.config.steps {
            // Act: uniformly random until learning starts, then sample the policy.
            let action = if self.counters.step < self.config.learning_starts {
                self.agent.random_action()
            } else {
                self.agent.act(&obs, false)
            };
            let step = step_env(self.env.as_mut(), &action)?;
            // Only a true termination stops bootstrapping; a time limit (truncation) does not.
            self.agent.observe(
                &obs,
                &action,
                step.reward as f32,
                &step.obs,
                step.terminated,
            );
            episode_return += step.reward;
            episode_len += 1;
            self.counters.step += 1;
            obs = step.obs;

            self.learn()?;
            let episode_over = step.terminated || step.truncated;
            if episode_over {
                self.metrics
                    .episode(self.counters.step, episode_return, episode_len)?;
                (episode_return, episode_len) = (0.0, 0);
            }
            self.evaluate_if_due()?;
            if episode_over && self.counters.step < self.config.steps {
                // Checkpoints are taken between episodes, so a resume starts a fresh, seeded
                // episode.
                self.checkpoint_if_due()?;
                obs = self.reset_training_episode()?;
            }
            self.bar.set_position(self.counters.step);
        }
        Ok(())
    }

    /// A new training episode, its reset seed derived from the seed and the episode count.
    fn reset_training_episode(&mut self) -> Result<Vec<f32>, RunError> {
        let reset_seed = training_reset_seed(self.seed, self.counters.episode);
        let obs = self.env.reset(Some(reset_seed)).map_err(env_err)?;
        self.counters.episode += 1;
        Ok(obs)
    }

    fn divergence(&self, reason: String) -> Divergence {
        Divergence {
            step: self.counters.step,
            reason,
        }
    }

    /// One gradient step per environment step once learning has started; the update's numbers
    /// go to metrics.csv every `log_every` steps (and an update that diverged, always).
    fn learn(&mut self) -> Result<(), Stop> {
        let step = self.counters.step;
        if step < self.config.learning_starts || self.agent.buffer_len() < self.agent.batch_size() {
            return Ok(());
        }
        match self.agent.update() {
            Ok(stats) => {
                let diverged = outcome::divergence(&stats, &self.plan.lr_bounds);
                let row = update_row(&stats);
                self.counters.max_lr.observe(&row);
                if step.is_multiple_of(self.config.log_every) || diverged.is_some() {
                    self.metrics.update(step, &row)?;
                    if let Some(diagnostics) = &mut self.diagnostics {
                        for (network, net) in Network::ALL.into_iter().zip(Net::ALL) {
                            let row = stats.estimate(network).and_then(diagnostic_row);
                            if let Some(row) = row {
                                diagnostics.row(step, net, &row)?;
                            }
                        }
                    }
                }
                diverged.map_or(Ok(()), |reason| Err(Stop::Diverged(reason)))
            }
            Err(refused @ AgentError::Refused { .. }) => Err(Stop::Diverged(refused.to_string())),
            Err(e) => Err(Stop::Failed(agent_err(e))),
        }
    }

    /// Evaluate the deterministic policy every `eval_every` steps and at the last step.
    fn evaluate_if_due(&mut self) -> Result<(), Stop> {
        let step = self.counters.step;
        if !(step.is_multiple_of(self.config.eval_every) || step == self.config.steps) {
            return Ok(());
        }
        let eval_started = Instant::now();
        let agent = &mut self.agent;
        let evaluation = evaluate(
            |obs| agent.act(obs, true),
            self.eval_env.as_mut(),
            self.seed,
            self.config.eval_episodes,
        );
        self.eval_seconds += eval_started.elapsed().as_secs_f64();
        let (mean, std) = evaluation?;
        self.metrics.eval(step, mean, std)?;
        self.counters.last_eval = Some((step, mean));
        self.bar.set_message(format!("eval {mean:.1}"));
        if self.bar.is_hidden() {
            eprintln!(
                "{} seed {}: step {step} eval return {mean:.1} ± {std:.1}",
                self.plan.name, self.seed
            );
        }
        Ok(())
    }

    /// Save a checkpoint once `checkpoint_every` steps have passed since the last one.
    fn checkpoint_if_due(&mut self) -> Result<(), RunError> {
        let counters = &mut self.counters;
        if counters.step < counters.next_checkpoint {
            return Ok(());
        }
        while counters.next_checkpoint <= counters.step {
            counters.next_checkpoint += self.config.checkpoint_every;
        }
        counters.metrics_len = self.metrics.len()?;
        if let Some(diagnostics) = &self.diagnostics {
            counters.diagnostics_len = diagnostics.len()?;
        }
        save_checkpoint(
            &self.dir,
            self.agent.as_ref(),
            counters,
            self.config.save_buffer,
        )
    }

    /// timing.json: this process's steps, wall time and throughput. Returns the steps.
    fn write_timing(&self) -> Result<u64, RunError> {
        let wall_seconds = self.started.elapsed().as_secs_f64();
        let env_steps = self.counters.step - self.start_step;
        let rate = |secs: f64| {
            if secs > 0.0 {
                env_steps as f64 / secs
            } else {
                0.0
            }
        };
        let timing = SeedTiming {
            optimizer: self.plan.name.clone(),
            seed: self.seed,
            env: self.config.env.clone(),
            start_step: self.start_step,
            env_steps,
            wall_seconds,
            eval_seconds: self.eval_seconds,
            steps_per_second: rate(wall_seconds),
            train_steps_per_second: rate(wall_seconds - self.eval_seconds),
        };
        write_json_atomic(&self.dir.join("timing.json"), &timing)?;
        say(self.bar, timing.line());
        Ok(env_steps)
    }

    /// The final agent and the seed's summary (success, divergence, largest estimates).
    fn finish(self, divergence: Option<Divergence>) -> Result<SeedSummary, RunError> {
        let (config, plan, seed, bar) = (self.config, self.plan, self.seed, self.bar);
        let optimizer = &plan.name;
        let final_eval_return = self.counters.last_eval.map(|(_, r)| r);
        let diverged = divergence.is_some();
        if let Some(d) = &divergence {
            say(
                bar,
                format!(
                    "{optimizer} seed {seed}: diverged at step {}: {}",
                    d.step, d.reason
                ),
            );
        }
        self.agent
            .save(&self.dir.join("final"), false)
            .map_err(agent_err)?;
        let kind = config.agent_kind()?;
        let summary = SeedSummary {
            optimizer: optimizer.to_string(),
            seed,
            env: config.env.clone(),
            steps: config.steps,
            steps_done: self.counters.step,
            complete: true,
            final_eval_return,
            success: outcome::success(final_eval_return, diverged, config.success_threshold),
            diverged,
            divergence,
            max_lr: self.counters.max_lr,
            actor_optimizer: plan.actor_optimizer.clone(),
            temperature_optimizer: kind
                .has_temperature()
                .then(|| plan.temperature_optimizer.clone()),
            agent: (kind.name != "sac").then(|| kind.name.to_string()),
        };
        write_json_atomic(&self.dir.join("summary.json"), &summary)?;
        bar.finish_with_message(match final_eval_return {
            Some(r) if !diverged => format!("final eval {r:.1}"),
            _ if diverged => "diverged".to_string(),
            _ => "no evaluation".to_string(),
        });
        Ok(summary)
    }
}

/// A fresh agent of the run's kind (`agent`, [`lrfree_agents::registry`]) for observations
/// of `obs_dim` values and actions in `[low, high]`.
pub fn new_agent(
    config: &RunConfig,
    (obs_dim, low, high): (usize, &[f32], &[f32]),
    optimizers: &SacOptimizers,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn RlAgent>, RunError> {
    let options = config.agent_options()?;
    let spec = AgentSpec {
        obs_dim,
        low,
        high,
        optimizers,
        seed,
        device,
        options: &options,
    };
    (config.agent_kind()?.new)(&spec).map_err(agent_err)
}

/// The agent saved in `dir` by a checkpoint of this run.
fn load_agent(
    config: &RunConfig,
    dir: &Path,
    optimizers: &SacOptimizers,
    device: &Device,
) -> Result<Box<dyn RlAgent>, RunError> {
    let options = config.agent_options()?;
    // Sizes and seed come from the checkpoint; these stand in until it is read.
    let spec = AgentSpec {
        obs_dim: 0,
        low: &[],
        high: &[],
        optimizers,
        seed: 0,
        device,
        options: &options,
    };
    (config.agent_kind()?.load)(dir, &spec).map_err(agent_err)
}

/// The newest complete checkpoint: `checkpoint/`, or `checkpoint.old/` if a crash came between
/// the two renames that replace it.
fn latest_checkpoint(dir: &Path) -> Option<PathBuf> {
    ["checkpoint", "checkpoint.old"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.join("counters.json").exists())
}

/// Write a checkpoint so that a crash at any moment leaves a complete one behind.
fn save_checkpoint(
    dir: &Path,
    agent: &dyn RlAgent,
    counters: &Counters,
    include_buffer: bool,
) -> Result<(), RunError> {
    let tmp = dir.join("checkpoint.tmp");
    let current = dir.join("checkpoint");
    let old = dir.join("checkpoint.old");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| RunError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| RunError::io(&tmp, e))?;
    agent
        .save(&tmp.join("agent"), include_buffer)
        .map_err(agent_err)?;
    // counters.json last: its presence marks the checkpoint complete.
    write_json_atomic(&tmp.join("counters.json"), counters)?;
    if current.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| RunError::io(&old, e))?;
        }
        std::fs::rename(&current, &old).map_err(|e| RunError::io(&current, e))?;
    }
    std::fs::rename(&tmp, &current).map_err(|e| RunError::io(&tmp, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| RunError::io(&old, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_policy_action_is_divergence_not_an_environment_error() {
        let mut env = make_env("Pendulum", &Default::default()).unwrap();
        env.reset(Some(0)).unwrap();
        // The environment itself refuses such an action with an error (which used to end the run).
        assert!(env.step(&[f32::NAN]).is_err());
        match step_env(env.as_mut(), &[f32::NAN]) {
            Err(Stop::Diverged(reason)) => assert_eq!(reason, "the policy's action[0] became NaN"),
            other => panic!("not a divergence: {other:?}"),
        }
        let step = step_env(env.as_mut(), &[0.5]).unwrap();
        assert!(step.reward.is_finite());
    }
}
