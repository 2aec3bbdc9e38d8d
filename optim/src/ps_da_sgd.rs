//! # PS-DA-SGD, parameter-scaled D-Adapt SGD (`ps-da-sgd`)
//!
//! D-Adapt SGD run on the parameter-scaled network (Suh & Seo, Algorithm 2, as defined in this
//! project's `ps-methods.md`). With `a` from [`Scaling`] and `g' = g / a`, step `k`:
//!
//! ```text
//! k = 0: G = ||g'||                      (a zero gradient skips the step, as D-Adapt SGD)
//! k > 0: transport the state from a_prev to a (see Transport)
//! λ  = d·lr·η_k / G
//! r += λ<g', s>;  s += λ·g'
//! d  = max(d, min(2r/||s||, d·growth_rate))
//! z ← z - λ·g'/a  (= λ·g/a²);   w ← μ·w + (1-μ)·z
//! ```
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `d0` | 1e-6 | initial D |
//! | `momentum` | 0.9 | primal averaging weight μ (the paper's experiments) |
//! | `beta2` | 0.999 | decay of the second moment behind the scaling |
//! | `eps` | 1e-8 | `a = sqrt(sqrt(v̂) + eps)` |
//! | `growth_rate` | inf | D may grow at most by this factor per step |
//! | `d_coef` | 1 | multiplier of the lower bound d̂ before it may raise D (Prodigy's `d_coef`) |
//! | `g_estimate` | `first` | G: `first` (the first scaled gradient's norm) or `running_max` (see [`GEstimate`]) |
//! | `weight_decay` | 0 | L2 penalty added to the gradient (before scaling) |
//! | `scaling` | `adam` | `adam`, `amsgrad` or `none` (then exactly D-Adapt SGD) |
//! | `transport` | `shrink` | `shrink`, `exact` or `none` (see [`Transport`]) |
//! | `schedule` | `constant` | η_k: `constant` (1), `{ cosine = { total_steps = N } }` or `{ inverse_sqrt = { steps = N } }` |
//! | `scale_gain` | 1 | constant multiplier of `a`; only for studying uniform-scale invariance |
//!
//! `d_coef`, `g_estimate` and the `inverse_sqrt` schedule are the remedies tried against a late
//! jump of D on SAC's actor (issue 25; `docs/suite.md` of the project reports what they did);
//! their defaults are the method as defined.
//!
//! `lr` (default 1.0) multiplies the step. The estimate is λ, an Adam-equivalent learning rate
//! (the step is `λ·g/a²`); `d` is the D that computed λ (after transport) and `d_next` the D
//! after the update.
//!
//! `shrink` never shrinks while some parameter's scale has not changed at all (for example a
//! parameter whose gradient is identically 0 from the start keeps `max(a/a_prev) ≥ 1`).
//!
//! On Burn's CPU backend, steps after the first run as two fused loops around the reductions,
//! bit-identical to the tensor ops (`PsDaSgd::step_fused`); `scaling = none` and
//! `transport = exact` always take the tensor ops.
//!
//! Reference: J. Suh, S. Seo, "Interpreting Adaptive Gradient Methods by Parameter Scaling for
//! Learning-Rate-Free Optimization", arXiv 2401.03240 (2024).

use burn::tensor::{DType, Device, Tensor, TensorData};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::api::{Diagnostics, Estimate, FlatStep, Layout, LrEstimate, LrFreeOptimizer};
use crate::config::{Check, f64_or_inf};
use crate::error::{OptimError, Result};
use crate::fused::{self, Real};
use crate::lanes::{BLOCK, Lanes};
use crate::method::{LrFreeConfig, builder};
use crate::ops;
pub use crate::scaling::Scaling;
use crate::scaling::{ScaleKernel, ScaleOptions, ScaleState, div_opt};
use crate::state::OptimState;

const NAME: &str = "ps-da-sgd";

/// How the D-Adaptation state, kept in the old scaling, is carried into the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// With `ρ = min(1, max(a / a_prev))`: `d ← ρd`, `r ← ρ²r`, `s ← ρs`, `G ← G/ρ`. Exact
    /// under a uniform change of scale; one coordinate whose scale collapses cannot drag the
    /// step size down.
    #[default]
    Shrink,
    /// `s ← s ⊙ a/a_prev`, `G = ||g_0 / a||`; d and r unchanged. The naive transport the paper
    /// warns about (it stalls when one coordinate's scale collapses).
    Exact,
    /// No transport: treat the scaling as slowly varying.
    None,
}

/// How G, the gradient-norm scale that divides D in `λ = d·lr·η_k/G`, is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GEstimate {
    /// `G = ‖g'_0‖`, the first scaled gradient's norm, carried by the transport (D-Adapt SGD's
    /// choice).
    #[default]
    First,
    /// `G = max(G, ‖g'_k‖)` at every step: the bound on all gradient norms that D-Adaptation's
    /// analysis assumes. When the gradients' scale grows during training, D's lower bound grows
    /// with it (d̂ scales with ‖g'‖) while a first-gradient G stays, so λ grows with the scale;
    /// the running max grows G alike. (SAC's critics on Hopper, whose scaled gradients grew to
    /// 8–21× the first one's, got a λ that much smaller.) Costs one more reduction per step.
    RunningMax,
}

/// The schedule η_k multiplying the step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// η_k = 1.
    #[default]
    Constant,
    /// η_k = (1 + cos(π·k/total_steps)) / 2, and 0 from `total_steps` on.
    Cosine {
        /// Length of the schedule.
        total_steps: u64,
    },
    /// η_k = sqrt(N / (N + k)): 1 at the start, 1/√2 after N steps, decreasing to 0 with
    /// Σ η_k = ∞, the kind of decreasing step a convergence proof asks for.
    #[serde(rename = "inverse_sqrt")]
    InverseSqrt {
        /// N, the steps until η has fallen to 1/√2.
        steps: u64,
    },
}

impl Schedule {
    fn eta(&self, k: u64) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Cosine { total_steps } if k >= total_steps => 0.0,
            Schedule::Cosine { total_steps } => {
                0.5 * (1.0 + (std::f64::consts::PI * k as f64 / total_steps as f64).cos())
            }
            Schedule::InverseSqrt { steps } => (steps as f64 / (steps as f64 + k as f64)).sqrt(),
        }
    }
}

/// Options of [`PsDaSgd`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PsDaSgdConfig {
    /// Initial D.
    pub d0: f64,
    /// Primal averaging weight.
    pub momentum: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Scaling epsilon.
    pub eps: f64,
    /// Largest factor by which D may grow in one step.
    #[serde(with = "f64_or_inf")]
    pub growth_rate: f64,
    /// Multiplier of the lower bound d̂ = 2r/‖s‖ before it may raise D.
    pub d_coef: f64,
    /// How G is estimated.
    pub g_estimate: GEstimate,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    /// Scaling rule.
    pub scaling: Scaling,
    /// State transport between scalings.
    pub transport: Transport,
    /// Step-size schedule η_k.
    pub schedule: Schedule,
    /// Constant multiplier of the scaling vector (1 in normal use).
    pub scale_gain: f64,
}

impl Default for PsDaSgdConfig {
    fn default() -> Self {
        Self {
            d0: 1e-6,
            momentum: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            growth_rate: f64::INFINITY,
            d_coef: 1.0,
            g_estimate: GEstimate::First,
            weight_decay: 0.0,
            scaling: Scaling::Adam,
            transport: Transport::Shrink,
            schedule: Schedule::Constant,
            scale_gain: 1.0,
        }
    }
}

impl LrFreeConfig for PsDaSgdConfig {
    type Optimizer = PsDaSgd;
    const NAME: &'static str = NAME;
    const ADAM_EQUIVALENT_LR: bool = true;

    /// Validate and build.
    fn build(&self) -> Result<PsDaSgd> {
        let check = Check::new(NAME);
        check
            .positive("d0", self.d0)?
            .unit("momentum", self.momentum)?
            .unit("beta2", self.beta2)?
            .non_negative("eps", self.eps)?
            .at_least_one("growth_rate", self.growth_rate)?
            .positive("d_coef", self.d_coef)?
            .non_negative("weight_decay", self.weight_decay)?
            .positive("scale_gain", self.scale_gain)?;
        if let Schedule::Cosine { total_steps: 0 } = self.schedule {
            check.positive("schedule.cosine.total_steps", 0.0)?;
        }
        if let Schedule::InverseSqrt { steps: 0 } = self.schedule {
            check.positive("schedule.inverse_sqrt.steps", 0.0)?;
        }
        Ok(PsDaSgd {
            config: self.clone(),
            layout: None,
            scale: ScaleState::default(),
            a_prev: None,
            z: None,
            s: None,
            g0: None,
            d: self.d0,
            numerator: 0.0,
            g_norm: 0.0,
            k: 0,
            last: None,
            diagnostics_on: false,
            last_diagnostics: None,
            spare: fused::Spare::default(),
        })
    }
}

builder!(PsDaSgdConfig {
    with_d0 => d0: f64,
    with_momentum => momentum: f64,
    with_beta2 => beta2: f64,
    with_eps => eps: f64,
    with_growth_rate => growth_rate: f64,
    with_d_coef => d_coef: f64,
    with_g_estimate => g_estimate: GEstimate,
    with_weight_decay => weight_decay: f64,
    with_scaling => scaling: Scaling,
    with_transport => transport: Transport,
    with_schedule => schedule: Schedule,
    with_scale_gain => scale_gain: f64,
});

impl PsDaSgdConfig {
    fn scale_options(&self) -> ScaleOptions {
        ScaleOptions {
            scaling: self.scaling,
            beta2: self.beta2,
            eps: self.eps,
            gain: self.scale_gain,
        }
    }
}

/// PS-DA-SGD; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct PsDaSgd {
    config: PsDaSgdConfig,
    layout: Option<Layout>,
    scale: ScaleState,
    a_prev: Option<Tensor<1>>,
    z: Option<Tensor<1>>,
    s: Option<Tensor<1>>,
    /// The first gradient (kept for the `exact` transport only).
    g0: Option<Tensor<1>>,
    d: f64,
    numerator: f64,
    /// G: the scaled norm of the first gradient, as transported.
    g_norm: f64,
    k: u64,
    /// (λ, D used) of the last step.
    last: Option<(f64, f64)>,
    /// Whether steps measure ‖g'‖ for the diagnostics (`set_diagnostics`).
    diagnostics_on: bool,
    /// What moved D at the last step.
    last_diagnostics: Option<Diagnostics>,
    /// The fused path writes `a` here, keeping `a_prev` for the transport; then they swap.
    spare: fused::Spare,
}

impl LrEstimate for PsDaSgd {
    fn estimate(&self) -> Estimate {
        Estimate::with_d(self.last, self.d, self.k).with_diagnostics(self.last_diagnostics)
    }
}

impl LrFreeOptimizer for PsDaSgd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn step_flat(&mut self, step: FlatStep<'_>) -> Result<Tensor<1>> {
        step.admit(NAME, &mut self.layout)?;
        if self.fused_applies(&step)
            && let Some(state) = self.take_fused_state(&step)
        {
            return Ok(match step.params.dtype() {
                DType::F64 => self.step_fused::<f64>(step, state),
                _ => self.step_fused::<f32>(step, state),
            });
        }
        let c = self.config.clone();
        let mut g = step.grads;
        if c.weight_decay != 0.0 {
            g = g + step.params.clone().mul_scalar(c.weight_decay);
        }
        let (a, scale) = c.scale_options().scale(&g, self.k, &self.scale);
        let g_scaled = div_opt(g.clone(), &a);
        let mut scalars = self.scalars();
        let mut s = self.s.clone();
        let grad_norm =
            (self.k == 0 || self.measures_grad_norm()).then(|| ops::sq_norm(&g_scaled).sqrt());
        if self.k == 0 {
            scalars.g_norm = grad_norm.unwrap_or_default();
            if scalars.g_norm == 0.0 {
                return Ok(step.params);
            }
        } else if let (Some(a), Some(a_prev)) = (&a, &self.a_prev) {
            match c.transport {
                Transport::Shrink => {
                    let ratio = a.clone().div(a_prev.clone());
                    // ρ = min(1, max ratio): usually some scale grew, which a cheap test shows.
                    let rho = if ops::any_at_least(&ratio, 1.0) {
                        1.0
                    } else {
                        ops::max(ratio)
                    };
                    if rho < 1.0 {
                        scalars.shrink(rho);
                        s = s.map(|s| s.mul_scalar(rho));
                    }
                }
                Transport::Exact => {
                    s = s.map(|s| s.mul(a.clone()).div(a_prev.clone()));
                    let Some(g0) = self.g0.clone() else {
                        return Err(OptimError::CorruptState {
                            optimizer: NAME.into(),
                            message: "the `exact` transport needs the first gradient, which this state (saved under another transport) lacks".into(),
                        });
                    };
                    scalars.g_norm = ops::sq_norm(&g0.div(a.clone())).sqrt();
                }
                Transport::None => {}
            }
        }
        scalars.raise_g(c.g_estimate, grad_norm);
        let lambda = scalars.lambda(step.lr, c.schedule.eta(self.k));
        let s = match s {
            None => g_scaled.clone().mul_scalar(lambda),
            Some(s) => {
                scalars.numerator += lambda * ops::dot_in_lanes(&g_scaled, &s);
                s + g_scaled.clone().mul_scalar(lambda)
            }
        };
        let s_norm = ops::dot_in_lanes(&s, &s).sqrt();
        let z = self.z.clone().unwrap_or_else(|| step.params.clone());
        let z = z - div_opt(g_scaled, &a).mul_scalar(lambda);
        let w = step.params.mul_scalar(c.momentum) + z.clone().mul_scalar(1.0 - c.momentum);
        if self.k == 0 && c.transport == Transport::Exact {
            self.g0 = Some(g);
        }
        self.scale = scale;
        (self.a_prev, self.z, self.s) = (a, Some(z), Some(s));
        self.finish(scalars, lambda, s_norm, grad_norm);
        Ok(w)
    }

    fn save_state(&self) -> OptimState {
        OptimState::new(
            NAME,
            serde_json::to_string(&self.config).unwrap_or_default(),
            self.layout.clone(),
        )
        .with_scalar("steps", self.k as f64)
        .with_last(self.last)
        .with_scalar("d", self.d)
        .with_scalar("numerator", self.numerator)
        .with_scalar("G", self.g_norm)
        .with_tensor("v", self.scale.v.as_ref())
        .with_tensor("v_hat_max", self.scale.v_hat_max.as_ref())
        .with_tensor("a_prev", self.a_prev.as_ref())
        .with_tensor("z", self.z.as_ref())
        .with_tensor("s", self.s.as_ref())
        .with_tensor("g0", self.g0.as_ref())
        .with_diagnostics(self.last_diagnostics)
    }

    fn load_state(&mut self, state: OptimState, device: &Device) -> Result<()> {
        state.expect_optimizer(NAME)?;
        let scale = ScaleState {
            v: state.tensor("v", device)?,
            v_hat_max: state.tensor("v_hat_max", device)?,
        };
        let (a_prev, z) = (state.tensor("a_prev", device)?, state.tensor("z", device)?);
        let (s, g0) = (state.tensor("s", device)?, state.tensor("g0", device)?);
        let [k, d, numerator, g_norm] = state.scalars(["steps", "d", "numerator", "G"])?;
        let last = state.last()?;
        self.last_diagnostics = state.diagnostics();
        self.layout = state.layout;
        self.scale = scale;
        self.spare = fused::Spare::default();
        (self.a_prev, self.z, self.s, self.g0) = (a_prev, z, s, g0);
        (self.k, self.d, self.numerator, self.g_norm) = (k as u64, d, numerator, g_norm);
        self.last = last;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(mut fresh) = self.config.build() {
            fresh.diagnostics_on = self.diagnostics_on;
            *self = fresh; // the config was validated when this optimizer was built
        }
    }

    fn set_diagnostics(&mut self, on: bool) {
        self.diagnostics_on = on;
    }
}

/// D-Adaptation's scalars during one step (D, the numerator r, and G), with the step's scalar
/// arithmetic, written once for the tensor and the fused paths.
#[derive(Debug, Clone, Copy)]
struct Scalars {
    d: f64,
    numerator: f64,
    g_norm: f64,
}

impl Scalars {
    /// The `shrink` transport by `ρ < 1`: `d ← ρd`, `r ← ρ²r`, `G ← G/ρ` (the caller scales `s`).
    fn shrink(&mut self, rho: f64) {
        self.d *= rho;
        self.numerator *= rho * rho;
        self.g_norm /= rho;
    }

    /// G under `running_max`: raised to this step's ‖g'‖ (`None`: not measured, under `first`).
    fn raise_g(&mut self, estimate: GEstimate, grad_norm: Option<f64>) {
        if let (GEstimate::RunningMax, Some(norm)) = (estimate, grad_norm) {
            self.g_norm = self.g_norm.max(norm);
        }
    }

    /// `λ = d·lr·η_k / G`.
    fn lambda(&self, lr: f64, eta: f64) -> f64 {
        self.d * lr * eta / self.g_norm
    }

    /// The lower bound `d̂ = d_coef·2r/||s||`, none while `s = 0`.
    fn d_hat(&self, s_norm: f64, d_coef: f64) -> Option<f64> {
        (s_norm > 0.0).then(|| d_coef * 2.0 * self.numerator / s_norm)
    }

    /// D for the next step: `max(d, min(d̂, d·growth_rate))`, unchanged while `s = 0`.
    fn next_d(&self, d_hat: Option<f64>, growth_rate: f64) -> f64 {
        match d_hat {
            Some(d_hat) => self.d.max(d_hat.min(self.d * growth_rate)),
            None => self.d,
        }
    }
}

impl PsDaSgd {
    fn scalars(&self) -> Scalars {
        Scalars {
            d: self.d,
            numerator: self.numerator,
            g_norm: self.g_norm,
        }
    }

    /// Whether this step must measure ‖g'‖: for the diagnostics, or for G under `running_max`.
    fn measures_grad_norm(&self) -> bool {
        self.diagnostics_on || self.config.g_estimate == GEstimate::RunningMax
    }

    /// The scalar state after a step that used `scalars` and `lambda` and left `||s|| = s_norm`
    /// (`grad_norm`: ‖g'‖ of the step, when measured).
    fn finish(&mut self, scalars: Scalars, lambda: f64, s_norm: f64, grad_norm: Option<f64>) {
        let d_hat = scalars.d_hat(s_norm, self.config.d_coef);
        self.d = scalars.next_d(d_hat, self.config.growth_rate);
        (self.numerator, self.g_norm) = (scalars.numerator, scalars.g_norm);
        self.k += 1;
        self.last = Some((lambda, scalars.d));
        self.last_diagnostics = Some(Diagnostics {
            numerator: Some(scalars.numerator),
            s_norm: Some(s_norm),
            d_hat,
            g0_norm: Some(scalars.g_norm),
            grad_norm,
        });
    }

    /// Whether this step takes the fused CPU path ([`Self::step_fused`]): the fused kernels apply
    /// (`fused::fused_cpu_applies`), it is not the first step (which runs once and may skip a
    /// zero gradient: it stays on the tensor path), the scaling is `adam` or `amsgrad`, the
    /// transport `shrink` or `none`, and all the state is there, in the parameters' dtype and
    /// length. Everything else (`scaling = none`, `transport = exact`, a state saved under
    /// other options) takes the tensor path.
    fn fused_applies(&self, step: &FlatStep<'_>) -> bool {
        let c = &self.config;
        let like = fused::state_like(&step.params);
        fused::fused_cpu_applies(&step.params)
            && self.k > 0
            && c.transport != Transport::Exact
            && like(Some(&step.grads))
            && [&self.a_prev, &self.z, &self.s]
                .into_iter()
                .all(|t| like(t.as_ref()))
            && self.scale.fused_ready(c.scaling, like)
    }

    /// The state a fused step works on, taken out of the tensors all or none (`None`: nothing
    /// taken, the step takes the tensor path).
    fn take_fused_state(&mut self, step: &FlatStep<'_>) -> Option<FusedState> {
        let scale = self.scale.take_host(self.config.scaling)?;
        match fused::take_all([&mut self.a_prev, &mut self.z, &mut self.s]) {
            Some(a_prev_z_s) => Some(FusedState { scale, a_prev_z_s }),
            None => {
                self.scale.put_host(scale.0, scale.1, &step.params.device());
                None
            }
        }
    }

    /// The tensor path's step (from the second step on) as two passes over the host buffers,
    /// op for op, so the results are bit-identical (`tests/fused.rs`): pass 1 makes the scaling
    /// and `g' = g/a` and tests whether some scale grew; pass 2, once λ is known, updates `s`,
    /// `z` and the parameters, and sums `g'·s` (the old `s`) and `‖s‖²` (the new) as it goes,
    /// in the tensor path's order (`crate::lanes`). The rare `shrink` test between the passes
    /// is the tensor path's own op, run on the same buffers without copying
    /// ([`fused::on_tensors`]).
    fn step_fused<T: Real>(&mut self, step: FlatStep<'_>, state: FusedState) -> Tensor<1> {
        let c = self.config.clone();
        let device = step.params.device();
        let mut p = fused::host(step.params);
        let mut g = fused::host(step.grads);
        let FusedState {
            scale: (mut v, mut v_hat_max),
            a_prev_z_s: [mut a_prev, mut z, mut s],
        } = state;
        let mut a = self.spare.take_like(&p);

        if c.weight_decay != 0.0 {
            let wd = T::of(c.weight_decay);
            fused::add_decay::<T>(fused::slice_mut(&mut g), fused::slice_mut(&mut p), wd);
        }
        // Pass 1: the scaling, g ← g' = g/a, a into `a` (a_prev is kept for the transport),
        // and whether some a/a_prev ≥ 1 (the tensor path's `any_at_least`; computed under every
        // transport, as it costs next to nothing).
        let grew = scale_pass::<T>(
            &c.scale_options().kernel(self.k),
            [fused::slice_mut(&mut g), fused::slice_mut(&mut v)],
            v_hat_max.as_mut().map(fused::slice_mut),
            fused::slice_mut(&mut a),
            fused::slice_mut(&mut a_prev),
        );

        // ‖g'‖, when the diagnostics or `running_max` ask: `g` holds g' after pass 1.
        let grad_norm = self
            .measures_grad_norm()
            .then(|| fused::on_tensors([&mut g], &device, |[g]| ops::sq_norm(g)).sqrt());
        let mut scalars = self.scalars();
        if c.transport == Transport::Shrink && !grew {
            // No scale grew, so ρ = max(a / a_prev) decides; rare, so the tensor path's own ops
            // compute it (NaN handling included).
            let rho = fused::on_tensors([&mut a, &mut a_prev], &device, |[a, a_prev]| {
                ops::max(a.clone().div(a_prev.clone()))
            });
            if rho < 1.0 {
                scalars.shrink(rho);
                let rho_t = T::of(rho);
                for s in fused::slice_mut::<T>(&mut s) {
                    *s = *s * rho_t;
                }
            }
        }
        scalars.raise_g(c.g_estimate, grad_norm);
        let lambda = scalars.lambda(step.lr, c.schedule.eta(self.k));
        let [g_dot_s, s_sq] = update_pass::<T>(
            T::of(lambda),
            T::of(c.momentum),
            T::of(1.0 - c.momentum),
            [
                fused::slice_mut::<T>(&mut p),
                fused::slice_mut::<T>(&mut z),
                fused::slice_mut::<T>(&mut s),
            ],
            fused::slice_mut::<T>(&mut g),
            fused::slice_mut::<T>(&mut a),
        );
        scalars.numerator += lambda * g_dot_s;
        let s_norm = s_sq.sqrt();

        self.scale.put_host(v, v_hat_max, &device);
        self.a_prev = Some(fused::tensor(a, &device));
        self.spare.put(a_prev);
        (self.z, self.s) = (
            Some(fused::tensor(z, &device)),
            Some(fused::tensor(s, &device)),
        );
        self.finish(scalars, lambda, s_norm, grad_norm);
        fused::tensor(p, &device)
    }
}

/// The host buffers of a fused step: the scaling's `v` (and `v̂_max`), then `a_prev`, `z`, `s`.
struct FusedState {
    scale: (TensorData, Option<TensorData>),
    a_prev_z_s: [TensorData; 3],
}

/// Pass 1 of the fused step: the scaling ([`ScaleKernel::scale`]: `v`, `v̂_max` under amsgrad,
/// `g ← g/a`), `a` into its buffer, and whether some `a/a_prev ≥ 1`. All slices cut to one
/// length, so that the compiler drops the bounds checks and vectorises, with AVX2 where
/// the CPU has it (`fused.rs`).
#[multiversion(targets("x86_64+avx2"))]
fn scale_pass<T: Real>(
    k: &ScaleKernel<T>,
    [g, v]: [&mut [T]; 2],
    v_hat_max: Option<&mut [T]>,
    a: &mut [T],
    a_prev: &[T],
) -> bool {
    let n = g.len();
    let (v, a, a_prev) = (&mut v[..n], &mut a[..n], &a_prev[..n]);
    let v_hat_max = v_hat_max.map(|m| &mut m[..n]);
    let one = T::of(1.0);
    let mut grew = false;
    k.scale(g, v, v_hat_max, |i, a_i, _| {
        grew |= a_i / a_prev[i] >= one;
        a[i] = a_i;
    });
    grew
}

/// Pass 2 of the fused step, with `g` the scaled gradient: `s ← s + g·λ`, `z ← z − (g/a)·λ`,
/// `p ← p·μ + z·(1−μ)` (the new parameters); returns `[Σ g·s, Σ s²]`, of the old and the new
/// `s`, summed in the tensor path's order (`crate::lanes`). Block by block: the old block is
/// summed while in L1, then an indexed loop over slices cut to one length, which the compiler
/// vectorises without bounds checks (with AVX2 where the CPU has it, `fused.rs`), updates it,
/// then the new block is summed.
#[multiversion(targets("x86_64+avx2"))]
fn update_pass<T: Real>(
    lambda: T,
    mu: T,
    one_minus_mu: T,
    [p, z, s]: [&mut [T]; 3],
    g: &[T],
    a: &[T],
) -> [f64; 2] {
    let n = p.len();
    let (mut g_dot_s, mut s_sq) = (Lanes::new(), Lanes::new());
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let len = end - start;
        let (p, z, s) = (&mut p[start..end], &mut z[start..end], &mut s[start..end]);
        let (g, a) = (&g[start..end], &a[start..end]);
        g_dot_s.add_products(g, s);
        for i in 0..len {
            s[i] = s[i] + g[i] * lambda;
            z[i] = z[i] - (g[i] / a[i]) * lambda;
            p[i] = p[i] * mu + z[i] * one_minus_mu;
        }
        s_sq.add_products(s, s);
    }
    [g_dot_s.total(), s_sq.total()]
}
