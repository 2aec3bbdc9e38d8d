//! Saving and restoring a whole agent, bit for bit.
//!
//! A checkpoint is a directory:
//!
//! | file | content |
//! |---|---|
//! | `sac.json` | format, sizes, action bounds, hyperparameters, optimizer names, seed, RNG position, update count, buffer position |
//! | `actor.f32`, `critic.f32`, `critic_target.f32`, `temperature.f32` | parameters in module visit order |
//! | `optim-actor.bpk`, `optim-critic.bpk`, `optim-alpha.bpk` | optimizer states ([`OptimState`], burnpack) |
//! | `buffer.f32` | replay buffer arrays (only when saved with the buffer) |
//!
//! The `.f32` files are a small tensor list: magic `LRFT0001`, then a `u64` tensor count and
//! per tensor a `u64` rank, the `u64` dims and the little-endian `f32` values. Values are
//! written as stored, so a restored agent continues exactly where the saved one was.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use burn::module::Module;
use burn_lrfree::OptimState;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::{SacConfig, SacOptimizers};
use crate::error::AgentError;
use crate::networks::{HostParams, from_host, to_host};
use crate::replay::ReplayBuffer;
use crate::sac::Sac;
use burn::tensor::Device;
use rand::SeedableRng;

/// The `format` field of `sac.json`.
pub const CHECKPOINT_FORMAT: &str = "lrfree-sac/1";
const MAGIC: &[u8; 8] = b"LRFT0001";

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: String,
    obs_dim: usize,
    act_low: Vec<f32>,
    act_high: Vec<f32>,
    config: SacConfig,
    /// Optimizer names of actor, critic, alpha.
    optimizers: [String; 3],
    seed: u64,
    rng: RngState,
    updates: u64,
    buffer: Option<BufferMeta>,
}

/// ChaCha8's full position: key, stream and word position (u128 as text for JSON).
#[derive(Debug, Serialize, Deserialize)]
struct RngState {
    key: String,
    stream: u64,
    word_pos: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct BufferMeta {
    capacity: usize,
    pos: usize,
    len: usize,
}

impl RngState {
    fn of(rng: &ChaCha8Rng) -> Self {
        let key = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key,
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    fn restore(&self) -> Option<ChaCha8Rng> {
        if self.key.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&self.key[2 * i..2 * i + 2], 16).ok()?;
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse().ok()?);
        Some(rng)
    }
}

fn write_tensors(path: &Path, tensors: &[(Vec<usize>, &[f32])]) -> Result<(), AgentError> {
    let io = |e| AgentError::io(path, e);
    let mut w = BufWriter::new(fs::File::create(path).map_err(io)?);
    let mut put = |bytes: &[u8]| w.write_all(bytes).map_err(io);
    put(MAGIC)?;
    put(&(tensors.len() as u64).to_le_bytes())?;
    for (shape, values) in tensors {
        put(&(shape.len() as u64).to_le_bytes())?;
        for d in shape {
            put(&(*d as u64).to_le_bytes())?;
        }
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        put(&bytes)?;
    }
    w.flush().map_err(io)
}

fn read_tensors(path: &Path) -> Result<HostParams, AgentError> {
    let io = |e| AgentError::io(path, e);
    let mut r = BufReader::new(fs::File::open(path).map_err(io)?);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(io)?;
    if &magic != MAGIC {
        return Err(AgentError::checkpoint(
            path,
            "not a tensor file of this version",
        ));
    }
    let u64_ = |r: &mut BufReader<fs::File>| -> Result<u64, AgentError> {
        let mut b = [0u8; 8];
        r.read_exact(&mut b).map_err(io)?;
        Ok(u64::from_le_bytes(b))
    };
    let count = u64_(&mut r)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let rank = u64_(&mut r)?;
        if rank > 8 {
            return Err(AgentError::checkpoint(
                path,
                format!("implausible tensor rank {rank}"),
            ));
        }
        let shape: Vec<usize> = (0..rank)
            .map(|_| u64_(&mut r).map(|d| d as usize))
            .collect::<Result<_, _>>()?;
        let n: usize = shape.iter().product();
        let mut bytes = vec![0u8; n * 4];
        r.read_exact(&mut bytes).map_err(io)?;
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((shape, values));
    }
    let mut rest = [0u8; 1];
    if r.read(&mut rest).map_err(io)? != 0 {
        return Err(AgentError::checkpoint(
            path,
            "trailing bytes after the last tensor",
        ));
    }
    Ok(out)
}

fn save_module<M: Module>(path: &Path, module: &M) -> Result<(), AgentError> {
    let params = to_host(module);
    let views: Vec<(Vec<usize>, &[f32])> = params
        .iter()
        .map(|(s, v)| (s.clone(), v.as_slice()))
        .collect();
    write_tensors(path, &views)
}

fn load_module<M: Module>(path: &Path, module: M) -> Result<M, AgentError> {
    from_host(module, read_tensors(path)?).map_err(|m| AgentError::checkpoint(path, m))
}

impl Sac {
    /// Write the agent to directory `dir` (created if missing): networks, target critics,
    /// temperature, the three optimizer states, the RNG position and the update count, and
    /// with `include_buffer` the replay buffer. [`Sac::load`] restores it exactly.
    pub fn save(&self, dir: &Path, include_buffer: bool) -> Result<(), AgentError> {
        fs::create_dir_all(dir).map_err(|e| AgentError::io(dir, e))?;
        save_module(&dir.join("actor.f32"), &self.actor)?;
        save_module(&dir.join("critic.f32"), &self.critic)?;
        save_module(&dir.join("critic_target.f32"), &self.critic_target)?;
        save_module(&dir.join("temperature.f32"), &self.temperature)?;
        for (name, opt) in [
            ("actor", &self.opt_actor),
            ("critic", &self.opt_critic),
            ("alpha", &self.opt_temperature),
        ] {
            opt.save_state()
                .save(&dir.join(format!("optim-{name}.bpk")))?;
        }
        let buffer = if include_buffer {
            let (o, a) = self.buffer.dims();
            let len = self.buffer.len();
            let widths = [o, a, 1, o, 1];
            let arrays = self.buffer.arrays();
            let views: Vec<(Vec<usize>, &[f32])> = arrays
                .iter()
                .zip(widths)
                .map(|(values, w)| (vec![len, w], *values))
                .collect();
            write_tensors(&dir.join("buffer.f32"), &views)?;
            Some(BufferMeta {
                capacity: self.buffer.capacity(),
                pos: self.buffer.pos(),
                len,
            })
        } else {
            None
        };
        let meta = Meta {
            format: CHECKPOINT_FORMAT.into(),
            obs_dim: self.obs_dim,
            act_low: self.act_low.clone(),
            act_high: self.act_high.clone(),
            config: self.config.clone(),
            optimizers: [
                self.opt_actor.name().into(),
                self.opt_critic.name().into(),
                self.opt_temperature.name().into(),
            ],
            seed: self.seed,
            rng: RngState::of(&self.rng),
            updates: self.updates,
            buffer,
        };
        let path = dir.join("sac.json");
        let text = serde_json::to_string_pretty(&meta).expect("serialisable");
        fs::write(&path, text).map_err(|e| AgentError::io(&path, e))
    }

    /// Restore an agent saved by [`Sac::save`]. `config` and `optimizers` must describe the
    /// same networks and optimizer kinds as at saving (they are not taken from the checkpoint,
    /// so a run file stays the single source of settings); a mismatch is an error. Without a
    /// saved buffer the agent starts with an empty one.
    pub fn load(
        dir: &Path,
        config: &SacConfig,
        optimizers: &SacOptimizers,
        device: &Device,
    ) -> Result<Self, AgentError> {
        let meta_path = dir.join("sac.json");
        let text = fs::read_to_string(&meta_path).map_err(|e| AgentError::io(&meta_path, e))?;
        let meta: Meta = serde_json::from_str(&text)
            .map_err(|e| AgentError::checkpoint(&meta_path, e.to_string()))?;
        let bad = |m: String| Err(AgentError::checkpoint(dir, m));
        if meta.format != CHECKPOINT_FORMAT {
            return bad(format!(
                "format `{}`, this build reads `{CHECKPOINT_FORMAT}`",
                meta.format
            ));
        }
        if meta.config.hidden != config.hidden {
            return bad(format!(
                "saved with hidden = {:?}, asked for {:?}",
                meta.config.hidden, config.hidden
            ));
        }
        let wanted = [
            optimizers.actor.config.name(),
            optimizers.critic.config.name(),
            optimizers.temperature.config.name(),
        ];
        if meta.optimizers != wanted {
            return bad(format!(
                "saved with optimizers {:?} (actor, critic, alpha), asked for {wanted:?}",
                meta.optimizers
            ));
        }
        let mut sac = Sac::new(
            meta.obs_dim,
            &meta.act_low,
            &meta.act_high,
            config,
            optimizers,
            meta.seed,
            device,
        )?;
        sac.actor = load_module(&dir.join("actor.f32"), sac.actor)?;
        sac.critic = load_module(&dir.join("critic.f32"), sac.critic)?;
        sac.critic_target = load_module(&dir.join("critic_target.f32"), sac.critic_target)?;
        sac.temperature = load_module(&dir.join("temperature.f32"), sac.temperature)?;
        // The optimizers work on plain (non-autodiff) flat vectors.
        for (name, opt) in [
            ("actor", &mut sac.opt_actor),
            ("critic", &mut sac.opt_critic),
            ("alpha", &mut sac.opt_temperature),
        ] {
            opt.load_state(
                OptimState::load(&dir.join(format!("optim-{name}.bpk")))?,
                &sac.plain,
            )?;
        }
        sac.rng = match meta.rng.restore() {
            Some(rng) => rng,
            None => return bad("unreadable RNG state in sac.json".into()),
        };
        sac.updates = meta.updates;
        if let Some(b) = meta.buffer {
            if b.capacity != config.buffer_size {
                return bad(format!(
                    "buffer saved with capacity {}, asked for buffer_size {}",
                    b.capacity, config.buffer_size
                ));
            }
            let path = dir.join("buffer.f32");
            let arrays: Vec<Vec<f32>> = read_tensors(&path)?.into_iter().map(|(_, v)| v).collect();
            let arrays: [Vec<f32>; 5] = arrays
                .try_into()
                .map_err(|_| AgentError::checkpoint(&path, "expected 5 arrays"))?;
            let (o, a) = (sac.obs_dim, sac.act_dim);
            sac.buffer = ReplayBuffer::from_arrays(o, a, b.capacity, b.pos, arrays)
                .filter(|buf| buf.len() == b.len)
                .ok_or_else(|| {
                    AgentError::checkpoint(&path, "buffer arrays do not match sac.json")
                })?;
        }
        Ok(sac)
    }
}
