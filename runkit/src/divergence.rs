//! When training diverged: the one rule of both runners, over plain numbers.
//!
//! A run **diverges** when a value that must stay finite (a loss, SAC's temperature) does not,
//! or an optimizer's estimate does not: its learning rate or its distance D becomes non-finite,
//! or the learning rate exceeds its bound. The bound depends on what the estimate means and is
//! the runner's to choose (`rl-train`: `src/outcome.rs`; `sl-train`: `lr_divergence_bound`).
//! An optimizer refusing a step (a non-finite gradient) is divergence too; the runners see
//! that as the step's error.

/// Why `value`, which must stay finite, means divergence: `critic loss became NaN`.
pub fn non_finite(name: &str, value: f64) -> Option<String> {
    (!value.is_finite()).then(|| format!("{name} became {value}"))
}

/// Why the estimate of the optimizer of `part` means divergence: its learning rate `lr` or
/// its D after the step (`d_next`) non-finite, or `lr` above `bound`. `None` values (a method
/// without that quantity, or before its first step) never diverge.
pub fn estimate(part: &str, lr: Option<f64>, d_next: Option<f64>, bound: f64) -> Option<String> {
    match lr {
        Some(v) if !v.is_finite() => return Some(format!("{part} lr estimate became {v}")),
        Some(v) if v > bound => {
            return Some(format!(
                "{part} lr estimate {v:.3e} exceeds the bound {bound:e}"
            ));
        }
        _ => {}
    }
    match d_next {
        Some(v) if !v.is_finite() => Some(format!("{part} D became {v}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_values_and_estimates_within_the_bound_do_not_diverge() {
        assert_eq!(non_finite("critic loss", -3.0), None);
        assert_eq!(estimate("critic", Some(0.5), Some(1e-3), 1e3), None);
        assert_eq!(estimate("actor", None, None, 1.0), None);
    }

    #[test]
    fn non_finite_values_diverge_and_say_which() {
        assert_eq!(
            non_finite("training loss", f64::NAN).unwrap(),
            "training loss became NaN"
        );
        assert_eq!(
            estimate("critic", Some(f64::INFINITY), None, 1e3).unwrap(),
            "critic lr estimate became inf"
        );
        // A finite rate with a D that overflowed: the D diverged, whatever the rate says.
        assert_eq!(
            estimate("network", Some(0.1), Some(f64::INFINITY), 1e3).unwrap(),
            "network D became inf"
        );
    }

    #[test]
    fn an_estimate_above_its_bound_diverges() {
        assert_eq!(
            estimate("actor", Some(1.5), None, 1.0).unwrap(),
            "actor lr estimate 1.500e0 exceeds the bound 1e0"
        );
        assert_eq!(estimate("actor", Some(1.5), None, 2.0), None);
    }
}
