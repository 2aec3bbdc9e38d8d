//! Replay golden reference trajectories and report the drift.
//!
//! ```text
//! cargo run --release --example golden -- ../../shared/golden/*.json
//! ```
//! Prints, per file, the largest relative errors of parameters, loss, learning-rate estimate
//! and D, and exits non-zero if any recommended check (1e-9) fails or a file cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::Device;
use burn_lrfree::internals::golden::{GoldenFile, TOLERANCE, replay};

fn main() -> ExitCode {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!(
            "usage: golden FILE.json...   (lrfree-golden/1 files, e.g. ../../shared/golden/*.json)"
        );
        return ExitCode::from(2);
    }
    let device = Device::default().autodiff();
    let mut failed = 0;
    println!(
        "{:<28} {:>5} {:>10} {:>10} {:>10} {:>10} {:>10}  result",
        "file", "steps", "params", "loss", "lr_est", "d", "first10"
    );
    for path in &files {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match GoldenFile::load(path).and_then(|file| replay(&file, &device)) {
            Ok(drift) => {
                let ok = drift.passes();
                failed += usize::from(!ok);
                println!(
                    "{name:<28} {:>5} {:>10.2e} {:>10.2e} {:>10.2e} {:>10.2e} {:>10.2e}  {}",
                    drift.steps,
                    drift.params,
                    drift.loss,
                    drift.lr_estimate,
                    drift.d,
                    drift.first_10,
                    if ok { "ok" } else { "FAIL" }
                );
                for m in drift.kind_mismatches.iter().take(3) {
                    println!("    {m}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("{name:<28} error: {e}");
            }
        }
    }
    println!(
        "{} passed, {} failed (tolerance {TOLERANCE:e})",
        files.len() - failed,
        failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
