//! SAC (or TD3) with a learning-rate-free optimizer, trained by burn-train's `RLTraining`
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
use burn::rl::{Batchable, Policy, PolicyLearner};
use burn::tensor::Device;
use burn_train::metric::{CumulativeRewardMetric, EpisodeLengthMetric};
use burn_train::{RLComponentsMarker, RLComponentsTypes, RLTraining};
use clap::Parser;
use lrfree_agents::burn_train::{OffPolicyPlan, rl_training};
use lrfree_agents::{AgentSpec, Sac, Td3, Td3Config};
use lrfree_envs::{Actions, BurnEnv, Observations, make_env};
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
    /// The agent: sac or td3 (its options: rl-train's defaults for the environment).
    #[arg(long, default_value = "sac")]
    agent: String,
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
    let mut config = RunConfig::builtin(&args.env)?;
    config.agent = args.agent.clone();
    config.validate()?;
    let optimizers = config.plan(&args.optimizer)?.optimizers;
    let kwargs = config.kwargs()?;
    let options = config.agent_options()?;
    let device = Device::default();

    let probe = make_env(&config.env, &kwargs)?;
    let space = probe.action_space();
    let spec = AgentSpec {
        obs_dim: probe.observation_space().dim(),
        low: space.low(),
        high: space.high(),
        optimizers: &optimizers,
        seed: args.seed,
        device: &device,
        options: &options,
    };
    let steps = args.steps.unwrap_or(config.steps as usize);
    if steps == 0 {
        bail!("--steps must be positive");
    }
    let env_init = BurnEnv::init(&config.env, &kwargs, args.seed)?;
    let plan = |batch_size, buffer_size| OffPolicyPlan {
        steps,
        learning_starts: config.learning_starts as usize,
        eval_every: config.eval_every as usize,
        eval_episodes: config.eval_episodes,
        batch_size,
        buffer_size,
    };
    eprintln!(
        "{} on {} with {}: {steps} steps under burn-train's RLTraining (OffPolicyStrategy)",
        config.agent, config.env, args.optimizer
    );
    let started = Instant::now();
    // Each agent is its own PolicyLearner type: one arm each, the rest shared.
    let (mean, std) = match config.agent_kind()?.name {
        "td3" => {
            let td3_config: Td3Config = spec.options()?;
            let td3 = Td3::new(&spec, &td3_config)?;
            let plan = plan(td3_config.batch_size, td3_config.buffer_size);
            train_and_evaluate(
                rl_training(&args.out, env_init, &plan),
                td3,
                &config,
                args.seed,
            )?
        }
        _ => {
            let (low, high) = (spec.low, spec.high);
            let sac = Sac::new(
                spec.obs_dim,
                low,
                high,
                &config.sac,
                &optimizers,
                args.seed,
                &device,
            )?;
            let plan = plan(config.sac.batch_size, config.sac.buffer_size);
            train_and_evaluate(
                rl_training(&args.out, env_init, &plan),
                sac,
                &config,
                args.seed,
            )?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} {} seed {}: final eval return {mean:.1} ± {std:.1} over {} episodes; {} steps in {seconds:.1} s ({:.1} steps/s)",
        config.agent,
        args.optimizer,
        args.seed,
        config.eval_episodes,
        steps,
        steps as f64 / seconds
    );
    Ok(())
}

/// Launch `training` with `agent`, then evaluate the returned policy as rl-train evaluates
/// (its evaluation episodes and reset seeds, deterministic actions): mean and std of the return.
fn train_and_evaluate<A, P, F>(
    training: RLTraining<RLComponentsMarker<BurnEnv, F, A>>,
    agent: A,
    config: &RunConfig,
    seed: u64,
) -> anyhow::Result<(f64, f64)>
where
    F: Fn() -> BurnEnv + Clone + Send + 'static,
    RLComponentsMarker<BurnEnv, F, A>: RLComponentsTypes<
            LearningAgent = A,
            Policy = P,
            PolicyObs = Observations,
            PolicyAction = Actions,
        >,
    A: PolicyLearner<InnerPolicy = P> + 'static,
    P: Policy<Observation = Observations, Action = Actions>,
    P::ActionDistribution: Batchable + Clone,
{
    let training =
        training.metrics_episode((CumulativeRewardMetric::new(), EpisodeLengthMetric::new()));
    let result = training.launch(agent);
    if let Some(error) = result.error {
        bail!("burn-train stopped with an error: {error}");
    }
    let mut policy = result.policy;
    let device = Device::default();
    let mut eval_env = make_env(&config.env, &config.kwargs()?)?;
    let act = |obs: &[f32]| {
        let (action, _) = policy.action(Observations::from_row(obs, &device), true);
        action.to_host()
    };
    let evaluation = evaluate(act, eval_env.as_mut(), seed, config.eval_episodes);
    evaluation.context("evaluating the trained policy")
}
