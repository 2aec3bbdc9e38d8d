//! Saving and restoring a whole agent, bit for bit.
//!
//! [`Sac::record`] takes the agent into a [`AgentRecord`], in memory: the files of a checkpoint
//! directory. [`AgentRecord::save_dir`] writes them as that directory (rl-train's checkpoints
//! and final agents), [`AgentRecord::to_bytes`] as one blob (burn-train's checkpointer, feature
//! `burn-train`); [`Sac::from_record`] restores the agent from either. The directory:
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

use std::collections::BTreeMap;
use std::fs;
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
    /// Optimizer names of actor, critic, temperature (this order and the file names'
    /// `alpha` are the saved format's, kept so older checkpoints stay readable).
    optimizers: [String; 3],
    seed: u64,
    rng: RngState,
    updates: u64,
    buffer: Option<BufferMeta>,
}

/// ChaCha8's full position: key, stream and word position (u128 as text for JSON).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RngState {
    key: String,
    stream: u64,
    word_pos: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BufferMeta {
    capacity: usize,
    pos: usize,
    len: usize,
}

impl RngState {
    pub(crate) fn of(rng: &ChaCha8Rng) -> Self {
        let key = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key,
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    pub(crate) fn restore(&self) -> Option<ChaCha8Rng> {
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

/// The tensor-list format of the `.f32` files.
fn tensor_bytes(tensors: &[(Vec<usize>, &[f32])]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend((tensors.len() as u64).to_le_bytes());
    for (shape, values) in tensors {
        out.extend((shape.len() as u64).to_le_bytes());
        for d in shape {
            out.extend((*d as u64).to_le_bytes());
        }
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    out
}

/// Parse a `.f32` file's bytes (`path` names it in errors).
fn read_tensors(path: &Path, bytes: &[u8]) -> Result<HostParams, AgentError> {
    let bad = |m: String| AgentError::checkpoint(path, m);
    let mut r = Reader { bytes, at: 0 };
    if r.take(8).ok() != Some(MAGIC.as_slice()) {
        return Err(bad("not a tensor file of this version".into()));
    }
    let count = r.u64().map_err(bad)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let rank = r.u64().map_err(bad)?;
        if rank > 8 {
            return Err(bad(format!("implausible tensor rank {rank}")));
        }
        let shape: Vec<usize> = (0..rank)
            .map(|_| r.u64().map(|d| d as usize))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        let n = shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d));
        let bytes = n
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| bad(format!("implausible tensor shape {shape:?}")))
            .and_then(|len| r.take(len).map_err(bad))?;
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((shape, values));
    }
    if r.at != bytes.len() {
        return Err(bad("trailing bytes after the last tensor".into()));
    }
    Ok(out)
}

/// A cursor over little-endian bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

fn module_bytes<M: Module>(module: &M) -> Vec<u8> {
    let params = to_host(module);
    let views: Vec<(Vec<usize>, &[f32])> = params
        .iter()
        .map(|(s, v)| (s.clone(), v.as_slice()))
        .collect();
    tensor_bytes(&views)
}

const BUFFER_FILE: &str = "buffer.f32";
const RECORD_MAGIC: &[u8; 8] = b"LRFSAC01";

/// A whole agent in memory: the files of its checkpoint directory (see the module docs for
/// SAC's; TD3's are alike), by name. Written out by [`save_dir`](Self::save_dir) or
/// [`to_bytes`](Self::to_bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    files: BTreeMap<String, Vec<u8>>,
}

impl AgentRecord {
    /// Write the record as a checkpoint directory (created if missing).
    pub fn save_dir(&self, dir: &Path) -> Result<(), AgentError> {
        fs::create_dir_all(dir).map_err(|e| AgentError::io(dir, e))?;
        for (name, bytes) in &self.files {
            let path = dir.join(name);
            fs::write(&path, bytes).map_err(|e| AgentError::io(&path, e))?;
        }
        Ok(())
    }

    /// Read a checkpoint directory written by [`save_dir`](Self::save_dir) (or by
    /// [`Sac::save`] of any earlier version of this crate with the same format): every file in
    /// it.
    pub fn load_dir(dir: &Path) -> Result<Self, AgentError> {
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(|e| AgentError::io(dir, e))? {
            let path = entry.map_err(|e| AgentError::io(dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.is_file() {
                let bytes = fs::read(&path).map_err(|e| AgentError::io(&path, e))?;
                files.insert(name.to_string(), bytes);
            }
        }
        Ok(Self { files })
    }

    /// The record as one blob: a magic, the file count, then per file its name and bytes,
    /// each length-prefixed (little-endian `u64`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = RECORD_MAGIC.to_vec();
        out.extend((self.files.len() as u64).to_le_bytes());
        for (name, bytes) in &self.files {
            out.extend((name.len() as u64).to_le_bytes());
            out.extend(name.as_bytes());
            out.extend((bytes.len() as u64).to_le_bytes());
            out.extend(bytes);
        }
        out
    }

    /// Parse [`to_bytes`](Self::to_bytes)'s blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AgentError> {
        let here = Path::new("<SAC record bytes>");
        let bad = |m: String| AgentError::checkpoint(here, m);
        let mut r = Reader { bytes, at: 0 };
        if r.take(8).ok() != Some(RECORD_MAGIC.as_slice()) {
            return Err(bad("not a SAC record of this version".into()));
        }
        let count = r.u64().map_err(bad)?;
        let mut files = BTreeMap::new();
        for _ in 0..count {
            let len = r.u64().map_err(bad)? as usize;
            let name = r.take(len).map_err(bad)?;
            let name = String::from_utf8(name.to_vec()).map_err(|e| bad(e.to_string()))?;
            let len = r.u64().map_err(bad)? as usize;
            files.insert(name, r.take(len).map_err(bad)?.to_vec());
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes after the last file".into()));
        }
        Ok(Self { files })
    }

    /// An empty record, to be filled by an agent's `record`.
    pub(crate) fn new() -> Self {
        Self {
            files: BTreeMap::new(),
        }
    }

    /// Whether the record holds file `name`.
    pub fn has(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    pub(crate) fn insert_module<M: Module>(&mut self, name: &str, module: &M) {
        self.files.insert(name.to_string(), module_bytes(module));
    }

    pub(crate) fn insert_json<T: Serialize>(&mut self, name: &str, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("serialisable");
        self.files.insert(name.to_string(), text.into_bytes());
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, AgentError> {
        serde_json::from_slice(self.file(name)?)
            .map_err(|e| AgentError::checkpoint(Path::new(name), e.to_string()))
    }

    pub(crate) fn insert_optim(
        &mut self,
        name: &str,
        optimizer: &dyn burn_lrfree::LrFreeOptimizer,
    ) -> Result<(), AgentError> {
        let bytes = optimizer.save_state().to_bytes()?;
        self.files.insert(format!("optim-{name}.bpk"), bytes);
        Ok(())
    }

    pub(crate) fn load_optim(
        &self,
        name: &str,
        optimizer: &mut dyn burn_lrfree::LrFreeOptimizer,
        device: &Device,
    ) -> Result<(), AgentError> {
        let bytes = self.file(&format!("optim-{name}.bpk"))?.to_vec();
        optimizer.load_state(OptimState::from_bytes(bytes)?, device)?;
        Ok(())
    }

    /// Store `buffer` (`buffer.f32`); returns what the agent's JSON records of it.
    pub(crate) fn insert_buffer(&mut self, buffer: &ReplayBuffer) -> BufferMeta {
        let (o, a) = buffer.dims();
        let len = buffer.len();
        let widths = [o, a, 1, o, 1];
        let arrays = buffer.arrays();
        let views: Vec<(Vec<usize>, &[f32])> = arrays
            .iter()
            .zip(widths)
            .map(|(values, w)| (vec![len, w], *values))
            .collect();
        self.files
            .insert(BUFFER_FILE.to_string(), tensor_bytes(&views));
        BufferMeta {
            capacity: buffer.capacity(),
            pos: buffer.pos(),
            len,
        }
    }

    /// The buffer saved by [`insert_buffer`](Self::insert_buffer), checked against `meta` and
    /// the agent's sizes (`capacity`: the config's `buffer_size`).
    pub(crate) fn buffer(
        &self,
        meta: &BufferMeta,
        (obs_dim, act_dim): (usize, usize),
        capacity: usize,
    ) -> Result<ReplayBuffer, AgentError> {
        let path = Path::new(BUFFER_FILE);
        if meta.capacity != capacity {
            return Err(AgentError::checkpoint(
                path,
                format!(
                    "buffer saved with capacity {}, asked for buffer_size {capacity}",
                    meta.capacity
                ),
            ));
        }
        let arrays: Vec<Vec<f32>> = read_tensors(path, self.file(BUFFER_FILE)?)?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let arrays: [Vec<f32>; 5] = arrays
            .try_into()
            .map_err(|_| AgentError::checkpoint(path, "expected 5 arrays"))?;
        ReplayBuffer::from_arrays(obs_dim, act_dim, meta.capacity, meta.pos, arrays)
            .filter(|buf| buf.len() == meta.len)
            .ok_or_else(|| {
                AgentError::checkpoint(path, "buffer arrays do not match the agent's JSON")
            })
    }

    pub(crate) fn file(&self, name: &str) -> Result<&[u8], AgentError> {
        self.files
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| AgentError::checkpoint(Path::new(name), "missing from the record"))
    }

    pub(crate) fn module<M: Module>(&self, name: &str, module: M) -> Result<M, AgentError> {
        let params = read_tensors(Path::new(name), self.file(name)?)?;
        from_host(module, params).map_err(|m| AgentError::checkpoint(Path::new(name), m))
    }
}

impl Sac {
    /// Write the agent to directory `dir` (created if missing): networks, target critics,
    /// temperature, the three optimizer states, the RNG position and the update count, and
    /// with `include_buffer` the replay buffer. [`Sac::load`] restores it exactly.
    pub fn save(&self, dir: &Path, include_buffer: bool) -> Result<(), AgentError> {
        self.try_record(include_buffer)?.save_dir(dir)
    }

    /// The whole agent as a [`AgentRecord`], with `include_buffer` its replay buffer too.
    ///
    /// # Panics
    /// If an optimizer's state cannot be serialised (burnpack refusing finite `f32` tensors):
    /// [`Sac::save`] returns that error instead.
    pub fn record(&self, include_buffer: bool) -> AgentRecord {
        self.try_record(include_buffer)
            .unwrap_or_else(|e| panic!("serialising the SAC agent: {e}"))
    }

    fn try_record(&self, include_buffer: bool) -> Result<AgentRecord, AgentError> {
        let mut record = AgentRecord::new();
        record.insert_module("actor.f32", &self.actor);
        record.insert_module("critic.f32", &self.critic);
        record.insert_module("critic_target.f32", &self.critic_target);
        record.insert_module("temperature.f32", &self.temperature);
        record.insert_optim("actor", self.opt_actor.as_ref())?;
        record.insert_optim("critic", self.opt_critic.as_ref())?;
        // `alpha`: the saved format's name for the temperature's optimizer.
        record.insert_optim("alpha", self.opt_temperature.as_ref())?;
        let buffer = include_buffer.then(|| record.insert_buffer(&self.buffer));
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
        record.insert_json("sac.json", &meta);
        Ok(record)
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
        let record = AgentRecord::load_dir(dir)?;
        // Errors name the directory, not the file inside the record.
        Self::from_record(&record, config, optimizers, device).map_err(|e| e.in_dir(dir))
    }

    /// Restore an agent from a [`AgentRecord`], checked against `config` and `optimizers` as
    /// [`Sac::load`] does.
    pub fn from_record(
        record: &AgentRecord,
        config: &SacConfig,
        optimizers: &SacOptimizers,
        device: &Device,
    ) -> Result<Self, AgentError> {
        let meta_path = Path::new("sac.json");
        let meta: Meta = record.json("sac.json")?;
        let bad = |m: String| Err(AgentError::checkpoint(meta_path, m));
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
                "saved with optimizers {:?} (actor, critic, temperature), asked for {wanted:?}",
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
        sac.actor = record.module("actor.f32", sac.actor)?;
        sac.critic = record.module("critic.f32", sac.critic)?;
        sac.critic_target = record.module("critic_target.f32", sac.critic_target)?;
        sac.temperature = record.module("temperature.f32", sac.temperature)?;
        // The optimizers work on plain (non-autodiff) flat vectors.
        record.load_optim("actor", sac.opt_actor.as_mut(), &sac.plain)?;
        record.load_optim("critic", sac.opt_critic.as_mut(), &sac.plain)?;
        record.load_optim("alpha", sac.opt_temperature.as_mut(), &sac.plain)?;
        sac.rng = match meta.rng.restore() {
            Some(rng) => rng,
            None => return bad("unreadable RNG state".into()),
        };
        sac.updates = meta.updates;
        if let Some(b) = &meta.buffer {
            sac.buffer = record.buffer(b, (sac.obs_dim, sac.act_dim), config.buffer_size)?;
        }
        Ok(sac)
    }
}
