//! Synthetic records of all eleven optimizers × 5 seeds on a Pendulum-like task, then the
//! figures and the report: a look at the full-size output before real runs exist.
//!
//! `cargo run --release -p lrfree-plots --example demo -- /tmp/demo-run`

use std::fmt::Write as _;
use std::path::PathBuf;

use lrfree_plots::palette::NAMES;
use lrfree_plots::{PlotOptions, build_report, write_plots};

/// A small deterministic generator (no dependency needed for fake data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "demo-run".into()));
    std::fs::create_dir_all(&dir)?;
    let steps = 20_000u64;
    std::fs::write(
        dir.join("run.json"),
        format!(r#"{{"env": "Pendulum", "steps": {steps}, "optimizers": [], "seeds": []}}"#),
    )?;
    for (k, opt) in NAMES.iter().enumerate() {
        for seed in 0..5u64 {
            let mut rng = Lcg(k as u64 * 1000 + seed + 1);
            let skill = 0.3 + 0.7 * (k as f64 / 10.0) + 0.1 * rng.next();
            // Prodigy always, D-Adapt Adam on two seeds: the estimate runs away.
            let runaway = *opt == "prodigy" || (*opt == "dadapt-adam" && seed < 2);
            let base = 10f64.powf(-3.5 + 2.0 * rng.next());
            let mut csv = String::from(
                "step,event,episode_return,episode_length,eval_mean,eval_std,critic_loss,actor_loss,alpha_loss,alpha,critic_lr,critic_d,actor_lr,actor_d,alpha_lr,alpha_d\n",
            );
            let mut diverged_at = None;
            let mut last_eval = None;
            for step in (100..=steps).step_by(100) {
                let t = step as f64 / steps as f64;
                let level = -1400.0 + 1250.0 * (skill * t * 3.0).min(1.0);
                if step % 200 == 0 {
                    writeln!(
                        csv,
                        "{step},episode,{},200,,,,,,,,,,,,",
                        level - 150.0 * rng.next()
                    )?;
                }
                if step % 2000 == 0 {
                    let r = level - 60.0 * rng.next();
                    writeln!(csv, "{step},eval,,,{r},12.0,,,,,,,,,,")?;
                    last_eval = Some(r);
                }
                if step >= 1000 {
                    let lr = if runaway {
                        base * 10f64.powf(8.0 * t)
                    } else {
                        base * (1.0 + 3.0 * t)
                    };
                    if lr > 1e3 {
                        writeln!(
                            csv,
                            "{step},update,,,,,inf,1.0,0.1,0.2,inf,,{},,{},",
                            lr / 3.0,
                            lr / 10.0
                        )?;
                        diverged_at = Some(step);
                        break;
                    }
                    writeln!(
                        csv,
                        "{step},update,,,,,1.5,-2.0,0.1,0.2,{lr},,{},,{},",
                        lr / 3.0,
                        lr / 10.0
                    )?;
                }
            }
            let seed_dir = dir.join(opt).join(format!("seed-{seed}"));
            std::fs::create_dir_all(&seed_dir)?;
            std::fs::write(seed_dir.join("metrics.csv"), csv)?;
            let div = diverged_at.map_or("null".to_string(), |s| {
                format!(r#"{{"step": {s}, "reason": "critic lr estimate exceeds the bound 1e3"}}"#)
            });
            let fin = last_eval.map_or("null".to_string(), |r| r.to_string());
            let success = diverged_at.is_none() && last_eval.is_some_and(|r| r > -250.0);
            std::fs::write(
                seed_dir.join("summary.json"),
                format!(
                    r#"{{"optimizer": "{opt}", "seed": {seed}, "env": "Pendulum", "steps": {steps}, "steps_done": {}, "complete": true, "final_eval_return": {fin}, "success": {success}, "diverged": {}, "divergence": {div}}}"#,
                    diverged_at.unwrap_or(steps),
                    diverged_at.is_some()
                ),
            )?;
        }
    }
    let plots = write_plots(
        &dir,
        &PlotOptions {
            per_seed: true,
            ..Default::default()
        },
    )?;
    for f in &plots.files {
        println!("{}", f.display());
    }
    print!("{}", build_report(&[dir])?);
    Ok(())
}
