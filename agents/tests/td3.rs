//! TD3 through the registry: deterministic per seed, saved and restored bit for bit (the
//! replay buffer and random stream included), evaluation actions in the box, bad options
//! refused.

use burn::tensor::Device;
use burn_lrfree::registry::OptimizerConfig;
use lrfree_agents::{AgentSpec, RlAgent, SacOptimizers, UpdateStats, agent};

fn options() -> toml::Table {
    toml::from_str("buffer_size = 300\nbatch_size = 16\nhidden = [16, 16]").unwrap()
}

fn build(optimizer: &str, seed: u64, options: &toml::Table) -> Box<dyn RlAgent> {
    let lr = if optimizer == "adam" { 1e-3 } else { 1.0 };
    let optimizers = SacOptimizers::same(OptimizerConfig::defaults(optimizer).unwrap(), lr);
    let spec = AgentSpec {
        obs_dim: 3,
        low: &[-2.0, 0.0],
        high: &[2.0, 1.0],
        optimizers: &optimizers,
        seed,
        device: &Device::default(),
        options,
    };
    (agent("TD3").unwrap().new)(&spec).unwrap()
}

/// `n` steps of a toy stream into the agent (random actions first), updating from step 20.
fn drive(agent: &mut dyn RlAgent, n: usize) -> Vec<UpdateStats> {
    let mut obs = vec![0.3f32, -0.1, 0.5];
    let mut stats = Vec::new();
    for t in 0..n {
        let action = if t < 20 {
            agent.random_action()
        } else {
            agent.act(&obs, false)
        };
        let next: Vec<f32> = obs
            .iter()
            .map(|v| (v * 0.8 + action[0] * 0.1).sin())
            .collect();
        let reward = -(action[0] - obs[0]).powi(2) - (action[1] - 0.5).powi(2);
        agent.observe(&obs, &action, reward, &next, t % 25 == 24);
        obs = next;
        if t >= 20 {
            stats.push(agent.update().unwrap());
        }
    }
    stats
}

#[test]
fn same_seed_same_run_and_a_restored_agent_continues_bit_for_bit() {
    for optimizer in ["adam", "ps-da-sgd"] {
        let (mut a, mut b) = (
            build(optimizer, 3, &options()),
            build(optimizer, 3, &options()),
        );
        assert_eq!(drive(a.as_mut(), 60), drive(b.as_mut(), 60), "{optimizer}");
        let dir = std::env::temp_dir().join(format!("td3-{optimizer}-{}", std::process::id()));
        a.save(&dir, true).unwrap();
        let optimizers = SacOptimizers::same(
            OptimizerConfig::defaults(optimizer).unwrap(),
            if optimizer == "adam" { 1e-3 } else { 1.0 },
        );
        let opts = options();
        let spec = AgentSpec {
            obs_dim: 0,
            low: &[],
            high: &[],
            optimizers: &optimizers,
            seed: 0,
            device: &Device::default(),
            options: &opts,
        };
        let mut restored = (agent("td3").unwrap().load)(&dir, &spec).unwrap();
        assert_eq!(restored.buffer_len(), a.buffer_len());
        assert_eq!(
            drive(a.as_mut(), 30),
            drive(restored.as_mut(), 30),
            "{optimizer}"
        );
        let obs = [0.1, 0.2, 0.3];
        assert_eq!(a.act(&obs, false), restored.act(&obs, false));
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn the_actor_steps_every_second_update_and_there_is_no_temperature() {
    let mut td3 = build("adam", 1, &options());
    let stats = drive(td3.as_mut(), 26);
    let steps: Vec<u64> = stats.iter().map(|s| s.actor.steps).collect();
    // Six updates: the actor steps at updates 0, 2 and 4.
    assert_eq!(steps, [1, 1, 2, 2, 3, 3]);
    assert!(stats.iter().all(|s| s.temperature.is_none()));
    assert_eq!(
        stats.iter().map(|s| s.critic.steps).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    for _ in 0..20 {
        let a = td3.act(&[5.0, -5.0, 5.0], false);
        assert!(
            (-2.0..=2.0).contains(&a[0]) && (0.0..=1.0).contains(&a[1]),
            "{a:?}"
        );
    }
    let det = td3.act(&[0.1, 0.1, 0.1], true);
    assert_eq!(det, td3.act(&[0.1, 0.1, 0.1], true));
}

#[test]
fn bad_options_are_refused_with_their_name() {
    let optimizers = SacOptimizers::same(OptimizerConfig::defaults("adam").unwrap(), 1e-3);
    for (text, needle) in [
        ("hiden = [3]", "hiden"),
        ("policy_delay = 0", "policy_delay"),
    ] {
        let opts: toml::Table = toml::from_str(text).unwrap();
        let spec = AgentSpec {
            obs_dim: 3,
            low: &[-1.0],
            high: &[1.0],
            optimizers: &optimizers,
            seed: 0,
            device: &Device::default(),
            options: &opts,
        };
        let err = (agent("td3").unwrap().new)(&spec)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(needle), "{err}");
    }
    assert!(agent("ddpg").unwrap_err().to_string().contains("sac, td3"));
}
