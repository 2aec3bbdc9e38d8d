//! The replay buffer: a ring of flat `f32` arrays, sampled uniformly.
//!
//! Each field is one contiguous `Vec<f32>` of `capacity × width` values, allocated once, so a
//! million Humanoid transitions take `(2·348 + 17 + 2) · 4` bytes each ≈ 2.9 GB and no more:
//! no per-transition allocation.

use rand::Rng;

/// A mini-batch in row-major host arrays, ready to upload as tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Rows in this batch.
    pub size: usize,
    /// `[size, obs_dim]`
    pub obs: Vec<f32>,
    /// `[size, act_dim]`
    pub actions: Vec<f32>,
    /// `[size]`
    pub rewards: Vec<f32>,
    /// `[size, obs_dim]`
    pub next_obs: Vec<f32>,
    /// `[size]`, 1.0 where the episode terminated (no bootstrap), else 0.0.
    pub terminated: Vec<f32>,
}

/// Fixed-capacity ring buffer of transitions `(s, a, r, s', terminated)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    obs_dim: usize,
    act_dim: usize,
    capacity: usize,
    /// Next slot to write.
    pos: usize,
    /// Filled slots (≤ capacity).
    len: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    next_obs: Vec<f32>,
    terminated: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer; its resident memory grows as it fills, up to `capacity` transitions.
    pub fn new(obs_dim: usize, act_dim: usize, capacity: usize) -> Self {
        assert!(capacity > 0, "replay capacity must be positive");
        Self {
            obs_dim,
            act_dim,
            capacity,
            pos: 0,
            len: 0,
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            next_obs: Vec::new(),
            terminated: Vec::new(),
        }
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// `(obs_dim, act_dim)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.obs_dim, self.act_dim)
    }

    /// Store one transition, overwriting the oldest when full. Slices must have the buffer's
    /// widths (checked by the caller, [`Sac::observe`](crate::Sac::observe)).
    pub fn push(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    ) {
        debug_assert_eq!(
            (obs.len(), action.len(), next_obs.len()),
            (self.obs_dim, self.act_dim, self.obs_dim)
        );
        let term = if terminated { 1.0 } else { 0.0 };
        if self.len < self.capacity && self.pos == self.len {
            // Still filling: append. The arrays are reserved for the whole capacity at once;
            // the OS backs the pages only as they are written, so resident memory grows with
            // the data and nothing is copied to grow (doubling peaked at 1.5x the final size
            // while the old and the new copy coexisted).
            if self.rewards.capacity() < self.capacity {
                self.reserve(self.capacity - self.rewards.len());
            }
            self.obs.extend_from_slice(obs);
            self.actions.extend_from_slice(action);
            self.rewards.push(reward);
            self.next_obs.extend_from_slice(next_obs);
            self.terminated.push(term);
            self.len += 1;
        } else {
            let i = self.pos;
            self.obs[i * self.obs_dim..(i + 1) * self.obs_dim].copy_from_slice(obs);
            self.actions[i * self.act_dim..(i + 1) * self.act_dim].copy_from_slice(action);
            self.rewards[i] = reward;
            self.next_obs[i * self.obs_dim..(i + 1) * self.obs_dim].copy_from_slice(next_obs);
            self.terminated[i] = term;
        }
        self.pos = (self.pos + 1) % self.capacity;
    }

    fn reserve(&mut self, rows: usize) {
        self.obs.reserve_exact(rows * self.obs_dim);
        self.actions.reserve_exact(rows * self.act_dim);
        self.rewards.reserve_exact(rows);
        self.next_obs.reserve_exact(rows * self.obs_dim);
        self.terminated.reserve_exact(rows);
    }

    /// `batch_size` transitions drawn uniformly with replacement (as CleanRL/SB3).
    ///
    /// # Panics
    /// If the buffer is empty.
    pub fn sample<R: Rng + ?Sized>(&self, batch_size: usize, rng: &mut R) -> Batch {
        assert!(self.len > 0, "cannot sample from an empty replay buffer");
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut batch = Batch {
            size: batch_size,
            obs: Vec::with_capacity(batch_size * o),
            actions: Vec::with_capacity(batch_size * a),
            rewards: Vec::with_capacity(batch_size),
            next_obs: Vec::with_capacity(batch_size * o),
            terminated: Vec::with_capacity(batch_size),
        };
        for _ in 0..batch_size {
            let i = rng.random_range(0..self.len);
            batch.obs.extend_from_slice(&self.obs[i * o..(i + 1) * o]);
            batch
                .actions
                .extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            batch.rewards.push(self.rewards[i]);
            batch
                .next_obs
                .extend_from_slice(&self.next_obs[i * o..(i + 1) * o]);
            batch.terminated.push(self.terminated[i]);
        }
        batch
    }

    /// Write position, for checkpoints.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The stored arrays in a fixed order (obs, actions, rewards, next_obs, terminated), each
    /// `len` rows, for checkpoints.
    pub(crate) fn arrays(&self) -> [&[f32]; 5] {
        [
            &self.obs,
            &self.actions,
            &self.rewards,
            &self.next_obs,
            &self.terminated,
        ]
    }

    /// Rebuild from [`arrays`](Self::arrays) and the write position; `None` if they do not fit.
    pub(crate) fn from_arrays(
        obs_dim: usize,
        act_dim: usize,
        capacity: usize,
        pos: usize,
        arrays: [Vec<f32>; 5],
    ) -> Option<Self> {
        let [obs, actions, rewards, next_obs, terminated] = arrays;
        let len = rewards.len();
        let fits = len <= capacity
            && pos < capacity
            && (len == capacity || pos == len % capacity)
            && obs.len() == len * obs_dim
            && next_obs.len() == len * obs_dim
            && actions.len() == len * act_dim
            && terminated.len() == len;
        fits.then_some(Self {
            obs_dim,
            act_dim,
            capacity,
            pos,
            len,
            obs,
            actions,
            rewards,
            next_obs,
            terminated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn push_id(buf: &mut ReplayBuffer, id: f32) {
        buf.push(
            &[id, -id],
            &[id * 10.0],
            id,
            &[id + 0.5, 0.0],
            id as i64 % 2 == 0,
        );
    }

    #[test]
    fn ring_wraps_around_and_keeps_newest() {
        let mut buf = ReplayBuffer::new(2, 1, 5);
        for id in 0..5 {
            push_id(&mut buf, id as f32);
        }
        assert_eq!((buf.len(), buf.pos()), (5, 0));
        for id in 5..8 {
            push_id(&mut buf, id as f32);
        }
        assert_eq!((buf.len(), buf.pos()), (5, 3));
        // Slots 0..3 hold 5, 6, 7; slots 3..5 still hold 3, 4.
        assert_eq!(buf.rewards, vec![5.0, 6.0, 7.0, 3.0, 4.0]);
        assert_eq!(
            buf.obs,
            vec![5.0, -5.0, 6.0, -6.0, 7.0, -7.0, 3.0, -3.0, 4.0, -4.0]
        );
        assert_eq!(buf.actions, vec![50.0, 60.0, 70.0, 30.0, 40.0]);
        assert_eq!(buf.next_obs[..2], [5.5, 0.0]);
        assert_eq!(buf.terminated, vec![0.0, 1.0, 0.0, 0.0, 1.0]);
        // Memory stays at the raw size: capacity rows, no more.
        assert_eq!(buf.obs.capacity(), 10);
        // A sampled row is always one consistent transition.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let b = buf.sample(64, &mut rng);
        for r in 0..64 {
            let id = b.rewards[r];
            assert!((3.0..8.0).contains(&id));
            assert_eq!(b.obs[2 * r..2 * r + 2], [id, -id]);
            assert_eq!(b.actions[r], id * 10.0);
            assert_eq!(b.next_obs[2 * r], id + 0.5);
            assert_eq!(b.terminated[r], if id as i64 % 2 == 0 { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn growth_stays_within_capacity() {
        let mut buf = ReplayBuffer::new(3, 2, 3000);
        for id in 0..3000 {
            push_id3(&mut buf, id as f32);
        }
        assert_eq!(buf.len(), 3000);
        assert!(buf.obs.capacity() <= 3000 * 3, "{}", buf.obs.capacity());
        assert!(buf.rewards.capacity() <= 3000);
        fn push_id3(buf: &mut ReplayBuffer, id: f32) {
            buf.push(&[id; 3], &[id; 2], id, &[id; 3], false);
        }
    }

    #[test]
    fn sampling_is_uniform() {
        let n = 10;
        let mut buf = ReplayBuffer::new(2, 1, n);
        for id in 0..n + 3 {
            push_id(&mut buf, id as f32);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = vec![0usize; n + 3];
        let draws = 50_000;
        for _ in 0..draws / 250 {
            for r in buf.sample(250, &mut rng).rewards {
                counts[r as usize] += 1;
            }
        }
        // Overwritten transitions 0, 1, 2 are never drawn; the others ≈ draws / n each.
        assert_eq!(counts[..3], [0, 0, 0]);
        let expected = draws as f64 / n as f64;
        // Chi-square with n − 1 = 9 degrees of freedom: 99.9% quantile is 27.9.
        let chi2: f64 = counts[3..]
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 27.9, "chi2 = {chi2}, counts = {counts:?}");
    }

    #[test]
    fn round_trip_through_arrays() {
        let mut buf = ReplayBuffer::new(2, 1, 4);
        for id in 0..6 {
            push_id(&mut buf, id as f32);
        }
        let arrays = buf.arrays().map(|a| a.to_vec());
        let back = ReplayBuffer::from_arrays(2, 1, 4, buf.pos(), arrays.clone()).unwrap();
        assert_eq!(back, buf);
        let mut short = arrays;
        short[0].pop();
        assert!(ReplayBuffer::from_arrays(2, 1, 4, buf.pos(), short).is_none());
    }
}
