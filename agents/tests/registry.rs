//! Every agent of the registry, as rl-train drives it: built from its options, trained a few
//! updates, saved with its buffer and restored into an agent that continues bit for bit, its
//! updates reporting exactly the networks it declares. A new agent's one line in `AGENTS`
//! puts it under these tests.

use burn::tensor::Device;
use burn_lrfree::registry::OptimizerConfig;
use lrfree_agents::{AGENTS, AgentKind, AgentSpec, Network, RlAgent, SacOptimizers, UpdateStats};

/// Small networks and buffer; every agent's options have these keys.
fn options() -> toml::Table {
    toml::from_str("hidden = [16, 16]\nbatch_size = 8\nbuffer_size = 200").unwrap()
}

fn optimizers() -> SacOptimizers {
    SacOptimizers::same(OptimizerConfig::defaults("ps-da-sgd").unwrap(), 1.0)
}

fn build(kind: &AgentKind, options: &toml::Table, optimizers: &SacOptimizers) -> Box<dyn RlAgent> {
    let spec = AgentSpec {
        obs_dim: 3,
        low: &[-1.0, -2.0],
        high: &[1.0, 2.0],
        optimizers,
        seed: 9,
        device: &Device::default(),
        options,
    };
    (kind.new)(&spec).unwrap_or_else(|e| panic!("{}: {e}", kind.name))
}

fn drive(agent: &mut dyn RlAgent, obs: &mut Vec<f32>, steps: usize) -> Vec<UpdateStats> {
    let mut out = Vec::new();
    for t in 0..steps {
        let action = if agent.buffer_len() < 16 {
            agent.random_action()
        } else {
            agent.act(obs, false)
        };
        let next: Vec<f32> = obs
            .iter()
            .map(|v| (v * 0.7 + action[1] * 0.2).cos())
            .collect();
        agent.observe(obs, &action, -action[0].abs(), &next, t % 11 == 10);
        *obs = next;
        if agent.buffer_len() >= agent.batch_size() {
            out.push(agent.update().unwrap());
        }
    }
    out
}

#[test]
fn every_agent_trains_saves_and_resumes_bit_for_bit() {
    let (options, optimizers) = (options(), optimizers());
    for kind in AGENTS {
        let mut agent = build(kind, &options, &optimizers);
        let mut obs = vec![0.2, -0.4, 0.6];
        let stats = drive(agent.as_mut(), &mut obs, 40);
        assert!(!stats.is_empty(), "{}", kind.name);
        assert_eq!(agent.networks(), kind.networks, "{}", kind.name);
        for s in &stats {
            for network in Network::ALL {
                assert_eq!(
                    s.estimate(network).is_some(),
                    kind.networks.contains(&network),
                    "{}: {network:?}",
                    kind.name
                );
            }
        }
        let dir =
            std::env::temp_dir().join(format!("registry-{}-{}", kind.name, std::process::id()));
        agent.save(&dir, true).unwrap();
        let spec = AgentSpec {
            obs_dim: 3,
            low: &[-1.0, -2.0],
            high: &[1.0, 2.0],
            optimizers: &optimizers,
            seed: 9,
            device: &Device::default(),
            options: &options,
        };
        let mut restored =
            (kind.load)(&dir, &spec).unwrap_or_else(|e| panic!("{}: {e}", kind.name));
        let mut obs2 = obs.clone();
        assert_eq!(
            drive(agent.as_mut(), &mut obs, 20),
            drive(restored.as_mut(), &mut obs2, 20),
            "{}: the restored agent went another way",
            kind.name
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn names_are_unique_and_the_first_is_sac() {
    assert_eq!(AGENTS[0].name, "sac");
    for (i, a) in AGENTS.iter().enumerate() {
        assert!(
            AGENTS[i + 1..].iter().all(|b| b.name != a.name),
            "{} twice",
            a.name
        );
        assert_eq!(
            lrfree_agents::agent(&a.name.to_uppercase()).unwrap().name,
            a.name
        );
    }
}
