//! End-to-end tests of the `rl-train` binary on short native Pendulum runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rl-train");

/// A short Pendulum configuration with small networks, written into `dir`.
fn quick_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("quick.toml");
    std::fs::write(
        &path,
        format!(
            r#"env = "Pendulum"
steps = 1200
learning_starts = 300
eval_every = 400
eval_episodes = 2
log_every = 50
checkpoint_every = 400
save_buffer = true
success_threshold = -250.0
lr_divergence_bound = 1000.0
[sac]
buffer_size = 5000
batch_size = 64
hidden = [32, 32]
[optimizers.adam]
lr = 1e-3
{extra}
"#
        ),
    )
    .unwrap();
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rl-train-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rl_train(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--no-progress")
        .output()
        .expect("run rl-train")
}

/// Starts rl-train with `args` (and `--no-progress`), waits (up to 2 minutes) until it writes
/// `marker`, its first checkpoint, lets it go on for `settle`, then SIGKILLs it; fails if no
/// checkpoint appeared.
fn kill_after_checkpoint<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    marker: &Path,
    settle: Duration,
) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--no-progress")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !marker.exists() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(settle);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(marker.exists(), "no checkpoint appeared");
}

/// A suite file at `path`: sgd and adam × 2 seeds on `env`, over the base config `quick.toml`
/// beside it, into `out`.
fn write_suite(path: &Path, env: &str, steps: u64, jobs: u32, out: &Path) {
    std::fs::write(
        path,
        format!(
            "[suite]\nenv = \"{env}\"\nbase = \"quick.toml\"\nsteps = {steps}\nseeds = 2\njobs = {jobs}\nout = {:?}\noptimizers = [\"sgd\", \"adam\"]\n",
            out.to_str().unwrap()
        ),
    )
    .unwrap();
}

/// Fails with rl-train's stderr unless it exited successfully.
fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "rl-train failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fails unless rl-train exited 2 with one line on stderr that contains `needle`.
fn one_line_exit_2(res: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(needle) && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
}

/// Fails unless the four cells of a `write_suite` suite have the same `metrics.csv` and
/// `summary.json` in run directories `a` and `b`.
fn same_cells(a: &Path, b: &Path) {
    for cell in ["sgd/seed-0", "sgd/seed-1", "adam/seed-0", "adam/seed-1"] {
        for file in ["metrics.csv", "summary.json"] {
            let rel = format!("{cell}/{file}");
            assert_eq!(read(&a.join(&rel)), read(&b.join(&rel)), "{rel}");
        }
    }
}

/// rl-report on `out`, which must succeed (it writes `out/report.{md,csv}`).
fn rl_report(out: &Path) -> Output {
    let res = Command::new(env!("CARGO_BIN_EXE_rl-report"))
        .arg(out)
        .output()
        .unwrap();
    ok(&res);
    res
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `second` started training before `first` finished, by the lines rl-train prints
/// without progress bars (`<cell>: training from step ...` when a seed starts, `<cell>: N steps
/// in ...` when it ends). Lines come in the order they happened, so this is false for seeds
/// trained one after the other, however fast the machine, and true for seeds trained at once.
fn overlapped(stderr: &str, first: &str, second: &str) -> bool {
    let lines: Vec<&str> = stderr.lines().collect();
    let position = |prefix: String, what: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&prefix) && l.contains(what))
            .unwrap_or_else(|| panic!("no line `{prefix}...{what}` in:\n{stderr}"))
    };
    position(format!("{second}: "), "training from step")
        < position(format!("{first}: "), " steps in ")
}

/// `--jobs 2` really trains two seeds at once (its seeds' lines overlap, which they cannot
/// when the pool serializes its jobs, as it once did) and gives the records of `--jobs 1`.
#[test]
fn jobs_2_trains_seeds_at_once_with_the_records_of_jobs_1() {
    let dir = temp_dir("determinism");
    let config = quick_config(&dir, "");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let out_a = rl_train(&[
        "--config",
        config.to_str().unwrap(),
        "--opt",
        "adam,ps-da-sgd",
        "--seeds",
        "2",
        "--jobs",
        "1",
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&out_a);
    let out_b = rl_train(&[
        "--config",
        config.to_str().unwrap(),
        "--opt",
        "adam,ps-da-sgd",
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--out",
        b.to_str().unwrap(),
    ]);
    ok(&out_b);
    let (err_a, err_b) = (
        String::from_utf8_lossy(&out_a.stderr),
        String::from_utf8_lossy(&out_b.stderr),
    );
    assert!(
        overlapped(&err_b, "adam seed 0", "adam seed 1"),
        "--jobs 2 trained adam seed 1 only after seed 0 finished: the jobs ran one at a time\n{err_b}"
    );
    assert!(
        !overlapped(&err_a, "adam seed 0", "adam seed 1"),
        "--jobs 1 overlapped two seeds:\n{err_a}"
    );
    // The closing line: wall time and the steps of all four seeds per second.
    let stdout_b = String::from_utf8_lossy(&out_b.stdout);
    assert!(
        stdout_b.contains("for 4 seed runs on 2 threads: 4800 environment steps,"),
        "{stdout_b}"
    );
    for opt in ["adam", "ps-da-sgd"] {
        for seed in 0..2 {
            let rel = format!("{opt}/seed-{seed}/metrics.csv");
            let (ma, mb) = (read(&a.join(&rel)), read(&b.join(&rel)));
            assert!(ma.lines().count() > 10, "{rel} has too few rows:\n{ma}");
            assert_eq!(ma, mb, "{rel} differs between --jobs 1 and --jobs 2");
        }
    }
    // Different seeds really differ.
    assert_ne!(
        read(&a.join("adam/seed-0/metrics.csv")),
        read(&a.join("adam/seed-1/metrics.csv"))
    );
    let summary: serde_json::Value = serde_json::from_str(&read(&a.join("summary.json"))).unwrap();
    assert_eq!(summary["env"], "Pendulum");
    assert_eq!(summary["results"][0]["optimizer"], "adam");
    assert_eq!(summary["results"][0]["seeds"], 2);
    assert!(read(&a.join("result.txt")).contains("ps-da-sgd"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_killed_run_resumes_to_the_same_records() {
    let dir = temp_dir("resume");
    let config = quick_config(&dir, "");
    let steps = ["--steps", "2400"];
    let (full, killed, plain) = (dir.join("full"), dir.join("killed"), dir.join("plain"));
    // With the D-Adaptation diagnostics on (diagnostics.csv is resumed like metrics.csv), and
    // once without them (`plain`), which must train the very same numbers.
    let args = |out: &Path, diagnostics: bool| {
        let mut v = vec![
            "--config".to_string(),
            config.display().to_string(),
            "--opt".into(),
            "ps-da-sgd".into(),
        ];
        v.extend(steps.iter().map(|s| s.to_string()));
        v.extend(["--out".into(), out.display().to_string()]);
        if diagnostics {
            v.push("--diagnostics".into());
        }
        v
    };
    for (out, diagnostics) in [(&full, true), (&plain, false)] {
        let done = Command::new(BIN)
            .args(args(out, diagnostics))
            .arg("--no-progress")
            .output()
            .unwrap();
        ok(&done);
    }

    // Start the same run, kill it once a checkpoint exists, then resume.
    kill_after_checkpoint(
        args(&killed, true),
        &killed.join("ps-da-sgd/seed-0/checkpoint/counters.json"),
        Duration::from_millis(150),
    );
    let interrupted = !killed.join("summary.json").exists();
    let resumed = rl_train(&["--resume", "--out", killed.to_str().unwrap()]);
    ok(&resumed);
    if interrupted {
        assert!(
            String::from_utf8_lossy(&resumed.stderr).contains("resuming at step"),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
    }
    for rel in [
        "ps-da-sgd/seed-0/metrics.csv",
        "ps-da-sgd/seed-0/diagnostics.csv",
        "ps-da-sgd/seed-0/summary.json",
        "summary.json",
    ] {
        assert_eq!(
            read(&full.join(rel)),
            read(&killed.join(rel)),
            "resumed {rel} differs from the uninterrupted run"
        );
    }
    let rel = "ps-da-sgd/seed-0/metrics.csv";
    assert_eq!(
        read(&full.join(rel)),
        read(&plain.join(rel)),
        "recording the diagnostics changed the training"
    );
    assert!(!plain.join("ps-da-sgd/seed-0/diagnostics.csv").exists());
    assert!(!plain.join("plots/diagnostics.png").exists());
    assert!(full.join("plots/diagnostics.png").exists());

    // One critic and one actor row per logged update (log_every 50 from step 300 on); the
    // temperature is on Adam, which has no D.
    let diagnostics = read(&full.join("ps-da-sgd/seed-0/diagnostics.csv"));
    let mut lines = diagnostics.lines();
    assert_eq!(
        lines.next(),
        Some("step,network,lr,d,d_next,d_hat,numerator,s_norm,g0_norm,grad_norm")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let logged: Vec<u64> = (300..=2400).step_by(50).collect();
    for net in ["critic", "actor"] {
        let steps: Vec<u64> = rows
            .iter()
            .filter(|r| r[1] == net)
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert_eq!(steps, logged, "{net} rows");
    }
    assert!(
        rows.iter()
            .all(|r| r[1] != "temperature" && r.iter().all(|c| !c.is_empty()))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_diverged_seed_stops_cleanly_and_the_run_succeeds() {
    let dir = temp_dir("diverge");
    // A bound no estimate can stay under: every seed of ps-da-sgd "diverges" at its first update.
    let config = quick_config(&dir, "");
    let text = read(&config).replace(
        "lr_divergence_bound = 1000.0",
        "lr_divergence_bound = 1e-30\nadam_lr_divergence_bound = 1e-30",
    );
    std::fs::write(&config, text).unwrap();
    let out = dir.join("run");
    let res = rl_train(&[
        "--config",
        config.to_str().unwrap(),
        "--opt",
        "ps-da-sgd",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        res.status.success(),
        "a diverged seed must not fail the run: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let seed: serde_json::Value =
        serde_json::from_str(&read(&out.join("ps-da-sgd/seed-1/summary.json"))).unwrap();
    assert_eq!(seed["diverged"], true);
    assert_eq!(seed["success"], false);
    assert_eq!(
        seed["divergence"]["step"], 300,
        "diverges at the first update (learning_starts = 300)"
    );
    assert!(
        seed["divergence"]["reason"]
            .as_str()
            .unwrap()
            .contains("exceeds the bound")
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(summary["results"][0]["lr_diverged"], 2);
    std::fs::remove_dir_all(&dir).ok();
}

/// A bad-input case: the arguments, a word the one-line message must contain, extra
/// environment variables.
type BadInput<'a> = (Vec<&'a str>, &'a str, Vec<(&'a str, &'a str)>);

/// Every bad input: exit status 2, one line on stderr saying what to do, no run directory.
#[test]
fn bad_input_gives_one_line_and_leaves_no_run_directory() {
    let dir = temp_dir("bad-input");
    let good = quick_config(&dir, "");
    let malformed = dir.join("malformed.toml");
    std::fs::write(&malformed, "env = \"Pendulum\"\nsteps = \"many\"\n").unwrap();
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let under_file = blocker.join("sub");
    let bad_temperature = dir.join("bad-temperature.toml");
    std::fs::write(
        &bad_temperature,
        format!("temperature_optimizer = \"adamw\"\n{}", read(&good)),
    )
    .unwrap();
    let bad_device = dir.join("bad-device.toml");
    std::fs::write(&bad_device, format!("device = \"gpu\"\n{}", read(&good))).unwrap();
    let mut cases: Vec<BadInput> = vec![
        (vec!["--env", "Pendulm", "--out", o], "Pendulum", vec![]),
        // A Gymnasium id without a config of its own: its success threshold is asked for.
        (
            vec!["--env", "Walker2d-v5", "--out", o],
            "--success-threshold",
            vec![],
        ),
        (vec!["--opt", "adamw", "--out", o], "ps-da-sgd", vec![]),
        (
            vec!["--config", malformed.to_str().unwrap(), "--out", o],
            "steps",
            vec![],
        ),
        (
            vec![
                "--config",
                good.to_str().unwrap(),
                "--out",
                under_file.to_str().unwrap(),
            ],
            "a-file",
            vec![],
        ),
        (
            vec!["--env", "Hopper", "--out", o],
            "python",
            vec![("LRFREE_PYTHON", "/nonexistent/python3")],
        ),
        (
            vec![
                "--config",
                good.to_str().unwrap(),
                "--seeds",
                "0",
                "--out",
                o,
            ],
            "seeds",
            vec![],
        ),
        (
            vec!["--config", bad_temperature.to_str().unwrap(), "--out", o],
            "temperature_optimizer = \"adamw\": unknown optimizer",
            vec![],
        ),
        (
            vec![
                "--config",
                good.to_str().unwrap(),
                "--opt",
                "adam,sps",
                "--out",
                o,
            ],
            "--sps-critics-only",
            vec![],
        ),
        (
            vec![
                "--config",
                good.to_str().unwrap(),
                "--opt",
                "ps-sps",
                "--out",
                o,
            ],
            "--sps-critics-only",
            vec![],
        ),
        (
            vec![
                "--config",
                good.to_str().unwrap(),
                "--device",
                "gpu",
                "--out",
                o,
            ],
            "--device gpu: unknown device; devices: cpu, cuda, auto",
            vec![],
        ),
        (
            vec!["--config", bad_device.to_str().unwrap(), "--out", o],
            "unknown variant `gpu`",
            vec![],
        ),
    ];
    if !cfg!(feature = "cuda") {
        cases.push((
            vec![
                "--config",
                good.to_str().unwrap(),
                "--device",
                "cuda",
                "--out",
                o,
            ],
            "built without the `cuda` feature",
            vec![],
        ));
    }
    for (args, needle, envs) in cases {
        let res = Command::new(BIN)
            .args(&args)
            .arg("--no-progress")
            .envs(envs)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&res.stderr).to_string();
        assert_eq!(res.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?}: not one line:\n{stderr}"
        );
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: `{stderr}` lacks `{needle}`"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    // --jobs 0 is refused by the argument parser (its usual three-line message), nothing written.
    let res = rl_train(&[
        "--config",
        good.to_str().unwrap(),
        "--jobs",
        "0",
        "--out",
        o,
    ]);
    let stderr = String::from_utf8_lossy(&res.stderr).to_string();
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--jobs") && stderr.contains("at least 1"),
        "{stderr}"
    );
    assert!(!out.exists());
    // A resumed run keeps its device: --device is refused with --resume (the parser's message).
    let res = rl_train(&["--resume", "--out", o, "--device", "cpu"]);
    let stderr = String::from_utf8_lossy(&res.stderr).to_string();
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--device") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!out.exists());
    // So is any option that would change the run (it keeps its own configuration).
    for flag in [
        &["--diagnostics"][..],
        &["--steps", "10"],
        &["--opt", "adam"],
        &["--seeds", "3"],
    ] {
        let mut args = vec!["--resume", "--out", o];
        args.extend_from_slice(flag);
        let res = rl_train(&args);
        let stderr = String::from_utf8_lossy(&res.stderr).to_string();
        assert_eq!(res.status.code(), Some(2), "{flag:?}: {stderr}");
        assert!(
            stderr.contains(flag[0]) && stderr.contains("--resume"),
            "{flag:?}: {stderr}"
        );
    }
    assert!(!out.exists());
    // An existing run is not overwritten.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("run.json"), "{}").unwrap();
    let res = rl_train(&["--config", good.to_str().unwrap(), "--out", o]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("--resume"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--device auto` trains where it can, saying so when that is the CPU, and the run records
/// the device it ran on (`cpu` or `cuda`, never `auto`); `--device cpu` is the CPU in any build.
#[test]
fn the_device_is_chosen_explicitly_and_recorded() {
    let dir = temp_dir("device");
    let config = quick_config(&dir, "");
    let short = [
        "--steps",
        "120",
        "--learning-starts",
        "60",
        "--eval-every",
        "60",
    ];
    let run = |device: &str| {
        let out = dir.join(device);
        let mut args = vec!["--config", config.to_str().unwrap(), "--opt", "adam"];
        args.extend(short);
        args.extend([
            "--no-plots",
            "--device",
            device,
            "--out",
            out.to_str().unwrap(),
        ]);
        let res = rl_train(&args);
        let stderr = String::from_utf8_lossy(&res.stderr).to_string();
        assert!(res.status.success(), "--device {device}: {stderr}");
        let plan: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
        let recorded = plan["config"]["device"].as_str().unwrap().to_string();
        let toml = read(&out.join("config.toml"));
        assert!(toml.contains(&format!("device = \"{recorded}\"")), "{toml}");
        (recorded, stderr)
    };
    let (recorded, stderr) = run("cpu");
    assert_eq!(recorded, "cpu");
    assert!(!stderr.contains("device auto"), "{stderr}");
    let (recorded, stderr) = run("auto");
    match recorded.as_str() {
        "cpu" => assert!(
            stderr.contains("device auto: ") && stderr.contains("training on the CPU"),
            "{stderr}"
        ),
        "cuda" if cfg!(feature = "cuda") => {}
        other => panic!("recorded device {other}"),
    }
    if recorded == "cpu" {
        // Same device, same seed: the same records.
        let rel = "adam/seed-0/metrics.csv";
        assert_eq!(
            read(&dir.join("cpu").join(rel)),
            read(&dir.join("auto").join(rel))
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A `[suite]` file: its optimizers × seeds, steps and run directory, on top of its base config;
/// flags override its values; a suite that contradicts its base is refused.
#[test]
fn suite_file_runs_its_optimizers_and_seeds() {
    let dir = temp_dir("suite");
    quick_config(&dir, "");
    let out = dir.join("suite-out");
    let suite = dir.join("suite.toml");
    let write_suite = |env: &str, out: &Path| write_suite(&suite, env, 400, 2, out);
    write_suite("Pendulum", &out);
    let res = rl_train(&["--config", suite.to_str().unwrap(), "--no-plots"]);
    ok(&res);
    let mut made: Vec<String> = Vec::new();
    for opt in std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        for seed in std::fs::read_dir(opt.path()).unwrap().flatten() {
            assert!(
                seed.path().join("summary.json").is_file(),
                "{} has no summary",
                seed.path().display()
            );
            made.push(format!(
                "{}/{}",
                opt.file_name().to_string_lossy(),
                seed.file_name().to_string_lossy()
            ));
        }
    }
    made.sort();
    assert_eq!(
        made,
        ["adam/seed-0", "adam/seed-1", "sgd/seed-0", "sgd/seed-1"]
    );
    let config = read(&out.join("config.toml"));
    assert!(
        config.contains("steps = 400"),
        "the suite's steps, not the base's 1200:\n{config}"
    );
    let metrics = read(&out.join("sgd/seed-1/metrics.csv"));
    assert!(!metrics.lines().any(|l| {
        l.split(',')
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s > 400)
    }));

    // Flags win over the suite's values.
    let out2 = dir.join("override");
    let res = rl_train(&[
        "--config",
        suite.to_str().unwrap(),
        "--opt",
        "adam",
        "--seeds",
        "1",
        "--out",
        out2.to_str().unwrap(),
        "--no-plots",
    ]);
    ok(&res);
    assert!(out2.join("adam/seed-0/summary.json").is_file());
    assert!(!out2.join("sgd").exists() && !out2.join("adam/seed-1").exists());

    // A suite whose env contradicts its base: one line, exit 2, nothing written.
    let out3 = dir.join("contradiction");
    write_suite("MountainCarContinuous", &out3);
    let res = rl_train(&["--config", suite.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("base") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
    assert!(!out3.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// The `update` rows of a metrics.csv as maps from column name to cell.
fn update_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = read(path);
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect::<std::collections::HashMap<_, _>>()
        })
        .filter(|row| row["event"] == "update")
        .collect()
}

/// The temperature is on Adam (lr from `[optimizers.adam]`) whatever the networks use, unless
/// `temperature_optimizer = "same"`; SPS-type methods run on the critics only when opted in,
/// and the records say so.
#[test]
fn temperature_on_adam_by_default_and_sps_on_the_critics_only_when_opted_in() {
    let dir = temp_dir("temperature");
    let config = quick_config(&dir, "");
    let c = config.to_str().unwrap();
    let out = dir.join("default");
    let res = rl_train(&[
        "--config",
        c,
        "--opt",
        "ps-da-sgd",
        "--steps",
        "600",
        "--out",
        out.to_str().unwrap(),
        "--no-plots",
    ]);
    ok(&res);
    let rows = update_rows(&out.join("ps-da-sgd/seed-0/metrics.csv"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(
            row["temperature_lr"].parse::<f64>().unwrap(),
            1e-3,
            "temperature on adam, lr 1e-3 from [optimizers.adam]"
        );
        assert_ne!(row["critic_lr"].parse::<f64>().unwrap(), 1e-3);
    }
    let seed: serde_json::Value =
        serde_json::from_str(&read(&out.join("ps-da-sgd/seed-0/summary.json"))).unwrap();
    assert_eq!(seed["temperature_optimizer"], "adam");
    assert!(seed.get("actor_optimizer").is_none());

    // The ablation: the run's own optimizer on the temperature, its estimate recorded.
    let same = dir.join("same.toml");
    std::fs::write(
        &same,
        format!("temperature_optimizer = \"same\"\n{}", read(&config)),
    )
    .unwrap();
    let out = dir.join("same");
    let res = rl_train(&[
        "--config",
        same.to_str().unwrap(),
        "--opt",
        "ps-da-sgd",
        "--steps",
        "600",
        "--out",
        out.to_str().unwrap(),
        "--no-plots",
    ]);
    ok(&res);
    let rows = update_rows(&out.join("ps-da-sgd/seed-0/metrics.csv"));
    assert!(
        rows.iter()
            .all(|r| r["temperature_lr"].parse::<f64>().unwrap() != 1e-3
                && !r["temperature_d"].is_empty())
    );
    let seed: serde_json::Value =
        serde_json::from_str(&read(&out.join("ps-da-sgd/seed-0/summary.json"))).unwrap();
    assert_eq!(seed["temperature_optimizer"], "ps-da-sgd");

    // PS-SPS opted in: critics on PS-SPS, actor and temperature on Adam.
    let out = dir.join("sps");
    let res = rl_train(&[
        "--config",
        c,
        "--opt",
        "ps-sps",
        "--sps-critics-only",
        "--steps",
        "600",
        "--out",
        out.to_str().unwrap(),
        "--no-plots",
    ]);
    ok(&res);
    let rows = update_rows(&out.join("ps-sps/seed-0/metrics.csv"));
    assert!(
        rows.iter()
            .all(|r| r["actor_lr"].parse::<f64>().unwrap() == 1e-3)
    );
    assert!(
        rows.iter()
            .any(|r| r["critic_lr"].parse::<f64>().unwrap() != 1e-3)
    );
    let seed: serde_json::Value =
        serde_json::from_str(&read(&out.join("ps-sps/seed-0/summary.json"))).unwrap();
    assert_eq!(seed["actor_optimizer"], "adam");
    // The opt-in is kept in the run's config, so a resume keeps it.
    assert!(read(&out.join("config.toml")).contains("sps_critics_only = true"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A suite as cluster tasks: listed in a stable order, run one by one (out of order, one of
/// them killed after a checkpoint and started again, as a preempted and requeued array task)
/// into one shared directory, they give the records and report of the same suite run by one
/// process. Bad task input: one line, exit 2, nothing written or changed.
#[test]
fn suite_tasks_run_apart_and_merge_into_the_same_records() {
    let dir = temp_dir("tasks");
    let base = quick_config(&dir, "");
    let shared = dir.join("shared");
    let suite = dir.join("suite.toml");
    let write_suite = |steps: u64| write_suite(&suite, "Pendulum", steps, 1, &shared);
    write_suite(1200);
    let suite_arg = suite.to_str().unwrap();
    let task = |k: &str| rl_train(&["--config", suite_arg, "--task", k, "--no-plots"]);

    // The list: header, then index, optimizer, seed; nothing written.
    let listed = rl_train(&["--config", suite_arg, "--list-tasks"]);
    assert!(listed.status.success());
    let lines: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect();
    assert_eq!(
        lines,
        ["0\tsgd\t0", "1\tsgd\t1", "2\tadam\t0", "3\tadam\t1"]
    );
    assert!(!shared.exists());

    // Out of range, or no suite: refused before anything is written.
    one_line_exit_2(&task("4"), "out of range");
    one_line_exit_2(
        &rl_train(&["--config", base.to_str().unwrap(), "--task", "0"]),
        "needs a suite file",
    );
    assert!(!shared.exists());

    for k in ["3", "1"] {
        let res = task(k);
        ok(&res);
    }
    // Task 2 preempted after its first checkpoint, then requeued: it continues.
    kill_after_checkpoint(
        ["--config", suite_arg, "--task", "2", "--no-plots"],
        &shared.join("adam/seed-0/checkpoint/counters.json"),
        Duration::from_millis(100),
    );
    // The killed task's lock names a dead process on this host: the restart takes it over.
    let res = task("2");
    ok(&res);

    // A task whose cell is locked by a process elsewhere is refused; so is a changed suite.
    let lock = shared.join("sgd/.seed-0.lock");
    std::fs::write(
        &lock,
        r#"{"host":"another-node","pid":1,"slurm_job":"77_0"}"#,
    )
    .unwrap();
    one_line_exit_2(&task("0"), "already running");
    std::fs::remove_file(&lock).unwrap();
    let run_json = read(&shared.join("run.json"));
    write_suite(1300);
    one_line_exit_2(&task("0"), "different suite");
    assert_eq!(read(&shared.join("run.json")), run_json);
    assert!(!shared.join("sgd/seed-0").exists());
    write_suite(1200);
    let res = task("0");
    ok(&res);

    // The same suite by one process.
    let local = dir.join("local");
    let res = rl_train(&[
        "--config",
        suite_arg,
        "--out",
        local.to_str().unwrap(),
        "--no-plots",
    ]);
    ok(&res);
    same_cells(&shared, &local);
    let report = |out: &Path| {
        String::from_utf8_lossy(&rl_report(out).stdout).replace(out.to_str().unwrap(), "<out>")
    };
    assert_eq!(report(&shared), report(&local));
    assert_eq!(
        read(&shared.join("report.csv")),
        read(&local.join("report.csv"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// rl-train with `args` (and `--no-progress`) and only the job-array variables in `vars` (any
/// Slurm or Kubernetes variable of the machine running the tests removed).
fn rl_train_in_array(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for name in [
        "LRFREE_TASK_ID",
        "LRFREE_JOB_ID",
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_JOB_ID",
        "SLURM_JOB_ID",
    ] {
        cmd.env_remove(name);
    }
    cmd.envs(vars.iter().copied())
        .args(args)
        .arg("--no-progress")
        .output()
        .expect("run rl-train")
}

/// `--task auto` takes the index from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`) or the
/// engine-neutral `LRFREE_TASK_ID`; a replacement pod (same Job, same index, another node)
/// takes over its predecessor's cell lock and another index does not; the tasks end with the
/// records of one process.
#[test]
fn suite_tasks_take_their_index_from_a_kubernetes_indexed_job_or_lrfree_task_id() {
    let dir = temp_dir("k8s-tasks");
    quick_config(&dir, "");
    let shared = dir.join("shared");
    let suite = dir.join("suite.toml");
    write_suite(&suite, "Pendulum", 500, 1, &shared);
    let suite_arg = suite.to_str().unwrap();
    let args = ["--config", suite_arg, "--task", "auto", "--no-plots"];

    // No engine, or two that disagree: one line, nothing written.
    one_line_exit_2(&rl_train_in_array(&args, &[]), "found no task index");
    one_line_exit_2(
        &rl_train_in_array(
            &args,
            &[("LRFREE_TASK_ID", "1"), ("JOB_COMPLETION_INDEX", "2")],
        ),
        "name different tasks",
    );
    assert!(!shared.exists());

    let pod = |index: &'static str| [("JOB_COMPLETION_INDEX", index), ("LRFREE_JOB_ID", "uid-a")];
    ok(&rl_train_in_array(&args, &pod("0")));
    assert!(shared.join("sgd/seed-0/summary.json").is_file());
    ok(&rl_train_in_array(&args, &[("LRFREE_TASK_ID", "3")]));
    assert!(shared.join("adam/seed-1/summary.json").is_file());

    // Task 1's pod was lost with its node: its lock names another host. A pod of another
    // index may not take it; the replacement of the same index does.
    let lock = shared.join("sgd/.seed-1.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(
        &lock,
        r#"{"host":"lost-node","pid":1,"slurm_job":null,"array_task":"kubernetes:uid-a/1"}"#,
    )
    .unwrap();
    let elsewhere = rl_train_in_array(
        &["--config", suite_arg, "--task", "1", "--no-plots"],
        &pod("2"),
    );
    one_line_exit_2(&elsewhere, "already running");
    let other_job = rl_train_in_array(
        &args,
        &[("JOB_COMPLETION_INDEX", "1"), ("LRFREE_JOB_ID", "uid-b")],
    );
    one_line_exit_2(&other_job, "array task kubernetes:uid-a/1");
    ok(&rl_train_in_array(&args, &pod("1")));
    assert!(!lock.exists(), "the finished task leaves no lock");
    ok(&rl_train_in_array(&args, &pod("2")));

    // The same suite by one process.
    let local = dir.join("local");
    ok(&rl_train(&[
        "--config",
        suite_arg,
        "--out",
        local.to_str().unwrap(),
        "--no-plots",
    ]));
    same_cells(&shared, &local);
    std::fs::remove_dir_all(&dir).ok();
}

/// `scripts/keep-records.sh` (issue 25's committed records): runs of one config kept into one
/// directory read back, in rl-report, as one run with their seeds merged, equal to a run that
/// trained those seeds together; checkpoints and agents are left behind.
#[test]
fn kept_records_report_as_the_run_that_trained_them() {
    let dir = temp_dir("keep");
    let config = quick_config(&dir, "");
    let train = |out: &Path, seeds: &str| {
        ok(&rl_train(&[
            "--config",
            config.to_str().unwrap(),
            "--opt",
            "adam",
            "--seed-list",
            seeds,
            "--steps",
            "800",
            "--out",
            out.to_str().unwrap(),
            "--no-plots",
        ]))
    };
    let (a, b, both, kept) = (
        dir.join("a"),
        dir.join("b"),
        dir.join("both"),
        dir.join("kept"),
    );
    train(&a, "0");
    train(&b, "1");
    train(&both, "0,1");
    let keep = |args: &[&Path]| {
        Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/keep-records.sh"
        ))
        .args(args)
        .output()
        .unwrap()
    };
    let res = keep(&[&kept, &a, &b]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(kept.join("adam/seed-1/metrics.csv").is_file());
    assert!(!kept.join("adam/seed-0/checkpoint").exists());
    assert!(!kept.join("adam/seed-0/final").exists());
    let plan: serde_json::Value = serde_json::from_str(&read(&kept.join("run.json"))).unwrap();
    assert_eq!(
        plan["seeds"],
        serde_json::json!([0, 1]),
        "run.json's seeds are not merged"
    );
    // Keeping a seed twice is refused, with one line.
    let again = keep(&[&kept, &a]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already kept"));

    let report = |out: &Path| {
        rl_report(out);
        read(&out.join("report.csv"))
    };
    assert_eq!(report(&kept), report(&both));

    // One seed of a run whose other seeds still train: kept alone, by its directory; a
    // refusal (an unfinished seed among the arguments) keeps nothing.
    let (one, running) = (dir.join("one"), both.join("adam/seed-0"));
    std::fs::rename(running.join("summary.json"), dir.join("summary.json")).unwrap();
    let refused = keep(&[&one, &both.join("adam/seed-1"), &running]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has not finished"));
    assert!(!one.exists(), "a refused keep left {}", one.display());
    let res = keep(&[&one, &both.join("adam/seed-1")]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(one.join("adam/seed-1/summary.json").is_file());
    assert!(!one.join("adam/seed-0").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// TD3, the second agent: trained by an LR-free optimizer through the same runner, a killed
/// run resumes to the same records, the records leave the temperature's cells empty, and
/// rl-report reads them; bad agent input is one line.
#[test]
fn td3_trains_resumes_bit_for_bit_and_records_no_temperature() {
    let dir = temp_dir("td3");
    let config = dir.join("td3.toml");
    std::fs::write(
        &config,
        r#"env = "Pendulum"
agent = "td3"
steps = 1600
learning_starts = 300
eval_every = 400
eval_episodes = 2
log_every = 50
checkpoint_every = 400
save_buffer = true
success_threshold = -250.0
lr_divergence_bound = 1000.0
[agents.td3]
buffer_size = 5000
batch_size = 64
hidden = [32, 32]
# As defined, PS-DA-SGD's actor rate passes the bound by step 362 on TD3 (its D jumps);
# capped, it trains (docs/rl-train.md, "TD3").
[optimizers.ps-da-sgd]
growth_rate = 1.02
"#,
    )
    .unwrap();
    let (full, killed) = (dir.join("full"), dir.join("killed"));
    let args = |out: &Path| {
        let c = config.display().to_string();
        let o = out.display().to_string();
        vec![
            "--config".to_string(),
            c,
            "--opt".into(),
            "ps-da-sgd".into(),
            "--out".into(),
            o,
        ]
    };
    ok(&Command::new(BIN)
        .args(args(&full))
        .arg("--no-progress")
        .output()
        .unwrap());
    kill_after_checkpoint(
        args(&killed),
        &killed.join("ps-da-sgd/seed-0/checkpoint/counters.json"),
        Duration::from_millis(150),
    );
    ok(&rl_train(&["--resume", "--out", killed.to_str().unwrap()]));
    for rel in [
        "ps-da-sgd/seed-0/metrics.csv",
        "ps-da-sgd/seed-0/summary.json",
    ] {
        assert_eq!(read(&full.join(rel)), read(&killed.join(rel)), "{rel}");
    }
    let checkpoint = read(&killed.join("ps-da-sgd/seed-0/final/td3.json"));
    assert!(checkpoint.contains("lrfree-td3/1"), "{checkpoint}");

    let rows = update_rows(&full.join("ps-da-sgd/seed-0/metrics.csv"));
    assert_eq!(rows.len(), (300..=1600).step_by(50).count());
    for row in &rows {
        for empty in [
            "temperature_loss",
            "temperature",
            "temperature_lr",
            "temperature_d",
        ] {
            assert_eq!(row[empty], "", "{empty} in {row:?}");
        }
        for set in [
            "critic_loss",
            "actor_loss",
            "critic_lr",
            "critic_d",
            "actor_lr",
            "actor_d",
        ] {
            let v: f64 = row[set]
                .parse()
                .unwrap_or_else(|_| panic!("{set} in {row:?}"));
            assert!(v.is_finite(), "{set} in {row:?}");
        }
    }
    let summary = read(&full.join("ps-da-sgd/seed-0/summary.json"));
    assert!(
        !summary.contains("\"temperature_optimizer\": \"adam\""),
        "{summary}"
    );
    rl_report(&full);

    let o = dir.join("bad");
    let o = o.to_str().unwrap();
    one_line_exit_2(
        &rl_train(&["--agent", "ddpg", "--out", o]),
        "unknown agent `ddpg`",
    );
    std::fs::write(
        &config,
        read(&config).replace("hidden = [32, 32]", "hiden = [32]"),
    )
    .unwrap();
    one_line_exit_2(
        &rl_train(&["--config", config.to_str().unwrap(), "--out", o]),
        "hiden",
    );
    assert!(!Path::new(o).exists(), "bad input left {o} behind");
    std::fs::remove_dir_all(&dir).ok();
}
