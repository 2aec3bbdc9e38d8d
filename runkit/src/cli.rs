//! Command-line arguments both runners take, so `rl-train` and `sl-train` read them alike.

/// `--seeds N` / `--seed-list A,B,…`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Number of seeds (0..N).
    #[arg(long, conflicts_with = "seed_list")]
    pub seeds: Option<u64>,
    /// Explicit seeds, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub seed_list: Vec<u64>,
}

impl SeedArgs {
    /// The explicit list, else seeds `0..N` with N from `--seeds` or `default_count`.
    pub fn resolve(&self, default_count: u64) -> Vec<u64> {
        if self.seed_list.is_empty() {
            (0..self.seeds.unwrap_or(default_count)).collect()
        } else {
            self.seed_list.clone()
        }
    }
}

/// A count that must be at least 1 (`--jobs`): refused by the argument parser with its message.
pub fn at_least_one(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The number of CPU cores, the default of `--jobs`.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_the_list_else_zero_to_n() {
        let args = |seeds, seed_list: Vec<u64>| SeedArgs { seeds, seed_list };
        assert_eq!(args(None, vec![]).resolve(2), [0, 1]);
        assert_eq!(args(Some(3), vec![]).resolve(1), [0, 1, 2]);
        assert_eq!(args(None, vec![7, 3]).resolve(1), [7, 3]);
        assert_eq!(at_least_one("2"), Ok(2));
        assert_eq!(at_least_one("0").unwrap_err(), "must be at least 1");
        assert!(at_least_one("x").is_err());
    }
}
