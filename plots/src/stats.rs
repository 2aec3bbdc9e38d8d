//! Robust aggregates of seeds' scores with their uncertainty, after Agarwal et al. 2021,
//! "Deep Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS), and its
//! `rliable` library:
//!
//! - [`iqm`], the interquartile mean: the mean of the middle half of the scores. It is
//!   rliable's `aggregate_iqm`, `scipy.stats.trim_mean(scores, proportiontocut=0.25)`: sort,
//!   cut `floor(n / 4)` scores from each end, average the rest. Less swayed by one outlying
//!   seed than the mean, less coarse than the median; with n < 4 nothing is cut (IQM = mean).
//! - [`stratified_bootstrap_ci`], a percentile-bootstrap confidence interval as rliable's
//!   `get_interval_estimates` computes it (`StratifiedBootstrap`, `method="percentile"`):
//!   each resample draws, within each stratum (task), as many runs as it has, with
//!   replacement; the statistic of each resample makes the bootstrap distribution, whose
//!   `(1 − level) / 2` and `(1 + level) / 2` percentiles ([`percentile`], NumPy's default
//!   linear interpolation) are the interval.
//!
//! The RNG is ChaCha8 from a fixed seed ([`BOOTSTRAP_SEED`]), so the same scores give the
//! same interval on every call and every machine. Non-finite scores are left out everywhere.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bootstrap resamples: rliable's default (`reps=50000`). A cell of a handful of seeds takes
/// a few milliseconds.
pub const BOOTSTRAP_RESAMPLES: usize = 50_000;
/// The confidence level of the intervals (rliable's `confidence_interval_size`).
pub const CI_LEVEL: f64 = 0.95;
/// The seed of the bootstrap's RNG, fixed so that reports are reproducible.
pub const BOOTSTRAP_SEED: u64 = 2021;

/// A confidence interval, `low <= high`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The finite values of `values`, in their order.
pub fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// The interquartile mean of the finite values of `values` (see the module doc); `None` when
/// there is none.
pub fn iqm(values: &[f64]) -> Option<f64> {
    let mut v = finite(values);
    (!v.is_empty()).then(|| iqm_in_place(&mut v))
}

/// The interquartile mean of `values` (finite, not empty), sorting them in place.
fn iqm_in_place(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let cut = values.len() / 4;
    let kept = &values[cut..values.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The `p`-quantile (`p` in `[0, 1]`, the percentile `100·p`) of `sorted` (ascending, not
/// empty), interpolated linearly between the two nearest order statistics: NumPy's
/// `np.percentile(x, 100 * p)` (`method="linear"`), down to its rounding. `None` for no
/// values or `p` outside `[0, 1]`.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let index = p * (sorted.len() - 1) as f64;
    let below = (index.floor() as usize).min(sorted.len() - 1);
    let above = (below + 1).min(sorted.len() - 1);
    let (a, b, t) = (sorted[below], sorted[above], index - below as f64);
    // NumPy's `_lerp`: from the nearer end, so that t = 1 gives b exactly.
    Some(if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    })
}

/// The `level` percentile-bootstrap confidence interval of `statistic` over `strata` (see the
/// module doc): `resamples` resamples, each drawing within every stratum as many of its
/// values as it has, with replacement, from an RNG seeded with `seed`. `statistic` gets each
/// resample's values (all strata together, finite, not empty) and may reorder them.
///
/// Non-finite values are left out first. `None` when no stratum has two values (the
/// resamples could not differ), `resamples` is 0 or `level` is not in `(0, 1)`.
pub fn stratified_bootstrap_ci(
    strata: &[&[f64]],
    statistic: impl Fn(&mut [f64]) -> f64,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<Interval> {
    let strata: Vec<Vec<f64>> = strata.iter().map(|s| finite(s)).collect();
    if resamples == 0 || !(level > 0.0 && level < 1.0) || strata.iter().all(|s| s.len() < 2) {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut resample = Vec::with_capacity(strata.iter().map(Vec::len).sum());
    let mut distribution: Vec<f64> = (0..resamples)
        .map(|_| {
            resample.clear();
            for stratum in &strata {
                resample
                    .extend((0..stratum.len()).map(|_| stratum[rng.random_range(..stratum.len())]));
            }
            statistic(&mut resample)
        })
        .collect();
    distribution.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(Interval {
        low: percentile(&distribution, tail)?,
        high: percentile(&distribution, 1.0 - tail)?,
    })
}

/// The [`CI_LEVEL`] confidence interval of the [`iqm`] of one stratum's `values` (a report
/// cell: one environment's seeds), by [`stratified_bootstrap_ci`] with
/// [`BOOTSTRAP_RESAMPLES`] resamples from [`BOOTSTRAP_SEED`]; `None` with fewer than two
/// finite values.
pub fn iqm_ci(values: &[f64]) -> Option<Interval> {
    stratified_bootstrap_ci(
        &[values],
        iqm_in_place,
        BOOTSTRAP_RESAMPLES,
        CI_LEVEL,
        BOOTSTRAP_SEED,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn iqm_cuts_a_quarter_from_each_end_as_scipy_trim_mean() {
        // n = 5: floor(1.25) = 1 cut from each end, the mean of 2, 3, 4.
        assert_eq!(iqm(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some(3.0));
        assert_eq!(
            iqm(&[100.0, 4.0, 1.0, 3.0, 2.0]),
            Some(3.0),
            "order does not matter"
        );
        // n = 3: nothing cut, the mean.
        assert_eq!(iqm(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(iqm(&[-1200.0, -300.0]), Some(-750.0));
        assert_eq!(iqm(&[7.0]), Some(7.0));
        // n = 8: two from each end, the mean of 3..=6.
        assert_eq!(iqm(&[8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]), Some(4.5));
        // n = 4: one from each end.
        assert_eq!(iqm(&[0.0, 10.0, 20.0, 1000.0]), Some(15.0));
        // Non-finite values are left out: [1, 2, 3] remain.
        assert_eq!(iqm(&[1.0, f64::NAN, 2.0, f64::INFINITY, 3.0]), Some(2.0));
        assert_eq!(iqm(&[]), None);
        assert_eq!(iqm(&[f64::NAN, f64::NEG_INFINITY]), None);
    }

    /// Hand-computed as NumPy's `np.percentile(x, q)`: index `q/100 · (n − 1)`, linear
    /// between its neighbours.
    #[test]
    fn percentile_interpolates_linearly_between_order_statistics() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        for (p, want) in [
            (0.0, 1.0),
            (0.025, 1.1), // index 0.1
            (0.1, 1.4),   // index 0.4
            (0.25, 2.0),  // index 1
            (0.5, 3.0),   // index 2
            (0.625, 3.5), // index 2.5
            (0.975, 4.9), // index 3.9
            (1.0, 5.0),
        ] {
            let got = percentile(&x, p).unwrap();
            assert!(close(got, want), "p = {p}: {got} != {want}");
        }
        // Two values: 19.75 at the 97.5th percentile, 10.25 at the 2.5th.
        assert!(close(percentile(&[10.0, 20.0], 0.975).unwrap(), 19.75));
        assert!(close(percentile(&[10.0, 20.0], 0.025).unwrap(), 10.25));
        assert_eq!(percentile(&[4.0], 0.3), Some(4.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0, 2.0], 1.5), None);
        assert_eq!(percentile(&[1.0, 2.0], f64::NAN), None);
    }

    #[test]
    fn the_iqm_interval_contains_the_iqm_and_is_deterministic() {
        let seeds = [1.0, 2.0, 3.0, 4.0, 100.0];
        let ci = iqm_ci(&seeds).unwrap();
        assert!(ci.low <= 3.0 && 3.0 <= ci.high, "{ci:?}");
        assert!(ci.low >= 1.0 && ci.high <= 100.0, "{ci:?}");
        assert!(ci.low < ci.high, "{ci:?}");
        assert_eq!(iqm_ci(&seeds), Some(ci), "the same interval on every call");
        // Any seed, resample count: the same arguments, the same interval.
        let other = stratified_bootstrap_ci(&[&seeds], iqm_in_place, 2_000, CI_LEVEL, 7).unwrap();
        let again = stratified_bootstrap_ci(&[&seeds], iqm_in_place, 2_000, CI_LEVEL, 7).unwrap();
        assert_eq!(other, again);
    }

    #[test]
    fn the_interval_collapses_when_every_seed_is_equal() {
        let ci = iqm_ci(&[0.1, 0.1, 0.1]).unwrap();
        let iqm = iqm(&[0.1, 0.1, 0.1]).unwrap();
        assert_eq!((ci.low, ci.high), (iqm, iqm));
    }

    /// Two seeds a and b: a resample is (a, a), (a, b), (b, a) or (b, b), each with
    /// probability 1/4, so its IQM (its mean) is a with probability 1/4: the 2.5th and 97.5th
    /// percentiles of 50 000 such are a and b.
    #[test]
    fn two_seeds_span_the_interval_from_one_to_the_other() {
        assert_eq!(
            iqm_ci(&[10.0, 0.0]),
            Some(Interval {
                low: 0.0,
                high: 10.0
            })
        );
    }

    #[test]
    fn no_interval_without_two_finite_values_or_with_bad_settings() {
        assert_eq!(iqm_ci(&[]), None);
        assert_eq!(iqm_ci(&[3.0]), None);
        assert_eq!(iqm_ci(&[3.0, f64::NAN, f64::INFINITY]), None);
        let two: &[f64] = &[1.0, 2.0];
        assert_eq!(
            stratified_bootstrap_ci(&[two], iqm_in_place, 0, 0.95, 1),
            None
        );
        assert_eq!(
            stratified_bootstrap_ci(&[two], iqm_in_place, 10, 1.0, 1),
            None
        );
        assert_eq!(
            stratified_bootstrap_ci(&[two], iqm_in_place, 10, f64::NAN, 1),
            None
        );
        assert_eq!(
            stratified_bootstrap_ci(&[], iqm_in_place, 10, 0.95, 1),
            None
        );
    }

    /// Resampling is within each stratum: a stratum of one value is in every resample once,
    /// so the interval of the mean of {0} and {10, 10} is the point 20/3.
    #[test]
    fn resampling_stays_within_each_stratum() {
        let mean = |v: &mut [f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (one, two): (&[f64], &[f64]) = (&[0.0], &[10.0, 10.0]);
        let ci = stratified_bootstrap_ci(&[one, two], mean, 1_000, 0.95, 3).unwrap();
        assert_eq!((ci.low, ci.high), (20.0 / 3.0, 20.0 / 3.0));
    }
}
