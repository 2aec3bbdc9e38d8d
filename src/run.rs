//! A run: several optimizers × seeds on one environment, in parallel jobs, into one run
//! directory (`docs/records.md`). Everything is validated before the directory is created, so
//! bad input leaves nothing behind.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::tensor::Device;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lrfree_envs::make_env;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::error::RunError;
use crate::records::{
    OptimizerResult, RunSummary, SeedSummary, read_json, write_atomic, write_json_atomic,
};
use crate::trainer::run_seed;

/// What a run does (`run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    /// Environment name.
    pub env: String,
    /// Steps per seed.
    pub steps: u64,
    /// Optimizer registry names, in the order given.
    pub optimizers: Vec<String>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The resolved configuration.
    pub config: RunConfig,
}

impl RunPlan {
    /// Check everything that can be checked before any file is written: the configuration,
    /// every optimizer's options, and that the environment can be created (Python and
    /// Gymnasium for a bridged one).
    pub fn validate(&self) -> Result<(), RunError> {
        self.config.validate()?;
        if self.seeds.is_empty() {
            return Err(RunError::Usage(
                "no seeds: give --seeds N (N >= 1) or --seed-list".into(),
            ));
        }
        if self.optimizers.is_empty() {
            return Err(RunError::Usage(
                "no optimizer: give --opt NAME[,NAME...]".into(),
            ));
        }
        for name in &self.optimizers {
            let spec = self.config.optimizer(name)?;
            spec.critic
                .config
                .build()
                .map_err(|e| RunError::Usage(e.to_string()))?;
        }
        let mut env = make_env(&self.config.env, &self.config.kwargs()?)
            .map_err(|e| RunError::Usage(e.to_string()))?;
        env.close().ok();
        Ok(())
    }
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

/// Refuse a `--out` that is a file or a non-empty directory (shared with `sl-train`).
pub fn check_empty_out(out: &Path) -> Result<(), RunError> {
    if out.exists() && !out.is_dir() {
        return Err(RunError::Usage(format!(
            "--out {} exists and is not a directory",
            out.display()
        )));
    }
    if out.is_dir()
        && std::fs::read_dir(out)
            .map_err(|e| RunError::io(out, e))?
            .next()
            .is_some()
    {
        return Err(RunError::Usage(format!(
            "--out {} is not empty; choose another directory",
            out.display()
        )));
    }
    Ok(())
}

/// Create the run directory and write `run.json` and `config.toml`.
pub fn create(out: &Path, plan: &RunPlan) -> Result<(), RunError> {
    std::fs::create_dir_all(out)
        .map_err(|e| RunError::Usage(format!("cannot create --out {}: {e}", out.display())))?;
    write_json_atomic(&out.join("run.json"), plan)?;
    write_atomic(&out.join("config.toml"), plan.config.to_toml().as_bytes())
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
        // one on all rates.
        config
            .entry("temperature_optimizer")
            .or_insert_with(|| crate::config::SAME.into());
        config
            .entry("adam_lr_divergence_bound")
            .or_insert_with(|| f64::MAX.into());
    }
    serde_json::from_value(plan).map_err(|e| RunError::io(&path, e))
}

/// Train every (optimizer, seed) pair with `jobs` in parallel; write the run summary.
/// Seeds that already finished (a resumed run) are read back, not rerun.
pub fn execute(
    out: &Path,
    plan: &RunPlan,
    jobs: usize,
    progress: bool,
) -> Result<RunSummary, RunError> {
    let multi = MultiProgress::with_draw_target(if progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    // `{per_sec:>10}` would take the width as a precision (`132.9275968579/s`): own key.
    let style = ProgressStyle::with_template(
        "{prefix:>20} [{bar:30}] {pos:>8}/{len} {rate:>12} ETA {eta:>6} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&steps_per_second(state.per_sec()));
        },
    )
    .progress_chars("=> ");
    let work: VecDeque<(usize, String, u64)> = plan
        .optimizers
        .iter()
        .flat_map(|o| plan.seeds.iter().map(move |s| (o.clone(), *s)))
        .enumerate()
        .map(|(i, (o, s))| (i, o, s))
        .collect();
    let total = work.len();
    let bars: Vec<ProgressBar> = work
        .iter()
        .map(|(_, o, s)| {
            let bar = multi.add(ProgressBar::new(plan.steps));
            bar.set_style(style.clone());
            bar.set_prefix(format!("{o} seed {s}"));
            bar
        })
        .collect();
    let queue = Mutex::new(work);
    let results: Mutex<Vec<Option<Result<SeedSummary, RunError>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                let device = Device::default().autodiff();
                loop {
                    let Some((i, optimizer, seed)) = queue.lock().expect("queue").pop_front()
                    else {
                        break;
                    };
                    let result = run_seed(&plan.config, out, &optimizer, seed, &device, &bars[i]);
                    if let Err(e) = &result {
                        bars[i].abandon_with_message(format!("error: {e}"));
                    }
                    results.lock().expect("results")[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("results");
    let mut seeds: Vec<SeedSummary> = Vec::new();
    let mut first_error = None;
    for r in results.into_iter().flatten() {
        match r {
            Ok(s) => seeds.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    let summary = RunSummary {
        env: plan.env.clone(),
        steps: plan.steps,
        results: plan
            .optimizers
            .iter()
            .map(|o| {
                OptimizerResult::from_seeds(
                    o,
                    &seeds
                        .iter()
                        .filter(|s| &s.optimizer == o)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .collect(),
    };
    if let Some(e) = first_error {
        // Finished seeds keep their records; the run stays resumable.
        return Err(e);
    }
    write_json_atomic(&out.join("summary.json"), &summary)?;
    let lines: Vec<String> = summary.results.iter().map(OptimizerResult::line).collect();
    write_atomic(
        &out.join("result.txt"),
        (lines.join("\n") + "\n").as_bytes(),
    )?;
    Ok(summary)
}

/// A progress bar's rate as people read it: `133 steps/s`, one decimal below 10, `–` before
/// the first step has a rate.
fn steps_per_second(rate: f64) -> String {
    if !rate.is_finite() || rate <= 0.0 {
        "– steps/s".into()
    } else if rate < 10.0 {
        format!("{rate:.1} steps/s")
    } else {
        format!("{rate:.0} steps/s")
    }
}

/// `runs/<env>-<optimizers>-<UTC date and time>`: a new directory for each run by default.
pub fn default_out(env: &str, optimizers: &[String]) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let opts = if optimizers.len() > 3 {
        format!("{}-optimizers", optimizers.len())
    } else {
        optimizers.join("+")
    };
    PathBuf::from("runs").join(format!(
        "{}-{opts}-{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        env.to_ascii_lowercase().replace(['/', ':'], "_"),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_rate_reads_as_whole_steps_per_second() {
        assert_eq!(steps_per_second(132.927_596_857_9), "133 steps/s");
        assert_eq!(steps_per_second(7.349), "7.3 steps/s");
        assert_eq!(steps_per_second(0.0), "– steps/s");
        assert_eq!(steps_per_second(f64::NAN), "– steps/s");
    }

    /// A run directory from before `temperature_optimizer` and `adam_lr_divergence_bound` had
    /// defaults resumes as it ran: temperature on the run's optimizer, no Adam-units bound.
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
        std::fs::write(dir.join("run.json"), json.to_string()).unwrap();
        let old = load(&dir).unwrap();
        assert_eq!(old.config.temperature_optimizer, crate::config::SAME);
        assert_eq!(
            old.config
                .optimizer("ps-da-sgd")
                .unwrap()
                .alpha
                .config
                .name(),
            "ps-da-sgd"
        );
        assert_eq!(old.config.adam_lr_divergence_bound, f64::MAX);
        // A current run.json keeps its values.
        write_json_atomic(&dir.join("run.json"), &fresh).unwrap();
        assert_eq!(load(&dir).unwrap(), fresh);
        std::fs::remove_dir_all(&dir).ok();
    }
}
