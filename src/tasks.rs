//! A suite as a list of tasks, one (optimizer, seed) cell each, for cluster job arrays
//! (`--list-tasks`, `--task K`; docs/cluster.md).
//!
//! Order: optimizer-major, in the suite's optimizer order, then its seeds in order; task
//! `K = i_optimizer · seeds + i_seed`. It is stable for a given suite file and flags.
//!
//! Tasks of one suite run concurrently against one shared run directory. The run-level files
//! (`run.json`, `config.toml`) are written once, by whichever task comes first, as whole
//! files that cannot be half-written or overwritten; every later task checks that they
//! describe its own suite and refuses otherwise. Each task writes only its seed directory,
//! under a per-cell lock ([`lrfree_runkit::lock`]). A task killed and started again continues
//! from its last checkpoint, as `--resume` does; a finished one is read back, not rerun.
//! The run-level summary is `rl-report`'s job once all tasks are done.

use std::path::Path;

use burn::tensor::Device;
use lrfree_runkit::RunError;
use lrfree_runkit::files::{write_atomic, write_new};
use lrfree_runkit::lock::TaskLock;
use lrfree_runkit::records::rl::SeedSummary;

use crate::run::{self, RunPlan};

/// One cell of a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its index, `K` of `--task K`.
    pub index: usize,
    /// The optimizer.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
}

/// The suite's tasks in their documented order.
pub fn tasks(plan: &RunPlan) -> Vec<Task> {
    plan.optimizers
        .iter()
        .flat_map(|o| plan.seeds.iter().map(move |s| (o.clone(), *s)))
        .enumerate()
        .map(|(index, (optimizer, seed))| Task {
            index,
            optimizer,
            seed,
        })
        .collect()
}

/// `--task K` or `--task auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskArg {
    /// Task K.
    Index(usize),
    /// The index the job array's engine gives ([`lrfree_runkit::array`]).
    Auto,
}

impl TaskArg {
    /// The argument parser's reading of `K` or `auto`.
    pub fn parse(arg: &str) -> Result<Self, String> {
        if arg == "auto" {
            return Ok(Self::Auto);
        }
        arg.parse()
            .map(Self::Index)
            .map_err(|_| "a task index (0, 1, ...) or auto".to_string())
    }

    /// The task index: K, or the engine's (a usage error when no engine gives one).
    pub fn index(self) -> Result<usize, RunError> {
        match self {
            Self::Index(k) => Ok(k),
            Self::Auto => match lrfree_runkit::array::from_env() {
                Ok(Some(task)) => Ok(task.index),
                Ok(None) => Err(RunError::Usage(format!(
                    "--task auto found no task index: set {}, or run in a Kubernetes Indexed \
                     Job ({}) or a Slurm job array ({})",
                    lrfree_runkit::array::TASK_ID,
                    lrfree_runkit::array::K8S_INDEX,
                    lrfree_runkit::array::SLURM_INDEX
                ))),
                Err(e) => Err(RunError::Usage(format!("--task auto: {e}"))),
            },
        }
    }
}

/// Task `k`, or a usage error naming the valid range.
pub fn task(plan: &RunPlan, k: usize) -> Result<Task, RunError> {
    let all = tasks(plan);
    let n = all.len();
    all.into_iter().nth(k).ok_or_else(|| {
        RunError::Usage(format!(
            "--task {k} is out of range: this suite has {n} tasks, 0 to {}",
            n.saturating_sub(1)
        ))
    })
}

/// The plan as stored and compared: the device is each task's own (one node may have a GPU,
/// another not), so it is left out of the comparison.
fn comparable(plan: &RunPlan) -> Result<serde_json::Value, RunError> {
    let mut value = serde_json::to_value(plan).map_err(|e| RunError::Usage(e.to_string()))?;
    if let Some(config) = value.get_mut("config").and_then(|c| c.as_object_mut()) {
        config.remove("device");
    }
    Ok(value)
}

/// Create the suite's run directory if no task has yet, else check that it holds this very
/// suite. Nothing is written when the check fails.
pub fn join_run_dir(out: &Path, plan: &RunPlan) -> Result<(), RunError> {
    if !out.join("run.json").exists() {
        std::fs::create_dir_all(out)
            .map_err(|e| RunError::Usage(format!("cannot create --out {}: {e}", out.display())))?;
        // config.toml first: run.json's presence means the directory is complete.
        write_new(&out.join("config.toml"), plan.config.to_toml().as_bytes())?;
        let json =
            serde_json::to_string_pretty(plan).map_err(|e| RunError::Usage(e.to_string()))?;
        if write_new(&out.join("run.json"), json.as_bytes())? {
            // This task created the run: its config.toml is the one that stays (a task of
            // another suite racing it may have written the first one, and is then refused).
            write_atomic(&out.join("config.toml"), plan.config.to_toml().as_bytes())?;
            return Ok(());
        }
    }
    let stored = run::load(out)?;
    if comparable(&stored)? != comparable(plan)? {
        return Err(RunError::Usage(format!(
            "{} holds a different suite (its run.json differs from this suite file and flags: \
             changed steps, optimizers, seeds or settings?); these tasks would not belong to one \
             experiment: use another out directory",
            out.display()
        )));
    }
    Ok(())
}

/// Take task `task`'s cell lock in `out` (a usage error if another live process holds it);
/// hold it while [`run_task`] trains.
pub fn lock_cell(out: &Path, task: &Task) -> Result<TaskLock, RunError> {
    let dir = out.join(&task.optimizer);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    TaskLock::acquire(
        &dir.join(format!(".seed-{}.lock", task.seed)),
        &format!(
            "task {} ({} seed {})",
            task.index, task.optimizer, task.seed
        ),
    )
}

/// Train task `task` into `out` (joined, its cell locked) on `device`: from its last
/// checkpoint if it has one, read back if it is finished.
pub fn run_task(
    out: &Path,
    plan: &RunPlan,
    task: &Task,
    progress: bool,
    device: &Device,
) -> Result<SeedSummary, RunError> {
    let mut seeds = run::train_seeds(
        out,
        plan,
        (std::slice::from_ref(&task.optimizer), &[task.seed]),
        1,
        progress,
        device,
    )?;
    seeds
        .pop()
        .map(|trained| trained.summary)
        .ok_or_else(|| RunError::Usage(format!("task {} produced no result", task.index)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    fn plan(optimizers: &[&str], seeds: &[u64]) -> RunPlan {
        let config = RunConfig::builtin("Pendulum").unwrap();
        RunPlan {
            env: config.env.clone(),
            steps: config.steps,
            optimizers: optimizers.iter().map(|s| s.to_string()).collect(),
            seeds: seeds.to_vec(),
            config,
        }
    }

    #[test]
    fn tasks_are_optimizer_major_and_out_of_range_is_a_usage_error() {
        let p = plan(&["sgd", "adam"], &[3, 5, 7]);
        let got: Vec<(usize, String, u64)> = tasks(&p)
            .into_iter()
            .map(|t| (t.index, t.optimizer, t.seed))
            .collect();
        let want: Vec<(usize, String, u64)> = [
            ("sgd", 3),
            ("sgd", 5),
            ("sgd", 7),
            ("adam", 3),
            ("adam", 5),
            ("adam", 7),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (o, s))| (i, o.to_string(), s))
        .collect();
        assert_eq!(got, want);
        assert_eq!(task(&p, 4).unwrap().optimizer, "adam");
        let err = task(&p, 6).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("6 tasks, 0 to 5"), "{err}");
    }

    #[test]
    fn the_first_task_creates_the_directory_and_a_changed_suite_is_refused() {
        let out = std::env::temp_dir().join(format!("rl-tasks-join-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let p = plan(&["adam"], &[0, 1]);
        join_run_dir(&out, &p).unwrap();
        let run_json = std::fs::read(out.join("run.json")).unwrap();
        // A second task of the same suite joins; the device does not matter.
        let mut same = p.clone();
        same.config.device = lrfree_device::DeviceChoice::Cuda;
        join_run_dir(&out, &same).unwrap();
        // A changed suite is refused and leaves the directory as it was.
        let mut changed = p.clone();
        changed.steps += 1;
        assert_eq!(join_run_dir(&out, &changed).unwrap_err().exit_code(), 2);
        assert_eq!(std::fs::read(out.join("run.json")).unwrap(), run_json);
        std::fs::remove_dir_all(&out).ok();
    }
}
