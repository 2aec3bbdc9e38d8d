//! Success and divergence of an `rl-train` seed.
//!
//! - A seed **diverges** when a loss, the temperature or any optimizer's learning-rate
//!   estimate (or its D) becomes non-finite, when an estimate exceeds its bound, or when an
//!   optimizer refuses a step (a non-finite gradient, i.e. non-finite parameters or targets):
//!   the rule of [`lrfree_runkit::divergence`], which `sl-train` applies too, to SAC's three
//!   parts. A diverged seed stops cleanly where it diverged; the others go on.
//! - The bound depends on what the estimate means. An Adam-equivalent rate (Adam, D-Adapt Adam,
//!   Prodigy, PS-SPS, PS-DA-SGD) moves every weight by about `lr` per step whatever the
//!   gradient, so `adam_lr_divergence_bound` (default 1: a step the size of the initial
//!   weights, at most 1/√fan_in) marks a rate no network survives; Fig. 1a's diverging Prodigy
//!   rates cross it. The others' rates multiply raw gradients, whose scale depends on the loss,
//!   so only a loose `lr_divergence_bound` (1000) applies to them, besides non-finite values.
//! - A seed **succeeds** when it did not diverge and its final evaluation return reaches the
//!   environment's `success_threshold`.

use lrfree_agents::{Network, UpdateStats};
use lrfree_runkit::divergence::{estimate, non_finite};

/// The bound on each part's learning-rate estimate: `lr_divergence_bound` or
/// `adam_lr_divergence_bound`, by the units of that part's optimizer
/// (`burn_lrfree::registry::adam_equivalent_lr`; `RunConfig::lr_bounds`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrBounds {
    /// For the critics' optimizer.
    pub critic: f64,
    /// For the actor's optimizer.
    pub actor: f64,
    /// For the temperature's optimizer.
    pub temperature: f64,
}

impl LrBounds {
    /// The bound of `network`'s optimizer.
    pub fn of(&self, network: Network) -> f64 {
        match network {
            Network::Critic => self.critic,
            Network::Actor => self.actor,
            Network::Temperature => self.temperature,
        }
    }
}

/// Why the update `stats` mean divergence, if they do.
pub fn divergence(stats: &UpdateStats, bounds: &LrBounds) -> Option<String> {
    let temperature = stats.temperature.as_ref();
    [
        ("critic loss", Some(stats.critic_loss)),
        ("actor loss", Some(stats.actor_loss)),
        ("temperature loss", temperature.map(|t| t.loss)),
        ("temperature", temperature.map(|t| t.value)),
    ]
    .into_iter()
    .find_map(|(name, value)| non_finite(name, value?))
    .or_else(|| {
        Network::ALL.into_iter().find_map(|network| {
            let est = stats.estimate(network)?;
            estimate(network.name(), est.lr, est.d_next, bounds.of(network))
        })
    })
}

/// Why a policy action means divergence, if it does: a non-finite component (the policy's
/// weights are no longer finite).
pub fn action_divergence(action: &[f32]) -> Option<String> {
    let (i, a) = action.iter().enumerate().find(|(_, a)| !a.is_finite())?;
    Some(format!("the policy's action[{i}] became {a}"))
}

/// Whether a seed succeeded.
pub fn success(final_eval_return: Option<f64>, diverged: bool, threshold: f64) -> bool {
    !diverged && final_eval_return.is_some_and(|r| r >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_lrfree::Estimate;

    fn stats() -> UpdateStats {
        UpdateStats {
            critic_loss: 1.0,
            actor_loss: -3.0,
            critic: Estimate {
                lr: Some(0.5),
                d: Some(1e-3),
                d_next: Some(1e-3),
                ..Estimate::default()
            },
            actor: Estimate {
                lr: Some(0.1),
                ..Estimate::default()
            },
            temperature: Some(lrfree_agents::TemperatureUpdate {
                loss: 0.1,
                value: 0.2,
                estimate: Estimate::default(),
            }),
        }
    }

    fn bounds(bound: f64) -> LrBounds {
        LrBounds {
            critic: bound,
            actor: bound,
            temperature: bound,
        }
    }

    #[test]
    fn healthy_updates_do_not_diverge() {
        assert_eq!(divergence(&stats(), &bounds(1e3)), None);
        // An agent without a temperature (TD3) has nothing there to diverge.
        let mut s = stats();
        s.temperature = None;
        assert_eq!(divergence(&s, &bounds(1e3)), None);
    }

    #[test]
    fn non_finite_losses_and_estimates_diverge() {
        let mut s = stats();
        s.critic_loss = f64::NAN;
        assert!(
            divergence(&s, &bounds(1e3))
                .unwrap()
                .contains("critic loss")
        );
        let mut s = stats();
        s.temperature.as_mut().unwrap().value = f64::INFINITY;
        assert!(
            divergence(&s, &bounds(1e3))
                .unwrap()
                .starts_with("temperature")
        );
        let mut s = stats();
        s.actor.lr = Some(f64::INFINITY);
        assert!(
            divergence(&s, &bounds(1e3))
                .unwrap()
                .contains("actor lr estimate")
        );
        let mut s = stats();
        s.critic.d_next = Some(f64::INFINITY);
        assert!(divergence(&s, &bounds(1e3)).unwrap().contains("critic D"));
    }

    #[test]
    fn an_estimate_above_the_bound_diverges() {
        let mut s = stats();
        s.critic.lr = Some(2e3);
        assert!(
            divergence(&s, &bounds(1e3))
                .unwrap()
                .contains("exceeds the bound")
        );
        assert_eq!(divergence(&s, &bounds(1e4)), None);
        // Each part is held to its own bound.
        let per_part = LrBounds {
            critic: 1e4,
            actor: 1.0,
            temperature: 1.0,
        };
        assert_eq!(divergence(&s, &per_part), None);
        s.actor.lr = Some(1.5);
        assert!(
            divergence(&s, &per_part)
                .unwrap()
                .contains("actor lr estimate")
        );
    }

    #[test]
    fn a_non_finite_action_diverges() {
        assert_eq!(action_divergence(&[0.5, -1.0]), None);
        assert_eq!(
            action_divergence(&[0.5, f32::NAN]).unwrap(),
            "the policy's action[1] became NaN"
        );
        assert!(
            action_divergence(&[f32::NEG_INFINITY])
                .unwrap()
                .contains("action[0] became -inf")
        );
    }

    #[test]
    fn success_needs_the_threshold_and_no_divergence() {
        assert!(success(Some(-200.0), false, -250.0));
        assert!(!success(Some(-300.0), false, -250.0));
        assert!(!success(Some(-200.0), true, -250.0));
        assert!(!success(None, false, -250.0));
    }
}
