//! SAC with a learning-rate-free optimizer, trained by burn-train's `RLTraining`
//! (`OffPolicyStrategy`) instead of rl-train: our agent through Burn's own RL seam
//! (`burn_rl::PolicyLearner`), our environment through `burn_rl::Environment`, and each
//! optimizer's estimated learning rate as a burn-train metric.
//!
//! ```sh
//! cargo run --release --example rltraining                       # PS-DA-SGD, Pendulum, 20k steps
//! cargo run --release --example rltraining -- --optimizer adam --steps 5000 --out runs/rlt-adam
//! ```
//!
//! The hyperparameters are rl-train's for the environment (`RunConfig::builtin`): the same
//! networks, batch, buffer size, warm-up length and optimizer plan. At the end the returned
//! policy is evaluated exactly as rl-train evaluates (10 deterministic episodes on the same
//! reset seeds), so the two loops can be compared on one line (docs/burn-rl.md). burn-train's
//! metrics and logs are under `--out`.

use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use burn_train::metric::{CumulativeRewardMetric, EpisodeLengthMetric};
use clap::Parser;
use lrfree_agents::Sac;
use lrfree_agents::burn_train::{OffPolicyPlan, rl_training};
use lrfree_envs::{BurnEnv, make_env};
use lrfree_rl::config::RunConfig;
use lrfree_rl::trainer::evaluate;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "SAC with an LR-free optimizer under burn-train's RLTraining")]
struct Args {
    /// A built-in environment (Pendulum, MountainCarContinuous, Hopper, ...).
    #[arg(long, default_value = "Pendulum")]
    env: String,
    /// Any optimizer of burn-lrfree that rl-train accepts.
    #[arg(long, default_value = "ps-da-sgd")]
    optimizer: String,
    /// Environment steps (rl-train's budget for the environment by default).
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// burn-train's directory (metrics, logs).
    #[arg(long, default_value = "runs/rltraining")]
    out: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = RunConfig::builtin(&args.env)?;
    let optimizers = config.plan(&args.optimizer)?.optimizers;
    let kwargs = config.kwargs()?;
    let device = Device::default();

    let probe = make_env(&config.env, &kwargs)?;
    let space = probe.action_space();
    let obs_dim = probe.observation_space().dim();
    let sac = Sac::new(
        obs_dim,
        space.low(),
        space.high(),
        &config.sac,
        &optimizers,
        args.seed,
        &device,
    )?;
    let steps = args.steps.unwrap_or(config.steps as usize);
    if steps == 0 {
        bail!("--steps must be positive");
    }

    let env_init = BurnEnv::init(&config.env, &kwargs, args.seed)?;
    let plan = OffPolicyPlan {
        steps,
        learning_starts: config.learning_starts as usize,
        eval_every: config.eval_every as usize,
        eval_episodes: config.eval_episodes,
    };
    let training = rl_training(&args.out, env_init, &config.sac, &plan)
        .metrics_episode((CumulativeRewardMetric::new(), EpisodeLengthMetric::new()));

    eprintln!(
        "SAC on {} with {}: {} steps under burn-train's RLTraining (OffPolicyStrategy)",
        config.env, args.optimizer, steps
    );
    let started = Instant::now();
    let result = training.launch(sac);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(error) = result.error {
        bail!("burn-train stopped with an error: {error}");
    }

    let mut policy = result.policy;
    let mut eval_env = make_env(&config.env, &kwargs)?;
    let (mean, std) = evaluate(
        |obs| policy.act_one(obs, true),
        eval_env.as_mut(),
        args.seed,
        config.eval_episodes,
    )
    .context("evaluating the trained policy")?;
    println!(
        "{} seed {}: final eval return {mean:.1} ± {std:.1} over {} episodes; {} steps in {seconds:.1} s ({:.1} steps/s)",
        args.optimizer,
        args.seed,
        config.eval_episodes,
        steps,
        steps as f64 / seconds
    );
    Ok(())
}
