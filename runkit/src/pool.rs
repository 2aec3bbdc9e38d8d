//! The (optimizer, seed) jobs of a run, trained by `threads` threads at once.
//!
//! Each seed's arithmetic runs on one thread from start to end, so a seed's records do not
//! depend on what runs beside it (`rl-train` and `sl-train` test `--jobs 1` against
//! `--jobs 2`). Jobs are taken from one queue in order (optimizers in the order given, then
//! seeds), and results come back in that order whatever finished first.

use std::collections::VecDeque;
use std::fmt::Display;
use std::sync::Mutex;
use std::time::Duration;

use crate::RunError;
use indicatif::{MultiProgress, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A job's progress bar (hidden when the pool does not draw).
pub use indicatif::ProgressBar;

/// One (optimizer, seed) pair of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
}

/// How many threads, and what the progress bars show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Jobs trained at once (at least 1, at most the number of jobs).
    pub threads: usize,
    /// Each bar's length (environment steps for `rl-train`).
    pub bar_len: u64,
    /// Draw the bars on stderr; hidden otherwise (the jobs then print lines of their own,
    /// see [`ProgressBar::is_hidden`]).
    pub draw: bool,
}

impl Pool {
    /// Run `work` on every pair of `optimizers` × `seeds`; the results in job order, or the
    /// first error (every error is printed on stderr as it is collected, and marks its bar).
    ///
    /// `setup` runs once on each thread before its first job (the thread's device, its float
    /// mode) and its value is handed to each job that thread runs.
    pub fn run<S, T, E>(
        &self,
        optimizers: &[String],
        seeds: &[u64],
        setup: impl Fn() -> S + Sync,
        work: impl Fn(&mut S, &Job, &ProgressBar) -> Result<T, E> + Sync,
    ) -> Result<Vec<T>, E>
    where
        T: Send,
        E: Display + Send,
    {
        let jobs: Vec<Job> = optimizers
            .iter()
            .flat_map(|o| {
                seeds.iter().map(move |&seed| Job {
                    optimizer: o.clone(),
                    seed,
                })
            })
            .collect();
        let multi = MultiProgress::with_draw_target(if self.draw {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = bar_style();
        let bars: Vec<ProgressBar> = jobs
            .iter()
            .map(|job| {
                let bar = multi.add(ProgressBar::new(self.bar_len));
                bar.set_style(style.clone());
                bar.set_prefix(format!("{} seed {}", job.optimizer, job.seed));
                bar
            })
            .collect();
        let queue = Mutex::new((0..jobs.len()).collect::<VecDeque<usize>>());
        let results: Mutex<Vec<Option<Result<T, E>>>> =
            Mutex::new((0..jobs.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.threads_for(jobs.len()) {
                scope.spawn(|| {
                    let mut state = setup();
                    loop {
                        // Take the next job and let go of the queue before working on it: a
                        // guard in a `while let` scrutinee would live through the whole body
                        // and make every other thread wait (issue 24). A poisoned lock means
                        // another job panicked; the scope re-raises it.
                        let next = queue.lock().expect("job queue").pop_front();
                        let Some(i) = next else { break };
                        let result = work(&mut state, &jobs[i], &bars[i]);
                        if let Err(e) = &result {
                            bars[i].abandon_with_message(format!("error: {e}"));
                        }
                        results.lock().expect("job results")[i] = Some(result);
                    }
                });
            }
        });
        let mut done = Vec::with_capacity(jobs.len());
        let mut first_error = None;
        for result in results
            .into_inner()
            .expect("job results")
            .into_iter()
            .flatten()
        {
            match result {
                Ok(t) => done.push(t),
                Err(e) => {
                    eprintln!("error: {e}");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// The threads that really run `jobs` jobs: [`Pool::threads`], at least 1 and at most
    /// one per job.
    pub fn threads_for(&self, jobs: usize) -> usize {
        self.threads.clamp(1, jobs.max(1))
    }
}

/// What a run's parallel jobs bought: its wall time and the work all of them did per second,
/// for the line that ends a multi-seed run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Wall time of the whole pool.
    pub wall: Duration,
    /// Jobs (seeds) in the run.
    pub jobs: usize,
    /// Threads that trained them.
    pub threads: usize,
    /// Environment steps taken in this process, all jobs together (`None` where the jobs
    /// count no steps, as `sl-train`'s epochs).
    pub steps: Option<u64>,
}

impl Throughput {
    /// `wall time 2 min 31 s for 2 seed runs on 2 threads: 40000 environment steps, 265 steps/s
    /// in all`.
    pub fn line(&self) -> String {
        let head = format!(
            "wall time {} for {} seed run{} on {} thread{}",
            human_duration(self.wall),
            self.jobs,
            if self.jobs == 1 { "" } else { "s" },
            self.threads,
            if self.threads == 1 { "" } else { "s" },
        );
        match self.steps {
            None => head,
            Some(0) => format!("{head}: nothing trained (every seed was already done)"),
            Some(steps) => format!(
                "{head}: {steps} environment steps, {} in all",
                steps_per_second(steps as f64 / self.wall.as_secs_f64().max(1e-9))
            ),
        }
    }
}

/// `2 min 31 s`, `1 h 02 min`, `12.3 s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// Refuse a run without seeds or without optimizers (before anything is written).
pub fn check_jobs(optimizers: &[String], seeds: &[u64]) -> Result<(), RunError> {
    if seeds.is_empty() {
        return Err(RunError::Usage(
            "no seeds: give --seeds N (N >= 1) or --seed-list".into(),
        ));
    }
    if optimizers.is_empty() {
        return Err(RunError::Usage(
            "no optimizer: give --opt NAME[,NAME...]".into(),
        ));
    }
    Ok(())
}

/// `adam seed 0 [=====>   ]  1200/20000   133 steps/s ETA 2m msg`.
fn bar_style() -> ProgressStyle {
    // `{per_sec:>10}` would take the width as a precision (`132.9275968579/s`): own key.
    ProgressStyle::with_template(
        "{prefix:>20} [{bar:30}] {pos:>8}/{len} {rate:>12} ETA {eta:>6} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&steps_per_second(state.per_sec()));
        },
    )
    .progress_chars("=> ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_gives_wall_time_and_steps_per_second_in_all() {
        let t = Throughput {
            wall: Duration::from_secs(151),
            jobs: 2,
            threads: 2,
            steps: Some(40_000),
        };
        assert_eq!(
            t.line(),
            "wall time 2 min 31 s for 2 seed runs on 2 threads: 40000 environment steps, 265 steps/s in all"
        );
        let one = Throughput {
            wall: Duration::from_millis(12_340),
            jobs: 1,
            threads: 1,
            steps: None,
        };
        assert_eq!(one.line(), "wall time 12.3 s for 1 seed run on 1 thread");
        let none = Throughput {
            steps: Some(0),
            ..t
        };
        assert!(
            none.line()
                .ends_with("nothing trained (every seed was already done)")
        );
        assert_eq!(human_duration(Duration::from_secs(3725)), "1 h 02 min");
        assert_eq!(pool(8).threads_for(3), 3);
        assert_eq!(pool(0).threads_for(3), 1);
    }

    #[test]
    fn the_progress_rate_reads_as_whole_steps_per_second() {
        assert_eq!(steps_per_second(132.927_596_857_9), "133 steps/s");
        assert_eq!(steps_per_second(7.349), "7.3 steps/s");
        assert_eq!(steps_per_second(0.0), "– steps/s");
        assert_eq!(steps_per_second(f64::NAN), "– steps/s");
    }

    fn pool(threads: usize) -> Pool {
        Pool {
            threads,
            bar_len: 10,
            draw: false,
        }
    }

    /// A meeting point for `n` jobs: each waits until all `n` are running at once. A pool
    /// that runs them one at a time makes the wait fail after `patience` (an error, not a
    /// hang), so a test built on it fails when jobs serialize, without timing anything.
    struct Rendezvous {
        arrived: std::sync::atomic::AtomicUsize,
        n: usize,
    }

    impl Rendezvous {
        fn new(n: usize) -> Self {
            Self {
                arrived: std::sync::atomic::AtomicUsize::new(0),
                n,
            }
        }

        fn meet(&self, patience: std::time::Duration) -> Result<(), String> {
            use std::sync::atomic::Ordering::SeqCst;
            self.arrived.fetch_add(1, SeqCst);
            let deadline = std::time::Instant::now() + patience;
            loop {
                let arrived = self.arrived.load(SeqCst);
                if arrived >= self.n {
                    return Ok(());
                }
                if std::time::Instant::now() > deadline {
                    return Err(format!(
                        "only {arrived} of {} jobs were running at once after waiting \
                         {patience:?}: the pool runs its jobs one at a time",
                        self.n
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }

    #[test]
    fn n_threads_run_n_jobs_at_the_same_time() {
        for threads in [2, 3] {
            let meeting = Rendezvous::new(threads);
            let seeds: Vec<u64> = (0..threads as u64).collect();
            let result = pool(threads).run(
                &["adam".to_string()],
                &seeds,
                || (),
                |_, _, _| meeting.meet(std::time::Duration::from_secs(20)),
            );
            if let Err(e) = result {
                panic!("{threads} threads: {e}");
            }
        }
    }

    /// The rendezvous above can fail: one thread cannot bring two jobs together.
    #[test]
    fn the_rendezvous_fails_when_jobs_run_one_at_a_time() {
        let meeting = Rendezvous::new(2);
        let err = pool(1)
            .run(
                &["adam".to_string()],
                &[0, 1],
                || (),
                |_, _, _| meeting.meet(std::time::Duration::from_millis(100)),
            )
            .unwrap_err();
        assert!(err.contains("only 1 of 2 jobs"), "{err}");
    }

    #[test]
    fn results_come_back_in_job_order_whatever_finishes_first() {
        let optimizers = ["adam".to_string(), "dog".to_string()];
        for threads in [1, 3, 8] {
            let done = pool(threads)
                .run(
                    &optimizers,
                    &[2, 0, 1],
                    || (),
                    |_, job, bar| {
                        // Early jobs take longest, so later ones finish first.
                        std::thread::sleep(std::time::Duration::from_millis(
                            5 * (3 - job.seed.min(3)),
                        ));
                        assert!(bar.is_hidden());
                        Ok::<_, String>(format!("{} {}", job.optimizer, job.seed))
                    },
                )
                .unwrap();
            assert_eq!(
                done,
                ["adam 2", "adam 0", "adam 1", "dog 2", "dog 0", "dog 1"],
                "{threads} threads"
            );
        }
    }

    #[test]
    fn every_job_runs_even_after_an_error_and_the_first_error_is_returned() {
        let ran = Mutex::new(Vec::new());
        let result = pool(2).run(
            &["sgd".to_string()],
            &[0, 1, 2, 3],
            || (),
            |_, job, _| {
                ran.lock().unwrap().push(job.seed);
                if job.seed % 2 == 1 {
                    Err(format!("seed {} failed", job.seed))
                } else {
                    Ok(job.seed)
                }
            },
        );
        assert_eq!(result.unwrap_err(), "seed 1 failed");
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, [0, 1, 2, 3]);
    }

    #[test]
    fn each_thread_sets_up_once() {
        let setups = Mutex::new(0);
        let done = pool(2)
            .run(
                &["adam".to_string()],
                &[0, 1, 2, 3, 4],
                || {
                    *setups.lock().unwrap() += 1;
                    0u64
                },
                |count, job, _| {
                    *count += 1;
                    Ok::<_, String>((job.seed, *count))
                },
            )
            .unwrap();
        assert!(*setups.lock().unwrap() <= 2);
        let per_thread: u64 = done.iter().map(|d| d.1).max().unwrap();
        assert!(
            per_thread >= 3,
            "one thread ran at least 3 of 5 jobs: {done:?}"
        );
    }
}
