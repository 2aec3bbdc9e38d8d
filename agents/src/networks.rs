//! The three learned parts of SAC as Burn modules, and the parameter plumbing around them.
//!
//! Every weight is drawn on the host from the agent's own RNG (PyTorch's default `Linear`
//! initialisation, U(−1/√fan_in, 1/√fan_in) for weight and bias), never from Burn's global
//! RNG, so that seeds are reproducible even with several agents in parallel threads.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use lrfree_nn::{Activation, Mlp, linear as apply, torch_linear as linear};
use rand::Rng;

/// `0.5·ln(2π)`, the constant of the Gaussian log-density.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// The policy: a shared ReLU trunk with a mean head and a log-std head, giving a Gaussian that
/// is squashed by tanh into the action box.
#[derive(Module, Debug)]
pub struct Actor {
    trunk: Mlp,
    mean: Linear,
    log_std: Linear,
}

/// A batch of squashed-Gaussian actions.
pub struct PolicySample {
    /// Actions in the environment's bounds, `[B, A]`.
    pub action: Tensor<2>,
    /// `log π(action | obs)`, `[B, 1]`, with the change-of-variables correction of tanh and
    /// of the action scale.
    pub log_prob: Tensor<2>,
}

/// Affine map from `(−1, 1)` to the action box: `action = tanh(u)·scale + bias`.
#[derive(Debug, Clone)]
pub struct ActionMap {
    /// `(high − low)/2`, `[1, A]`.
    pub scale: Tensor<2>,
    /// `(high + low)/2`, `[1, A]`.
    pub bias: Tensor<2>,
    /// Lower bound of the log standard deviation.
    pub log_std_min: f64,
    /// Upper bound of the log standard deviation.
    pub log_std_max: f64,
}

impl Actor {
    /// `obs_dim → hidden… → (mean, log_std)` of width `act_dim`.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        device: &Device,
    ) -> Self {
        let mut sizes = vec![obs_dim];
        sizes.extend_from_slice(hidden);
        let width = *sizes.last().expect("sizes");
        let trunk = Mlp::new(rng, &sizes, device);
        let mean = linear(rng, width, act_dim, device);
        let log_std = linear(rng, width, act_dim, device);
        Self {
            trunk,
            mean,
            log_std,
        }
    }

    /// The Gaussian's mean and log standard deviation (after CleanRL's tanh rescaling into
    /// `[log_std_min, log_std_max]`).
    pub fn forward(&self, obs: Tensor<2>, map: &ActionMap) -> (Tensor<2>, Tensor<2>) {
        let h = self.trunk.forward(obs, Activation::Relu);
        let mean = apply(&self.mean, h.clone(), Activation::None);
        let (lo, hi) = (map.log_std_min, map.log_std_max);
        let log_std = apply(&self.log_std, h, Activation::None)
            .tanh()
            .add_scalar(1.0)
            .mul_scalar(0.5 * (hi - lo))
            .add_scalar(lo);
        (mean, log_std)
    }

    /// Reparameterised sample `u = mean + std·ε`, `action = tanh(u)·scale + bias`, with its
    /// log-probability. `noise` is ε ~ N(0, I), `[B, A]`, drawn by the caller on the host.
    ///
    /// The Gaussian term is written with ε instead of `(u − mean)/std`: the same value, and the
    /// same gradient as PyTorch's `Normal.log_prob(rsample())` (the ε² term carries none).
    pub fn sample(&self, obs: Tensor<2>, noise: Tensor<2>, map: &ActionMap) -> PolicySample {
        let (mean, log_std) = self.forward(obs, map);
        let u = mean + log_std.clone().exp() * noise.clone();
        let y = u.tanh();
        let action = y.clone() * map.scale.clone() + map.bias.clone();
        let gaussian = noise.square().mul_scalar(-0.5) - log_std - HALF_LN_2PI;
        let squash = (y.square().neg().add_scalar(1.0) * map.scale.clone())
            .add_scalar(1e-6)
            .log();
        PolicySample {
            action,
            log_prob: (gaussian - squash).sum_dim(1),
        }
    }

    /// The deterministic (evaluation) action `tanh(mean)·scale + bias`.
    pub fn mode(&self, obs: Tensor<2>, map: &ActionMap) -> Tensor<2> {
        let (mean, _) = self.forward(obs, map);
        mean.tanh() * map.scale.clone() + map.bias.clone()
    }
}

/// Twin Q networks `Q₁, Q₂ : (obs ‖ action) → ℝ` as one module, so one optimizer instance
/// steps both (their losses are summed, as in CleanRL).
#[derive(Module, Debug)]
pub struct Critic {
    q1: Mlp,
    q2: Mlp,
}

impl Critic {
    /// Two independent `obs_dim + act_dim → hidden… → 1` networks.
    pub fn new<R: Rng + ?Sized>(
        rng: &mut R,
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        device: &Device,
    ) -> Self {
        let mut sizes = vec![obs_dim + act_dim];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        let q1 = Mlp::new(rng, &sizes, device);
        let q2 = Mlp::new(rng, &sizes, device);
        Self { q1, q2 }
    }

    /// `(Q₁(s, a), Q₂(s, a))`, each `[B, 1]`.
    pub fn forward(&self, obs: Tensor<2>, action: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let x = Tensor::cat(vec![obs, action], 1);
        (
            self.q1.forward(x.clone(), Activation::None),
            self.q2.forward(x, Activation::None),
        )
    }
}

/// The entropy temperature as a one-parameter module: `log α`, `[1]`.
#[derive(Module, Debug)]
pub struct Temperature {
    /// `log α`, learned (the log keeps α positive).
    pub log_alpha: Param<Tensor<1>>,
}

impl Temperature {
    /// `log α = ln init_alpha`.
    pub fn new(init_alpha: f64, device: &Device) -> Self {
        let value = TensorData::new(vec![init_alpha.ln() as f32], [1]);
        Self {
            log_alpha: Param::from_tensor(Tensor::from_data(value, device)),
        }
    }
}

/// A module's parameters on the host, in visit order: `(shape, values)`.
pub type HostParams = Vec<(Vec<usize>, Vec<f32>)>;

/// Read every float parameter to the host (for checkpoints).
pub fn to_host<M: Module>(module: &M) -> HostParams {
    struct Collect(HostParams);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val().inner();
            let shape = value.shape().to_vec();
            let data = value.into_data().convert::<f32>();
            self.0
                .push((shape, data.try_to_vec::<f32>().expect("f32 parameter")));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}

/// Replace every float parameter of `module` by `params` (same order and shapes as
/// [`to_host`]), keeping ids and gradient settings. `Err` names the first mismatch.
pub fn from_host<M: Module>(module: M, params: HostParams) -> Result<M, String> {
    struct Load {
        params: std::vec::IntoIter<(Vec<usize>, Vec<f32>)>,
        error: Option<String>,
        index: usize,
    }
    impl ModuleMapper for Load {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            self.index += 1;
            let Some((shape, values)) = self.params.next() else {
                self.error.get_or_insert_with(|| {
                    format!("too few tensors (module has more than {})", self.index - 1)
                });
                return param;
            };
            let (id, old, mapper) = param.consume();
            let expected = old.shape().to_vec();
            if shape != expected || values.len() != shape.iter().product::<usize>() {
                self.error.get_or_insert_with(|| {
                    format!(
                        "tensor {} has shape {shape:?}, the network expects {expected:?}",
                        self.index - 1
                    )
                });
                return Param::from_mapped_value(id, old, mapper);
            }
            let require_grad = old.is_require_grad();
            let mut value: Tensor<D> =
                Tensor::from_data(TensorData::new(values, shape), &old.device());
            if require_grad {
                value = value.require_grad();
            }
            Param::from_mapped_value(id, value, mapper)
        }
    }
    let mut load = Load {
        params: params.into_iter(),
        error: None,
        index: 0,
    };
    let module = module.map(&mut load);
    if let Some(error) = load.error {
        return Err(error);
    }
    if load.params.len() > 0 {
        return Err(format!(
            "{} tensors more than the network has",
            load.params.len()
        ));
    }
    Ok(module)
}

/// Polyak averaging `target ← τ·online + (1−τ)·target`, parameter by parameter in visit order
/// (the two modules have the same structure). `online` may live on an autodiff device; only
/// its values are read, and `target` stays off the graph.
pub fn polyak<M: Module>(target: M, online: &M, tau: f64) -> M {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val().inner();
            let n = value.shape().num_elements();
            self.0.push(value.reshape([n]));
        }
    }
    struct Blend {
        online: std::vec::IntoIter<Tensor<1>>,
        tau: f64,
    }
    impl ModuleMapper for Blend {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, old, mapper) = param.consume();
            let online = self
                .online
                .next()
                .expect("same structure")
                .reshape(old.shape());
            let value = old.mul_scalar(1.0 - self.tau) + online.mul_scalar(self.tau);
            Param::from_mapped_value(id, value, mapper)
        }
    }
    let mut collect = Collect(Vec::new());
    online.visit(&mut collect);
    target.map(&mut Blend {
        online: collect.0.into_iter(),
        tau,
    })
}
