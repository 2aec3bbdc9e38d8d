//! SAC through burn-rl's traits: `Policy` acts like the agent, `PolicyLearner::train` updates
//! from a given batch and reports refusals instead of failing, and `AgentRecord` (the learner's
//! record) round-trips through bytes exactly.

use burn::rl::{Policy, PolicyLearner, TransitionBatch};
use burn::tensor::{Device, Tensor, TensorData};
use burn_lrfree::registry::OptimizerConfig;
use lrfree_agents::{AgentRecord, Sac, SacConfig, SacOptimizers, UpdateReport};
use lrfree_envs::{Actions, Observations};

fn sac(optimizer: &str) -> Sac {
    let config = SacConfig {
        hidden: vec![16, 16],
        batch_size: 8,
        buffer_size: 100,
        ..SacConfig::default()
    };
    let lr = if optimizer == "adam" { 1e-3 } else { 1.0 };
    let optimizers = SacOptimizers::same(OptimizerConfig::defaults(optimizer).unwrap(), lr);
    Sac::new(
        3,
        &[-2.0],
        &[2.0],
        &config,
        &optimizers,
        11,
        &Device::default(),
    )
    .unwrap()
}

fn tensor(values: Vec<f32>, cols: usize) -> Tensor<2> {
    let rows = values.len() / cols;
    Tensor::from_data(TensorData::new(values, [rows, cols]), &Device::default())
}

fn batch(reward: f32) -> TransitionBatch<Observations, Actions> {
    let n = 8;
    TransitionBatch {
        states: Observations(tensor(
            (0..3 * n).map(|i| (i as f32 * 0.3).sin()).collect(),
            3,
        )),
        next_states: Observations(tensor(
            (0..3 * n).map(|i| (i as f32 * 0.2).cos()).collect(),
            3,
        )),
        actions: Actions(tensor((0..n).map(|i| (i as f32 * 0.7).sin()).collect(), 1)),
        rewards: tensor(vec![reward; n], 1),
        dones: tensor((0..n).map(|i| (i % 4 == 0) as u8 as f32).collect(), 1),
    }
}

fn fill(sac: &mut Sac, steps: usize) {
    let mut obs = vec![0.1, -0.2, 0.3];
    for i in 0..steps {
        let action = sac.random_action();
        let next: Vec<f32> = obs
            .iter()
            .map(|v| (v * 0.9 + action[0] * 0.1).sin())
            .collect();
        sac.observe(&obs, &action, -(action[0] * action[0]), &next, i % 7 == 6);
        obs = next;
    }
}

#[test]
fn the_policy_acts_as_the_agent_does() {
    let mut agent = sac("adam");
    let mut policy = agent.policy();
    let obs = [0.5, -0.1, 0.9];
    assert_eq!(policy.act_one(&obs, true), agent.act(&obs, true));
    // Sampled actions stay in the box; a clone draws the same noise, the original moves on.
    let mut clone = policy.clone();
    let (a, b) = (policy.act_one(&obs, false), clone.act_one(&obs, false));
    assert_eq!(a, b);
    assert_ne!(policy.act_one(&obs, false), a);
    let batch = Observations(tensor(vec![0.0; 3 * 50], 3));
    let (actions, contexts) = policy.action(batch, false);
    assert_eq!(contexts.len(), 50);
    assert!(actions.to_host().iter().all(|a| (-2.0..=2.0).contains(a)));
}

#[test]
fn train_updates_the_policy_it_returns() {
    let mut agent = sac("ps-da-sgd");
    let obs = [0.5, -0.1, 0.9];
    let before = agent.policy().act_one(&obs, true);
    let output = agent.train(batch(-1.0));
    let stats = output.item.stats().expect("an update").clone();
    assert!(stats.critic_loss.is_finite() && stats.critic.lr.is_some());
    assert_eq!(agent.updates(), 1);
    let mut sent = agent.policy();
    let mut stale = sent.clone();
    sent.update(output.policy);
    let after = sent.act_one(&obs, true);
    assert_ne!(after, before);
    assert_eq!(after, agent.act(&obs, true));
    assert_eq!(
        stale.act_one(&obs, true),
        after,
        "policy() is the current actor"
    );
}

#[test]
fn a_refused_step_is_reported_not_raised() {
    let mut agent = sac("adam");
    match agent.train(batch(f32::NAN)).item {
        UpdateReport::Refused(reason) => {
            assert!(reason.to_string().contains("critic"), "{reason}")
        }
        UpdateReport::Done(stats) => panic!("NaN rewards were trained on: {stats:?}"),
    }
}

#[test]
fn the_record_round_trips_through_bytes_exactly() {
    for optimizer in ["adam", "ps-da-sgd"] {
        let mut original = sac(optimizer);
        fill(&mut original, 40);
        for _ in 0..5 {
            original.update().unwrap();
        }
        let bytes = original.record(true).to_bytes();
        let record = AgentRecord::from_bytes(&bytes).unwrap();
        assert_eq!(record, original.record(true));
        let restored = PolicyLearner::load_record(sac(optimizer), record);
        let mut restored = restored;
        for _ in 0..5 {
            assert_eq!(
                original.update().unwrap(),
                restored.update().unwrap(),
                "{optimizer}"
            );
        }
        let obs = [0.2, 0.2, -0.4];
        assert_eq!(original.act(&obs, false), restored.act(&obs, false));
    }
}

#[test]
fn damaged_record_bytes_are_an_error() {
    let bytes = sac("adam").record(false).to_bytes();
    for cut in [0, 7, 20, bytes.len() - 1] {
        let err = AgentRecord::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(
            err.to_string().contains("record") || err.to_string().contains("truncated"),
            "{err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(
        AgentRecord::from_bytes(&longer)
            .unwrap_err()
            .to_string()
            .contains("trailing")
    );
}
