//! A run: several optimizers × seeds on one environment, in parallel jobs, into one run
//! directory (`docs/records.md`). Everything is validated before the directory is created, so
//! bad input leaves nothing behind.

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use lrfree_device::DeviceChoice;
use lrfree_envs::make_env;
use lrfree_runkit::RunError;
use lrfree_runkit::files::{
    check_empty_out, create_run_dir, read_json, write_json_atomic, write_lines_atomic,
};
use lrfree_runkit::pool::{Pool, Throughput, check_jobs};
use lrfree_runkit::records::rl::{RunSummary, SeedSummary};

use crate::config::RunConfig;
use crate::trainer::{Trained, run_seed};

/// What a run does (`run.json`): the environment, steps, optimizers, seeds and the resolved
/// configuration.
pub type RunPlan = lrfree_runkit::records::rl::RunPlan<RunConfig>;

/// Check everything that can be checked before any file is written: the configuration,
/// every optimizer's options, and that the environment can be created (Python and Gymnasium
/// for a bridged one).
pub fn validate(plan: &RunPlan) -> Result<(), RunError> {
    plan.config.validate()?;
    check_jobs(&plan.optimizers, &plan.seeds)?;
    for name in &plan.optimizers {
        let resolved = plan.config.plan(name)?;
        resolved
            .optimizers
            .critic
            .config
            .build()
            .map_err(|e| RunError::Usage(e.to_string()))?;
    }
    let mut env = make_env(&plan.config.env, &plan.config.kwargs()?)
        .map_err(|e| RunError::Usage(e.to_string()))?;
    // The agent's options are checked by building one (tiny next to a run).
    if let Some(name) = plan.optimizers.first() {
        let space = env.action_space();
        let dims = (env.observation_space().dim(), space.low(), space.high());
        let optimizers = plan.config.plan(name)?.optimizers;
        crate::trainer::new_agent(&plan.config, dims, &optimizers, 0, &Device::default())
            .map_err(|e| RunError::Usage(e.to_string()))?;
    }
    env.close().ok();
    Ok(())
}

/// Refuse to write into a directory that already holds something, unless resuming.
pub fn check_fresh_out(out: &Path) -> Result<(), RunError> {
    if out.join("run.json").exists() {
        return Err(RunError::Usage(format!(
            "{} already holds a run: add --resume to continue it, or choose another --out",
            out.display()
        )));
    }
    check_empty_out(out)
}

/// Create the run directory and write `run.json` and `config.toml`.
pub fn create(out: &Path, plan: &RunPlan) -> Result<(), RunError> {
    create_run_dir(out, plan, &plan.config.to_toml())
}

/// Read the plan of an existing run directory (for `--resume`).
pub fn load(out: &Path) -> Result<RunPlan, RunError> {
    let path = out.join("run.json");
    if !path.exists() {
        return Err(RunError::Usage(format!(
            "{} holds no run to resume (no run.json)",
            out.display()
        )));
    }
    let mut plan: serde_json::Value = read_json(&path)?;
    if let Some(config) = plan.get_mut("config").and_then(|c| c.as_object_mut()) {
        // Run directories written before these keys had defaults resume as they ran: the
        // temperature on the run's own optimizer, no bound on Adam-equivalent rates but the
        // one on all rates, on the CPU (there were no CUDA runs before `device`).
        config
            .entry("device")
            .or_insert_with(|| DeviceChoice::Cpu.name().into());
        config
            .entry("temperature_optimizer")
            .or_insert_with(|| crate::config::SAME.into());
        config
            .entry("adam_lr_divergence_bound")
            .or_insert_with(|| f64::MAX.into());
    }
    serde_json::from_value(plan).map_err(|e| RunError::io(&path, e))
}

/// Train every (optimizer, seed) pair with `jobs` in parallel on `device` (autodiff is added
/// here; [`crate::device::open`] gives it); write the run summary.
/// Seeds that already finished (a resumed run) are read back, not rerun.
pub fn execute(
    out: &Path,
    plan: &RunPlan,
    jobs: usize,
    progress: bool,
    device: &Device,
) -> Result<(RunSummary, Throughput), RunError> {
    let started = Instant::now();
    // Finished seeds keep their records when another fails; the run stays resumable.
    let trained = train_seeds(
        out,
        plan,
        (&plan.optimizers, &plan.seeds),
        jobs,
        progress,
        device,
    )?;
    let throughput = Throughput {
        wall: started.elapsed(),
        jobs: trained.len(),
        threads: pool(plan, jobs, progress).threads_for(trained.len()),
        steps: Some(trained.iter().map(|t| t.env_steps).sum()),
    };
    let seeds: Vec<SeedSummary> = trained.into_iter().map(|t| t.summary).collect();
    let summary = RunSummary::from_seeds(&plan.env, plan.steps, &plan.optimizers, &seeds);
    write_json_atomic(&out.join("summary.json"), &summary)?;
    write_lines_atomic(&out.join("result.txt"), &summary.lines())?;
    Ok((summary, throughput))
}

/// The pool that trains `plan`'s cells, `jobs` at a time.
fn pool(plan: &RunPlan, jobs: usize, progress: bool) -> Pool {
    Pool {
        threads: jobs,
        bar_len: plan.steps,
        draw: progress,
    }
}

/// Train the cells `optimizers × seeds` of `plan` into `out`, `jobs` at a time, on `device`
/// with autodiff: from a checkpoint where there is one, read back where finished. Shared by a
/// whole run and a suite task (`crate::tasks`).
pub(crate) fn train_seeds(
    out: &Path,
    plan: &RunPlan,
    (optimizers, seeds): (&[String], &[u64]),
    jobs: usize,
    progress: bool,
    device: &Device,
) -> Result<Vec<Trained>, RunError> {
    pool(plan, jobs, progress).run(
        optimizers,
        seeds,
        || device.clone().autodiff(),
        |device, job, bar| run_seed(&plan.config, out, &job.optimizer, job.seed, device, bar),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run directory from before `temperature_optimizer`, `adam_lr_divergence_bound` and
    /// `device` had defaults resumes as it ran: temperature on the run's optimizer, no
    /// Adam-units bound, on the CPU (also in a `cuda` build).
    #[test]
    fn an_old_run_directory_resumes_with_its_old_meaning() {
        let dir = std::env::temp_dir().join(format!("lrfree-old-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = RunConfig::builtin("Pendulum").unwrap();
        let plan = RunPlan {
            env: "Pendulum".into(),
            steps: 100,
            optimizers: vec!["ps-da-sgd".into()],
            seeds: vec![0],
            config,
        };
        let mut json = serde_json::to_value(&plan).unwrap();
        let fresh: RunPlan = serde_json::from_value(json.clone()).unwrap();
        json["config"]
            .as_object_mut()
            .unwrap()
            .remove("temperature_optimizer");
        json["config"]
            .as_object_mut()
            .unwrap()
            .remove("adam_lr_divergence_bound");
        json["config"].as_object_mut().unwrap().remove("device");
        std::fs::write(dir.join("run.json"), json.to_string()).unwrap();
        let old = load(&dir).unwrap();
        assert_eq!(old.config.temperature_optimizer, crate::config::SAME);
        assert_eq!(
            old.config
                .plan("ps-da-sgd")
                .unwrap()
                .optimizers
                .temperature
                .config
                .name(),
            "ps-da-sgd"
        );
        assert_eq!(old.config.adam_lr_divergence_bound, f64::MAX);
        assert_eq!(old.config.device, DeviceChoice::Cpu);
        // A current run.json keeps its values.
        write_json_atomic(&dir.join("run.json"), &fresh).unwrap();
        assert_eq!(load(&dir).unwrap(), fresh);
        std::fs::remove_dir_all(&dir).ok();
    }
}
