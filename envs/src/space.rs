//! Continuous boxes: the only space kind SAC needs. Bounds are per element and may be infinite.

use crate::EnvError;

/// What to do with an action element outside the action space's bounds.
///
/// Wrong lengths and non-finite values are always errors; only finite out-of-bounds values are
/// subject to the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ActionPolicy {
    /// Clip into `[low, high]` (what Gymnasium's Pendulum and MountainCar do themselves, and what a
    /// tanh-squashed policy with rounding noise wants). The default.
    #[default]
    Clip,
    /// Return [`EnvError::ActionOutOfBounds`].
    Reject,
}

/// A box `low <= x <= high` of the given shape, flattened row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxSpace {
    shape: Vec<usize>,
    low: Vec<f32>,
    high: Vec<f32>,
}

impl BoxSpace {
    /// A box with per-element bounds. Panics never: mismatched lengths give `None`.
    pub fn new(shape: Vec<usize>, low: Vec<f32>, high: Vec<f32>) -> Option<Self> {
        let n: usize = shape.iter().product();
        let ordered = low
            .iter()
            .zip(&high)
            .all(|(l, h)| !l.is_nan() && !h.is_nan() && l <= h);
        (low.len() == n && high.len() == n && ordered).then_some(Self { shape, low, high })
    }

    /// A flat box with the same bounds for every element.
    pub fn uniform(dim: usize, low: f32, high: f32) -> Option<Self> {
        Self::new(vec![dim], vec![low; dim], vec![high; dim])
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements (product of the shape).
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    pub fn low(&self) -> &[f32] {
        &self.low
    }

    pub fn high(&self) -> &[f32] {
        &self.high
    }

    /// Whether every element lies within the bounds (NaN never does).
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (l, h))| v >= l && v <= h)
    }

    /// Validates an action under `policy`, returning the action to apply (clipped if needed).
    ///
    /// `env` names the environment in error messages.
    pub fn check_action(
        &self,
        env: &str,
        action: &[f32],
        policy: ActionPolicy,
    ) -> Result<Vec<f32>, EnvError> {
        if action.len() != self.dim() {
            return Err(EnvError::ActionLength {
                env: env.to_owned(),
                expected: self.dim(),
                got: action.len(),
            });
        }
        let mut out = Vec::with_capacity(action.len());
        for (index, ((&value, &low), &high)) in
            action.iter().zip(&self.low).zip(&self.high).enumerate()
        {
            if !value.is_finite() {
                return Err(EnvError::NonFiniteAction {
                    env: env.to_owned(),
                    index,
                    value,
                });
            }
            if value < low || value > high {
                if policy == ActionPolicy::Reject {
                    return Err(EnvError::ActionOutOfBounds {
                        env: env.to_owned(),
                        index,
                        value,
                        low,
                        high,
                    });
                }
                out.push(value.clamp(low, high));
            } else {
                out.push(value);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> BoxSpace {
        BoxSpace::new(vec![2], vec![-1.0, 0.0], vec![1.0, f32::INFINITY]).unwrap()
    }

    #[test]
    fn new_rejects_inconsistent_bounds() {
        assert!(BoxSpace::new(vec![2], vec![0.0], vec![1.0, 1.0]).is_none());
        assert!(BoxSpace::new(vec![1], vec![2.0], vec![1.0]).is_none());
        assert!(BoxSpace::new(vec![1], vec![f32::NAN], vec![1.0]).is_none());
        assert_eq!(
            BoxSpace::new(vec![2, 3], vec![0.0; 6], vec![1.0; 6])
                .unwrap()
                .dim(),
            6
        );
    }

    #[test]
    fn clip_policy_clips_only_out_of_bounds_elements() {
        let a = space()
            .check_action("t", &[1.5, 3.0], ActionPolicy::Clip)
            .unwrap();
        assert_eq!(a, vec![1.0, 3.0]);
        let a = space()
            .check_action("t", &[-7.0, -0.5], ActionPolicy::Clip)
            .unwrap();
        assert_eq!(a, vec![-1.0, 0.0]);
    }

    #[test]
    fn reject_policy_names_the_offending_element() {
        let e = space()
            .check_action("t", &[0.5, -0.5], ActionPolicy::Reject)
            .unwrap_err();
        assert!(
            matches!(e, EnvError::ActionOutOfBounds { index: 1, .. }),
            "{e}"
        );
        assert!(
            space()
                .check_action("t", &[1.0, 0.0], ActionPolicy::Reject)
                .is_ok()
        );
    }

    #[test]
    fn length_and_nan_are_errors_under_any_policy() {
        for p in [ActionPolicy::Clip, ActionPolicy::Reject] {
            let e = space().check_action("t", &[0.0], p).unwrap_err();
            assert!(
                matches!(
                    e,
                    EnvError::ActionLength {
                        expected: 2,
                        got: 1,
                        ..
                    }
                ),
                "{e}"
            );
            let e = space().check_action("t", &[0.0, f32::NAN], p).unwrap_err();
            assert!(
                matches!(e, EnvError::NonFiniteAction { index: 1, .. }),
                "{e}"
            );
        }
    }

    #[test]
    fn contains_checks_length_and_bounds() {
        assert!(space().contains(&[1.0, 1e30]));
        assert!(!space().contains(&[1.0]));
        assert!(!space().contains(&[f32::NAN, 0.0]));
    }
}
