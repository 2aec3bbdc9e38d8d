//! # COCOB-Backprop (`cocob`)
//!
//! Coin betting per coordinate, with no learning rate at all: each coordinate bets a fraction
//! of its accumulated "reward" on the sign of the negative gradient sum,
//! `w = w_0 - G / (L·max(A + L, α·L)) · (R + L)`, where `G` is the gradient sum, `A` the sum of
//! absolute gradients, `L` the largest absolute gradient seen and `R` the reward.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `alpha` | 100 | bounds the fraction bet early on (α·L) |
//! | `eps` | 1e-8 | initial `L` |
//! | `weight_decay` | 0 | L2 penalty added to the gradient |
//!
//! There is no scalar learning rate: the estimate's `lr` is `None`, and the `lr` argument of
//! the step is ignored.
//!
//! Reference: F. Orabona, T. Tommasi, "Training Deep Networks without Learning Rates Through
//! Coin Betting", NeurIPS 2017; package `parameterfree` 0.0.1 (`COCOB`).

use burn::tensor::{DType, Device, Tensor, TensorData};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::api::{Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::Check;
use crate::error::Result;
use crate::fused::{self, Real};
use crate::method::{LrFreeConfig, builder};
use crate::state::OptimState;

const NAME: &str = "cocob";

/// Options of [`Cocob`]; defaults are `parameterfree.COCOB`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CocobConfig {
    /// Early-bet bound.
    pub alpha: f64,
    /// Initial largest absolute gradient.
    pub eps: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for CocobConfig {
    fn default() -> Self {
        Self {
            alpha: 100.0,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl LrFreeConfig for CocobConfig {
    type Optimizer = Cocob;
    const NAME: &'static str = NAME;
    const PER_TENSOR: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<Cocob> {
        Check::new(NAME)
            .positive("alpha", self.alpha)?
            .positive("eps", self.eps)?
            .non_negative("weight_decay", self.weight_decay)?;
        Ok(Cocob {
            config: self.clone(),
            layout: None,
            state: None,
            steps: 0,
        })
    }
}

builder!(CocobConfig {
    with_alpha => alpha: f64,
    with_eps => eps: f64,
    with_weight_decay => weight_decay: f64,
});

/// Per-coordinate accumulators.
#[derive(Debug, Clone)]
struct Bets {
    grad_sum: Tensor<1>,
    abs_sum: Tensor<1>,
    max_abs: Tensor<1>,
    reward: Tensor<1>,
    offset: Tensor<1>,
}

/// COCOB-Backprop; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Cocob {
    config: CocobConfig,
    layout: Option<Layout>,
    state: Option<Bets>,
    steps: u64,
}

impl LrEstimate for Cocob {
    fn estimate(&self) -> Estimate {
        Estimate {
            steps: self.steps,
            ..Estimate::default()
        }
    }
}

impl Cocob {
    /// The step as one pass over host buffers (CPU backend): the tensor path's arithmetic op
    /// for op, so both give the same bits (`tests/fused.rs`).
    fn step_fused(&mut self, step: FlatStep<'_>) -> Tensor<1> {
        let device = step.params.device();
        let mut p = fused::host(step.params);
        let mut g = fused::host(step.grads);
        let mut bets = match self.state.take() {
            Some(b) => [b.grad_sum, b.abs_sum, b.max_abs, b.reward, b.offset].map(fused::host),
            None => {
                let eps = match p.dtype() {
                    DType::F64 => {
                        TensorData::new(vec![self.config.eps; p.num_elements()], [p.num_elements()])
                    }
                    _ => TensorData::new(
                        vec![self.config.eps as f32; p.num_elements()],
                        [p.num_elements()],
                    ),
                };
                let zeros = || fused::zeros_like(&p);
                [zeros(), zeros(), eps, zeros(), zeros()]
            }
        };
        if p.dtype() == DType::F64 {
            cocob_kernel::<f64>(&self.config, &mut p, &mut g, &mut bets);
        } else {
            cocob_kernel::<f32>(&self.config, &mut p, &mut g, &mut bets);
        }
        let [grad_sum, abs_sum, max_abs, reward, offset] = bets.map(|d| fused::tensor(d, &device));
        self.state = Some(Bets {
            grad_sum,
            abs_sum,
            max_abs,
            reward,
            offset,
        });
        self.steps += 1;
        fused::tensor(p, &device)
    }
}

/// Weight decay, then [`cocob_loop`], on `[grad_sum, abs_sum, max_abs, reward, offset]`.
fn cocob_kernel<T: Real>(
    c: &CocobConfig,
    p: &mut TensorData,
    g: &mut TensorData,
    bets: &mut [TensorData; 5],
) {
    let (p, g) = (fused::slice_mut::<T>(p), fused::slice_mut::<T>(g));
    if c.weight_decay > 0.0 {
        fused::add_decay(g, p, T::of(c.weight_decay));
    }
    let [gs, abs, max, reward, offset] = bets;
    cocob_loop(
        T::of(c.alpha),
        p,
        g,
        fused::slice_mut::<T>(gs),
        fused::slice_mut::<T>(abs),
        fused::slice_mut::<T>(max),
        fused::slice_mut::<T>(reward),
        fused::slice_mut::<T>(offset),
    );
}

/// `a` if it is the larger (or equal), else `b`: `max_pair`/`clamp_min` for the finite values
/// a step admits.
#[inline(always)]
fn larger<T: Real>(a: T, b: T) -> T {
    if a >= b { a } else { b }
}

/// One branch-free pass of the tensor path, op for op (AVX2 where the CPU has it).
#[multiversion(targets("x86_64+avx2"))]
#[allow(clippy::too_many_arguments)]
fn cocob_loop<T: Real>(
    alpha: T,
    p: &mut [T],
    g: &[T],
    grad_sum: &mut [T],
    abs_sum: &mut [T],
    max_abs: &mut [T],
    reward: &mut [T],
    offset: &mut [T],
) {
    let (zero, minus_one) = (T::of(0.0), T::of(-1.0));
    for ((((((p, g), gs), a_s), ma), r), o) in p
        .iter_mut()
        .zip(g)
        .zip(grad_sum.iter_mut())
        .zip(abs_sum.iter_mut())
        .zip(max_abs.iter_mut())
        .zip(reward.iter_mut())
        .zip(offset.iter_mut())
    {
        let abs = g.abs();
        *ma = larger(*ma, abs);
        *gs = *gs + *g;
        *a_s = *a_s + abs;
        *r = larger(*r - *g * *o, zero);
        let cap = larger(*a_s + *ma, *ma * alpha);
        // −gs as `neg()` gives it (−1·x is exact, and keeps −0.0 where 0 − x would not).
        let new = (minus_one * *gs) / (*ma * cap) * (*r + *ma);
        *p = *p + (new - *o);
        *o = new;
    }
}

impl LrFreeOptimizer for Cocob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        let c = &self.config;
        let state_fits = {
            let like = fused::state_like(&step.params);
            self.state.as_ref().is_none_or(|b| {
                [&b.grad_sum, &b.abs_sum, &b.max_abs, &b.reward, &b.offset]
                    .into_iter()
                    .all(|t| like(Some(t)))
            })
        };
        if fused::fused_cpu_applies(&step.params) && state_fits {
            return Ok(self.step_fused(step));
        }
        let mut g = step.grads;
        if c.weight_decay > 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let b = self.state.take().unwrap_or_else(|| Bets {
            grad_sum: g.zeros_like(),
            abs_sum: g.zeros_like(),
            max_abs: g.full_like(c.eps),
            reward: g.zeros_like(),
            offset: g.zeros_like(),
        });
        let abs = g.clone().abs();
        let max_abs = b.max_abs.max_pair(abs.clone());
        let grad_sum = b.grad_sum + g.clone();
        let abs_sum = b.abs_sum + abs;
        let reward = (b.reward - g.mul(b.offset.clone())).clamp_min(0.0);
        let cap = (abs_sum.clone() + max_abs.clone()).max_pair(max_abs.clone().mul_scalar(c.alpha));
        let offset = grad_sum
            .clone()
            .neg()
            .div(max_abs.clone().mul(cap))
            .mul(reward.clone() + max_abs.clone());
        let x = step.params + (offset.clone() - b.offset);
        self.state = Some(Bets {
            grad_sum,
            abs_sum,
            max_abs,
            reward,
            offset,
        });
        self.steps += 1;
        Ok(x)
    }

    fn save_state(&self) -> OptimState {
        let b = self.state.as_ref();
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.steps as f64)
        .with_tensor("grad_sum", b.map(|b| &b.grad_sum))
        .with_tensor("abs_sum", b.map(|b| &b.abs_sum))
        .with_tensor("max_abs", b.map(|b| &b.max_abs))
        .with_tensor("reward", b.map(|b| &b.reward))
        .with_tensor("offset", b.map(|b| &b.offset))
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let steps = state.scalar("steps")?;
        let get = |name| state.tensor(name, device);
        let bets = match (
            get("grad_sum")?,
            get("abs_sum")?,
            get("max_abs")?,
            get("reward")?,
            get("offset")?,
        ) {
            (Some(grad_sum), Some(abs_sum), Some(max_abs), Some(reward), Some(offset)) => {
                Some(Bets {
                    grad_sum,
                    abs_sum,
                    max_abs,
                    reward,
                    offset,
                })
            }
            _ => None,
        };
        self.layout = state.layout;
        self.state = bets;
        self.steps = steps as u64;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(fresh) = self.config.build() {
            *self = fresh; // the config was validated when this optimizer was built
        }
    }
}
