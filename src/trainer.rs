//! One seed of one optimizer: the SAC training loop with evaluation, records, checkpoints and
//! resume. Reads top to bottom like the loop it is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use burn_lrfree::Estimate;
use lrfree_agents::{AgentError, Sac, UpdateStats};
use lrfree_envs::{Env, Step, make_env};
use lrfree_runkit::RunError;
use lrfree_runkit::files::{read_json, write_json_atomic};
use lrfree_runkit::pool::ProgressBar;
use lrfree_runkit::records::rl::{
    Divergence, MaxLr, MetricsWriter, NetEstimate, SeedSummary, SeedTiming, UpdateRow,
};
use lrfree_runkit::records::seed_dir;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
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
    /// Step and mean return of the last evaluation.
    last_eval: Option<(u64, f64)>,
    /// Largest estimates so far.
    max_lr: MaxLr,
    /// Step of the next checkpoint.
    next_checkpoint: u64,
}

/// Seeds of environment resets, kept apart for training and evaluation.
fn train_reset_seed(seed: u64, episode: u64) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(episode)
}

fn eval_reset_seed(seed: u64, episode: usize) -> u64 {
    (1u64 << 40) + seed.wrapping_mul(10_007) + episode as u64
}

/// An update's numbers as `metrics.csv` records them.
fn update_row(s: &UpdateStats) -> UpdateRow {
    let est = |e: &Estimate| NetEstimate { lr: e.lr, d: e.d };
    UpdateRow {
        critic_loss: s.critic_loss,
        actor_loss: s.actor_loss,
        alpha_loss: s.alpha_loss,
        alpha: s.alpha,
        estimates: [est(&s.critic), est(&s.actor), est(&s.alpha_est)],
    }
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

/// One environment step with `action`, or (inner `Err`) why the seed diverged instead.
///
/// A policy's action is non-finite only when its weights are (an update that overflowed them
/// with finite gradients shows up here first), so that is the seed's divergence, not an
/// environment error that would end the whole run.
fn step_env(env: &mut dyn Env, action: &[f32]) -> Result<Result<Step, String>, RunError> {
    if let Some(reason) = outcome::action_divergence(action) {
        return Ok(Err(reason));
    }
    env.step(action).map(Ok).map_err(env_err)
}

/// Mean and population std of the deterministic policy's return over `episodes` episodes,
/// or (inner `Err`) why the policy diverged.
fn evaluate(
    sac: &mut Sac,
    env: &mut dyn Env,
    seed: u64,
    episodes: usize,
) -> Result<Result<(f64, f64), String>, RunError> {
    let mut returns = Vec::with_capacity(episodes);
    for i in 0..episodes {
        let mut obs = env.reset(Some(eval_reset_seed(seed, i))).map_err(env_err)?;
        let mut total = 0.0;
        loop {
            let action = sac.act(&obs, true);
            let step = match step_env(env, &action)? {
                Ok(step) => step,
                Err(reason) => return Ok(Err(format!("in evaluation: {reason}"))),
            };
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
    Ok(Ok((mean, std)))
}

/// Run (or resume, or return the finished result of) one seed.
pub fn run_seed(
    config: &RunConfig,
    run_dir: &Path,
    optimizer: &str,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<SeedSummary, RunError> {
    let dir = seed_dir(run_dir, optimizer, seed);
    // This thread does the seed's arithmetic (one thread per seed), so the mode covers it all.
    let _denormals = burn_lrfree::FlushDenormals::scoped(config.flush_denormals);
    let summary_path = dir.join("summary.json");
    if summary_path.exists() {
        let done: SeedSummary = read_json(&summary_path)?;
        if done.complete {
            bar.set_position(done.steps_done);
            bar.finish_with_message("already done");
            return Ok(done);
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let optimizers = config.optimizer(optimizer)?;
    let lr_bounds = config.lr_bounds(optimizer);
    let kwargs = config.kwargs()?;
    let mut env = make_env(&config.env, &kwargs).map_err(env_err)?;
    let mut eval_env = make_env(&config.env, &kwargs).map_err(env_err)?;
    let (low, high) = (
        env.action_space().low().to_vec(),
        env.action_space().high().to_vec(),
    );
    let obs_dim = env.observation_space().dim();

    let metrics_path = dir.join("metrics.csv");
    let (mut sac, mut counters, mut metrics) = match latest_checkpoint(&dir) {
        Some(checkpoint) => {
            let counters: Counters = read_json(&checkpoint.join("counters.json"))?;
            let sac = Sac::load(&checkpoint.join("agent"), &config.sac, &optimizers, device)
                .map_err(agent_err)?;
            let metrics = MetricsWriter::resume(&metrics_path, counters.metrics_len)?;
            say(
                bar,
                format!(
                    "{optimizer} seed {seed}: resuming at step {}",
                    counters.step
                ),
            );
            (sac, counters, metrics)
        }
        None => {
            let sac = Sac::new(obs_dim, &low, &high, &config.sac, &optimizers, seed, device)
                .map_err(agent_err)?;
            let counters = Counters {
                next_checkpoint: config.checkpoint_every,
                ..Counters::default()
            };
            (sac, counters, MetricsWriter::create(&metrics_path)?)
        }
    };
    bar.set_position(counters.step);

    let mut divergence: Option<Divergence> = None;
    let mut obs = env
        .reset(Some(train_reset_seed(seed, counters.episode)))
        .map_err(env_err)?;
    counters.episode += 1;
    let (mut episode_return, mut episode_len) = (0.0, 0u64);
    // Throughput of this process's part of the seed (timing.json).
    let (start_step, started) = (counters.step, Instant::now());
    let mut eval_seconds = 0.0;
    while counters.step < config.steps {
        // Act: uniformly random until learning starts, then sample the policy.
        let action = if counters.step < config.learning_starts {
            sac.random_action()
        } else {
            sac.act(&obs, false)
        };
        let step = match step_env(env.as_mut(), &action)? {
            Ok(step) => step,
            Err(reason) => {
                divergence = Some(Divergence {
                    step: counters.step,
                    reason,
                });
                break;
            }
        };
        // Only a true termination stops bootstrapping; a time limit (truncation) does not.
        sac.observe(
            &obs,
            &action,
            step.reward as f32,
            &step.obs,
            step.terminated,
        );
        episode_return += step.reward;
        episode_len += 1;
        counters.step += 1;
        obs = step.obs;

        // Learn: one gradient step per environment step.
        if counters.step >= config.learning_starts && sac.buffer_len() >= config.sac.batch_size {
            match sac.update() {
                Ok(stats) => {
                    let diverged = outcome::divergence(&stats, &lr_bounds);
                    let row = update_row(&stats);
                    counters.max_lr.observe(&row);
                    if counters.step.is_multiple_of(config.log_every) || diverged.is_some() {
                        metrics.update(counters.step, &row)?;
                    }
                    if let Some(reason) = diverged {
                        divergence = Some(Divergence {
                            step: counters.step,
                            reason,
                        });
                        break;
                    }
                }
                Err(refused @ AgentError::Refused { .. }) => {
                    divergence = Some(Divergence {
                        step: counters.step,
                        reason: refused.to_string(),
                    });
                    break;
                }
                Err(e) => return Err(agent_err(e)),
            }
        }

        let episode_over = step.terminated || step.truncated;
        if episode_over {
            metrics.episode(counters.step, episode_return, episode_len)?;
            (episode_return, episode_len) = (0.0, 0);
        }
        if counters.step.is_multiple_of(config.eval_every) || counters.step == config.steps {
            let eval_started = Instant::now();
            let evaluation = evaluate(&mut sac, eval_env.as_mut(), seed, config.eval_episodes)?;
            eval_seconds += eval_started.elapsed().as_secs_f64();
            let (mean, std) = match evaluation {
                Ok(result) => result,
                Err(reason) => {
                    divergence = Some(Divergence {
                        step: counters.step,
                        reason,
                    });
                    break;
                }
            };
            metrics.eval(counters.step, mean, std)?;
            counters.last_eval = Some((counters.step, mean));
            bar.set_message(format!("eval {mean:.1}"));
            if bar.is_hidden() {
                eprintln!(
                    "{optimizer} seed {seed}: step {} eval return {mean:.1} ± {std:.1}",
                    counters.step
                );
            }
        }
        if episode_over && counters.step < config.steps {
            // Checkpoints are taken between episodes, so a resume starts a fresh, seeded episode.
            if counters.step >= counters.next_checkpoint {
                while counters.next_checkpoint <= counters.step {
                    counters.next_checkpoint += config.checkpoint_every;
                }
                counters.metrics_len = metrics.len()?;
                save_checkpoint(&dir, &sac, &counters, config.save_buffer)?;
            }
            obs = env
                .reset(Some(train_reset_seed(seed, counters.episode)))
                .map_err(env_err)?;
            counters.episode += 1;
        }
        bar.set_position(counters.step);
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let env_steps = counters.step - start_step;
    let rate = |secs: f64| {
        if secs > 0.0 {
            env_steps as f64 / secs
        } else {
            0.0
        }
    };
    let timing = SeedTiming {
        optimizer: optimizer.to_string(),
        seed,
        env: config.env.clone(),
        start_step,
        env_steps,
        wall_seconds,
        eval_seconds,
        steps_per_second: rate(wall_seconds),
        train_steps_per_second: rate(wall_seconds - eval_seconds),
    };
    write_json_atomic(&dir.join("timing.json"), &timing)?;
    say(bar, timing.line());

    let final_eval_return = counters.last_eval.map(|(_, r)| r);
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
    sac.save(&dir.join("final"), false).map_err(agent_err)?;
    let summary = SeedSummary {
        optimizer: optimizer.to_string(),
        seed,
        env: config.env.clone(),
        steps: config.steps,
        steps_done: counters.step,
        complete: true,
        final_eval_return,
        success: outcome::success(final_eval_return, diverged, config.success_threshold),
        diverged,
        divergence,
        max_lr: counters.max_lr,
        actor_optimizer: config.critics_only(optimizer).then(|| "adam".to_string()),
        temperature_optimizer: Some(config.temperature_optimizer_for(optimizer).to_string()),
    };
    write_json_atomic(&summary_path, &summary)?;
    bar.finish_with_message(match final_eval_return {
        Some(r) if !diverged => format!("final eval {r:.1}"),
        _ if diverged => "diverged".to_string(),
        _ => "no evaluation".to_string(),
    });
    Ok(summary)
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
    sac: &Sac,
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
    sac.save(&tmp.join("agent"), include_buffer)
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
        let reason = step_env(env.as_mut(), &[f32::NAN]).unwrap().unwrap_err();
        assert_eq!(reason, "the policy's action[0] became NaN");
        let step = step_env(env.as_mut(), &[0.5]).unwrap().unwrap();
        assert!(step.reward.is_finite());
    }
}
