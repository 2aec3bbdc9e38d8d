//! A supervised run: optimizers × seeds on one task and model, in parallel jobs, into one run
//! directory (`docs/sl.md`). The configuration, the optimizers and the data are all checked
//! (the data is loaded) before the directory is created, so bad input leaves nothing behind.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use lrfree_runkit::RunError;
use lrfree_runkit::files::{create_run_dir, write_json_atomic, write_lines_atomic};
use lrfree_runkit::pool::{Pool, Throughput, check_jobs};
use lrfree_runkit::records::sl::{SlRunSummary, SlSeedSummary};

use crate::augment::Normalize;
use crate::config::SlConfig;
use crate::models::{ModelKind, SegNet, check_shape};
use crate::train::{Dataset, SeedJob, run_seed};

/// What a run does (`run.json`): task, model, epochs, optimizers, seeds and the resolved
/// configuration.
pub type SlPlan = lrfree_runkit::records::sl::SlPlan<SlConfig>;

/// Check the configuration and every optimizer; load the data and check that the model takes
/// its images (and that a `pretrained` encoder fits). Returns the data.
pub fn prepare(plan: &SlPlan) -> Result<(Dataset, Normalize), RunError> {
    plan.config.validate()?;
    check_jobs(&plan.optimizers, &plan.seeds)?;
    for name in &plan.optimizers {
        plan.config
            .optimizer(name)?
            .config
            .build()
            .map_err(|e| RunError::Usage(e.to_string()))?;
    }
    let data = Dataset::load(&plan.config)?;
    let kind = plan.config.model_kind()?;
    check_shape(kind, data.shape(), &plan.config.model_options).map_err(RunError::Usage)?;
    if let (ModelKind::Segnet, Some(path)) = (kind, &plan.config.pretrained) {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let model = SegNet::new(
            &mut rng,
            data.shape().c,
            &plan.config.model_options.cnn_widths,
            2,
            &Device::flex(),
        );
        model.encoder.try_load_file(path).map_err(|e| {
            RunError::Usage(format!(
                "pretrained encoder {} does not fit this model (cnn_widths {:?}, {} channels): {e:?}",
                path.display(),
                plan.config.model_options.cnn_widths,
                data.shape().c
            ))
        })?;
    }
    let norm = Normalize::fit(data.train_images());
    Ok((data, norm))
}

/// Create the run directory and write `run.json` and `config.toml`.
pub fn create(out: &Path, plan: &SlPlan) -> Result<(), RunError> {
    create_run_dir(out, plan, &plan.config.to_toml())
}

/// Train every (optimizer, seed) pair with `jobs` in parallel on `device` (from
/// [`crate::device::open`]); write the run summary and `result.txt`.
pub fn execute(
    out: &Path,
    plan: &SlPlan,
    data: &Dataset,
    norm: &Normalize,
    jobs: usize,
    device: &Device,
) -> Result<(SlRunSummary, Throughput), RunError> {
    let started = Instant::now();
    let pool = Pool {
        threads: jobs,
        bar_len: plan.epochs,
        // Each seed prints a line per epoch instead.
        draw: false,
    };
    let seeds: Vec<SlSeedSummary> = pool.run(
        &plan.optimizers,
        &plan.seeds,
        || {
            (
                burn_lrfree::internals::FlushDenormals::scoped(plan.config.flush_denormals),
                device.clone(),
            )
        },
        |(_, device), job, _| {
            let job = SeedJob {
                config: &plan.config,
                data,
                norm,
                run_dir: out,
                optimizer: &job.optimizer,
                seed: job.seed,
            };
            run_seed(&job, device)
        },
    )?;
    let throughput = Throughput {
        wall: started.elapsed(),
        jobs: seeds.len(),
        threads: pool.threads_for(seeds.len()),
        steps: None,
    };
    let summary = SlRunSummary::from_seeds(
        &plan.task,
        &plan.model,
        plan.epochs,
        &plan.optimizers,
        &seeds,
    );
    write_json_atomic(&out.join("summary.json"), &summary)?;
    write_lines_atomic(&out.join("result.txt"), &summary.lines())?;
    Ok((summary, throughput))
}
