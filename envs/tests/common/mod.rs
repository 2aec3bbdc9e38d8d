//! Helpers shared by the bridge tests: skip (with a printed reason) where the bridge cannot run.
#![allow(dead_code)]

use lrfree_envs::{EnvError, Kwargs, make_env};

/// Whether Gymnasium (and, if `mujoco`, MuJoCo) is usable; prints why not and returns false.
pub fn bridge_available(test: &str, mujoco: bool) -> bool {
    if !cfg!(feature = "gym") {
        eprintln!("SKIP {test}: lrfree-envs built without the `gym` feature");
        return false;
    }
    let id = if mujoco { "Hopper-v5" } else { "Pendulum-v1" };
    match make_env(id, &Kwargs::new()) {
        Ok(_) => true,
        Err(
            e @ (EnvError::PythonUnavailable { .. }
            | EnvError::GymnasiumMissing { .. }
            | EnvError::DependencyMissing { .. }),
        ) => {
            eprintln!("SKIP {test}: {e}");
            false
        }
        Err(e) => panic!("the bridge is installed but `{id}` failed: {e}"),
    }
}

/// A small deterministic generator (SplitMix64), so tests need no RNG dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * u
    }

    /// A uniform action inside the bounds.
    pub fn action(&mut self, low: &[f32], high: &[f32]) -> Vec<f32> {
        low.iter()
            .zip(high)
            .map(|(&l, &h)| self.uniform(l, h))
            .collect()
    }
}

/// |a − b| relative to the larger magnitude, with 1e-6 as the floor near zero.
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-6)
}
