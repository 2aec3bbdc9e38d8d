//! SAC trained by burn-train's `RLTraining` (burn-rl's seam, `lrfree_agents::burn_train`) on
//! Pendulum: the loop runs, every update reaches burn-train's metrics with the optimizer's
//! estimated learning rate, and the returned policy is the trained one.

use std::path::Path;

use burn::tensor::Device;
use lrfree_agents::Sac;
use lrfree_agents::burn_train::{OffPolicyPlan, rl_training};
use lrfree_envs::{BurnEnv, make_env};
use lrfree_rl::config::RunConfig;

/// The values burn-train logged for metric `name` (its file logger: `value,count` lines).
fn logged(dir: &Path, name: &str) -> Vec<f64> {
    let file = dir
        .join("train/epoch-1")
        .join(format!("{}.log", name.replace(' ', "_")));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// Train `optimizer` for 300 steps (100 of warm-up) and return burn-train's directory and the
/// deterministic action of the initial and of the returned policy at one observation.
fn train(optimizer: &str) -> (tempdir::Dir, Vec<f32>, Vec<f32>) {
    let mut config = RunConfig::builtin("Pendulum").unwrap();
    config.sac.hidden = vec![32, 32];
    config.sac.batch_size = 32;
    let optimizers = config.plan(optimizer).unwrap().optimizers;
    let env = make_env("Pendulum", &Default::default()).unwrap();
    let space = env.action_space();
    let sac = Sac::new(
        3,
        space.low(),
        space.high(),
        &config.sac,
        &optimizers,
        4,
        &Device::default(),
    )
    .unwrap();
    let obs = [0.3, -0.9, 0.4];
    let before =
        lrfree_agents::SacPolicy::act_one(&mut burn::rl::PolicyLearner::policy(&sac), &obs, true);
    let dir = tempdir::Dir::new(optimizer);
    let plan = OffPolicyPlan {
        steps: 300,
        learning_starts: 100,
        eval_every: 1000,
        eval_episodes: 1,
        batch_size: config.sac.batch_size,
        buffer_size: config.sac.buffer_size,
    };
    let env_init = BurnEnv::init("Pendulum", &Default::default(), 4).unwrap();
    let result = rl_training(&dir.0, env_init, &plan).launch(sac);
    assert!(result.error.is_none(), "{:?}", result.error);
    let mut policy = result.policy;
    let after = policy.act_one(&obs, true);
    (dir, before, after)
}

mod tempdir {
    /// A fresh directory under the target dir, removed on drop.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            let path = std::env::temp_dir()
                .join(format!("lrfree-rltraining-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn adams_logged_rate_is_its_learning_rate_at_every_update() {
    let (dir, before, after) = train("adam");
    let lr = logged(&dir.0, "Estimated LR (actor)");
    // One update per step from step 100 on (burn-train starts once the buffer holds a batch).
    assert!(
        (199..=201).contains(&lr.len()),
        "{} updates logged",
        lr.len()
    );
    assert!(lr.iter().all(|&v| v == 3e-4), "{lr:?}");
    let loss = logged(&dir.0, "Critic loss");
    assert_eq!(loss.len(), lr.len());
    assert!(loss.iter().all(|v| v.is_finite() && *v >= 0.0));
    assert_ne!(before, after, "the returned policy is the untrained one");
}

#[test]
fn ps_da_sgd_logs_its_growing_estimate() {
    let (dir, before, after) = train("ps-da-sgd");
    for net in ["actor", "critic"] {
        let lr = logged(&dir.0, &format!("Estimated LR ({net})"));
        assert!(
            (199..=201).contains(&lr.len()),
            "{net}: {} updates",
            lr.len()
        );
        assert!(
            lr.iter().all(|v| v.is_finite() && *v > 0.0),
            "{net}: {lr:?}"
        );
        // D starts at d0 and only grows: the rate at the end is above the first one.
        assert!(
            lr[lr.len() - 1] > lr[0],
            "{net}: {} -> {}",
            lr[0],
            lr[lr.len() - 1]
        );
    }
    assert_ne!(before, after);
}

/// TD3 through the same loop: its actor's Adam rate is logged at every update (its actor steps
/// every second one and keeps its estimate between), its policy comes back trained.
#[test]
fn td3_trains_under_rltraining_too() {
    use burn::rl::{Policy, PolicyLearner};
    use lrfree_agents::{AgentSpec, Td3, Td3Config};
    use lrfree_envs::Observations;

    let config = RunConfig::builtin("Pendulum").unwrap();
    let optimizers = config.plan("adam").unwrap().optimizers;
    let options: toml::Table = toml::from_str("hidden = [32, 32]\nbatch_size = 32").unwrap();
    let device = Device::default();
    let spec = AgentSpec {
        obs_dim: 3,
        low: &[-2.0],
        high: &[2.0],
        optimizers: &optimizers,
        seed: 4,
        device: &device,
        options: &options,
    };
    let td3_config: Td3Config = spec.options().unwrap();
    let td3 = Td3::new(&spec, &td3_config).unwrap();
    let obs = Observations::from_row(&[0.3, -0.9, 0.4], &device);
    let before = td3.policy().action(obs.clone(), true).0.to_host();
    let dir = tempdir::Dir::new("td3");
    let plan = OffPolicyPlan {
        steps: 300,
        learning_starts: 100,
        eval_every: 1000,
        eval_episodes: 1,
        batch_size: td3_config.batch_size,
        buffer_size: td3_config.buffer_size,
    };
    let env_init = BurnEnv::init("Pendulum", &Default::default(), 4).unwrap();
    let result = rl_training(&dir.0, env_init, &plan).launch(td3);
    assert!(result.error.is_none(), "{:?}", result.error);
    let lr = logged(&dir.0, "Estimated LR (actor)");
    assert!(
        (199..=201).contains(&lr.len()),
        "{} updates logged",
        lr.len()
    );
    assert!(lr.iter().all(|&v| v == 3e-4), "{lr:?}");
    let mut policy = result.policy;
    assert_ne!(policy.action(obs, true).0.to_host(), before);
}
