//! Turning seed records into the curves drawn: per-seed series, their mean over seeds with a
//! band, a trailing moving average for the noisy episode returns, learning-rate points.

use lrfree_runkit::records::mean_std;
use lrfree_runkit::records::rl::{Event, Net};

use super::read::SeedRecord;

/// What the shaded band around a mean shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Band {
    /// The smallest and largest seed.
    #[default]
    MinMax,
    /// The mean ± one (population) standard deviation over seeds.
    Std,
}

impl Band {
    /// The legend's wording.
    pub fn describe(self) -> &'static str {
        match self {
            Band::MinMax => "shaded: min–max over seeds",
            Band::Std => "shaded: mean ± 1 std over seeds",
        }
    }
}

/// A curve: `(environment steps, value)` in step order.
pub type Curve = Vec<(u64, f64)>;

/// One point of an aggregated curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Environment steps.
    pub step: u64,
    /// Mean over the seeds that have a value here.
    pub mean: f64,
    /// Band bottom.
    pub lo: f64,
    /// Band top.
    pub hi: f64,
    /// How many seeds contributed.
    pub n: usize,
}

/// A seed's evaluation returns: `(step, eval_mean)` with finite values.
pub fn eval_curve(seed: &SeedRecord) -> Vec<(u64, f64)> {
    seed.rows
        .iter()
        .filter(|r| r.event == Event::Eval)
        .filter_map(|r| {
            r.get("eval_mean")
                .filter(|v| v.is_finite())
                .map(|v| (r.step, v))
        })
        .collect()
}

/// A seed's training-episode returns, each replaced by the mean of the last `window` episodes
/// (fewer at the start), so the curve starts at the first episode instead of after `window`.
pub fn episode_curve(seed: &SeedRecord, window: usize) -> Vec<(u64, f64)> {
    let raw: Vec<(u64, f64)> = seed
        .rows
        .iter()
        .filter(|r| r.event == Event::Episode)
        .filter_map(|r| {
            r.get("episode_return")
                .filter(|v| v.is_finite())
                .map(|v| (r.step, v))
        })
        .collect();
    let values: Vec<f64> = raw.iter().map(|p| p.1).collect();
    raw.iter()
        .zip(smooth(&values, window))
        .map(|(p, v)| (p.0, v))
        .collect()
}

/// Trailing moving average over `window` values (a window of 0 or 1 leaves them as they are).
pub fn smooth(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

/// A seed's learning-rate estimates for `net` that can go on a log axis (finite, positive).
pub fn lr_curve(seed: &SeedRecord, net: Net) -> Vec<(u64, f64)> {
    seed.rows
        .iter()
        .filter(|r| r.event == Event::Update)
        .filter_map(|r| {
            r.lr(net)
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| (r.step, v))
        })
        .collect()
}

/// Mean and band over seeds of curves recorded at the same steps (evaluations): at each step
/// any seed has, the seeds that have it. A seed that stopped early leaves the later points to
/// the others (`n` says how many).
pub fn aggregate_at_steps(curves: &[Vec<(u64, f64)>], band: Band) -> Vec<Stat> {
    let mut steps: Vec<u64> = curves.iter().flat_map(|c| c.iter().map(|p| p.0)).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
        .into_iter()
        .filter_map(|step| {
            let values: Vec<f64> = curves
                .iter()
                .filter_map(|c| c.iter().find(|p| p.0 == step).map(|p| p.1))
                .collect();
            stat(step, &values, band)
        })
        .collect()
}

/// Mean and band over seeds of curves recorded at different steps (episode ends): each seed
/// linearly interpolated at `points` evenly spaced steps, within its own first and last step.
pub fn aggregate_on_grid(curves: &[Vec<(u64, f64)>], band: Band, points: usize) -> Vec<Stat> {
    let first = curves.iter().filter_map(|c| c.first().map(|p| p.0)).min();
    let last = curves.iter().filter_map(|c| c.last().map(|p| p.0)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let points = points.max(2) as u64;
    let mut grid: Vec<u64> = (0..points)
        .map(|i| first + (last - first) * i / (points - 1))
        .collect();
    grid.dedup();
    grid.into_iter()
        .filter_map(|step| {
            let values: Vec<f64> = curves.iter().filter_map(|c| interpolate(c, step)).collect();
            stat(step, &values, band)
        })
        .collect()
}

/// The curve's value at `step` (linear between points), `None` outside its steps.
pub fn interpolate(curve: &[(u64, f64)], step: u64) -> Option<f64> {
    let after = curve.iter().position(|p| p.0 >= step)?;
    let (s1, v1) = curve[after];
    if s1 == step {
        return Some(v1);
    }
    let (s0, v0) = *curve.get(after.checked_sub(1)?)?;
    Some(v0 + (v1 - v0) * (step - s0) as f64 / (s1 - s0) as f64)
}

fn stat(step: u64, values: &[f64], band: Band) -> Option<Stat> {
    let (Some(mean), Some(std)) = mean_std(values) else {
        return None;
    };
    let (lo, hi) = match band {
        Band::MinMax => values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            }),
        Band::Std => (mean - std, mean + std),
    };
    Some(Stat {
        step,
        mean,
        lo,
        hi,
        n: values.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_a_trailing_mean() {
        assert_eq!(smooth(&[1.0, 3.0, 5.0, 7.0], 2), vec![1.0, 2.0, 4.0, 6.0]);
        assert_eq!(smooth(&[1.0, 3.0], 0), vec![1.0, 3.0]);
    }

    #[test]
    fn aggregation_uses_the_seeds_present() {
        let a = vec![(0, 1.0), (10, 3.0)];
        let b = vec![(0, 3.0)];
        let s = aggregate_at_steps(&[a, b], Band::MinMax);
        assert_eq!(
            s[0],
            Stat {
                step: 0,
                mean: 2.0,
                lo: 1.0,
                hi: 3.0,
                n: 2
            }
        );
        assert_eq!(
            s[1],
            Stat {
                step: 10,
                mean: 3.0,
                lo: 3.0,
                hi: 3.0,
                n: 1
            }
        );
        let s = aggregate_at_steps(&[vec![(0, 1.0)], vec![(0, 3.0)]], Band::Std);
        assert_eq!((s[0].lo, s[0].hi), (1.0, 3.0));
    }

    #[test]
    fn grid_interpolates_within_each_seed() {
        let a = vec![(0, 0.0), (10, 10.0)];
        let b = vec![(0, 2.0), (5, 2.0)];
        assert_eq!(interpolate(&a, 4), Some(4.0));
        assert_eq!(interpolate(&b, 6), None);
        let s = aggregate_on_grid(&[a, b], Band::MinMax, 3);
        assert_eq!(
            s.iter().map(|s| (s.step, s.mean, s.n)).collect::<Vec<_>>(),
            [(0, 1.0, 2), (5, 3.5, 2), (10, 10.0, 1)]
        );
    }
}
