//! A supervised run: optimizers × seeds on one task and model, in parallel jobs, into one run
//! directory (`docs/sl.md`). The configuration, the optimizers and the data are all checked
//! (the data is loaded) before the directory is created, so bad input leaves nothing behind.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::RunError;
use crate::records::{write_atomic, write_json_atomic};
use crate::sl::augment::Normalize;
use crate::sl::config::SlConfig;
use crate::sl::models::{ModelKind, SegNet, check_shape};
use crate::sl::records::{SlOptimizerResult, SlRunSummary, SlSeedSummary};
use crate::sl::train::{Dataset, SeedJob, run_seed};

/// What a run does (`run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlPlan {
    /// Task name.
    pub task: String,
    /// Model name.
    pub model: String,
    /// Epochs of the main phase.
    pub epochs: usize,
    /// Optimizer registry names, in the order given.
    pub optimizers: Vec<String>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The resolved configuration.
    pub config: SlConfig,
}

impl SlPlan {
    /// Check the configuration and every optimizer; load the data and check that the model
    /// takes its images (and that a `pretrained` encoder fits). Returns the data.
    pub fn prepare(&self) -> Result<(Dataset, Normalize), RunError> {
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
            self.config
                .optimizer(name)?
                .config
                .build()
                .map_err(|e| RunError::Usage(e.to_string()))?;
        }
        let data = Dataset::load(&self.config)?;
        let kind = self.config.model_kind()?;
        check_shape(kind, data.shape(), &self.config.model_options).map_err(RunError::Usage)?;
        if let (ModelKind::Segnet, Some(path)) = (kind, &self.config.pretrained) {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
            let model = SegNet::new(
                &mut rng,
                data.shape().c,
                &self.config.model_options.cnn_widths,
                2,
                &Device::default(),
            );
            model.encoder.try_load_file(path).map_err(|e| {
                RunError::Usage(format!(
                    "pretrained encoder {} does not fit this model (cnn_widths {:?}, {} channels): {e:?}",
                    path.display(),
                    self.config.model_options.cnn_widths,
                    data.shape().c
                ))
            })?;
        }
        let norm = Normalize::fit(data.train_images());
        Ok((data, norm))
    }
}

/// Refuse to write into a directory that already holds something.
pub use crate::run::check_empty_out as check_fresh_out;

/// Create the run directory and write `run.json` and `config.toml`.
pub fn create(out: &Path, plan: &SlPlan) -> Result<(), RunError> {
    std::fs::create_dir_all(out)
        .map_err(|e| RunError::Usage(format!("cannot create --out {}: {e}", out.display())))?;
    write_json_atomic(&out.join("run.json"), plan)?;
    write_atomic(&out.join("config.toml"), plan.config.to_toml().as_bytes())
}

/// Train every (optimizer, seed) pair with `jobs` in parallel; write the run summary and
/// `result.txt`.
pub fn execute(
    out: &Path,
    plan: &SlPlan,
    data: &Dataset,
    norm: &Normalize,
    jobs: usize,
) -> Result<SlRunSummary, RunError> {
    let work: VecDeque<(usize, String, u64)> = plan
        .optimizers
        .iter()
        .flat_map(|o| plan.seeds.iter().map(move |s| (o.clone(), *s)))
        .enumerate()
        .map(|(i, (o, s))| (i, o, s))
        .collect();
    let total = work.len();
    let queue = Mutex::new(work);
    let results: Mutex<Vec<Option<Result<SlSeedSummary, RunError>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                let _denormals = burn_lrfree::FlushDenormals::scoped(plan.config.flush_denormals);
                let device = Device::default();
                loop {
                    let Some((i, optimizer, seed)) = queue.lock().expect("queue").pop_front()
                    else {
                        break;
                    };
                    let job = SeedJob {
                        config: &plan.config,
                        data,
                        norm,
                        run_dir: out,
                        optimizer: &optimizer,
                        seed,
                    };
                    let result = run_seed(&job, &device);
                    results.lock().expect("results")[i] = Some(result);
                }
            });
        }
    });
    let mut seeds = Vec::new();
    let mut first_error = None;
    for r in results.into_inner().expect("results").into_iter().flatten() {
        match r {
            Ok(s) => seeds.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let segmentation = seeds.iter().any(|s| s.final_test_miou.is_some());
    let summary = SlRunSummary {
        task: plan.task.clone(),
        model: plan.model.clone(),
        epochs: plan.epochs,
        metric: if segmentation {
            "test_miou"
        } else {
            "test_accuracy"
        }
        .into(),
        results: plan
            .optimizers
            .iter()
            .map(|o| {
                SlOptimizerResult::from_seeds(
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
    write_json_atomic(&out.join("summary.json"), &summary)?;
    let lines: Vec<String> = summary
        .results
        .iter()
        .map(SlOptimizerResult::line)
        .collect();
    write_atomic(
        &out.join("result.txt"),
        (lines.join("\n") + "\n").as_bytes(),
    )?;
    Ok(summary)
}
