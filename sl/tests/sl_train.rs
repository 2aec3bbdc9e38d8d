//! Tests of `sl-train`: a real digits training, records against report and figures,
//! reproducibility, each loader on tiny generated files in its real format (and rejecting
//! malformed ones), one short run per task and model, and bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use lrfree_sl::data::DataError;
use lrfree_sl::formats;

const BIN: &str = env!("CARGO_BIN_EXE_sl-train");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sl-train-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sl_train(args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run sl-train")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "sl-train failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// `epochs.csv` as rows of cells, header dropped.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = read(path);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        lrfree_runkit::records::sl::COLUMNS.join(",")
    );
    lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn digits_with_adam_learns_and_records_report_and_figures_agree() {
    let dir = temp_dir("digits");
    let out = dir.join("run");
    let res = sl_train(&[
        "--opt",
        "adam",
        "--epochs",
        "4",
        "--model",
        "cnn",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&res);
    let seed = out.join("adam/seed-0");
    let rows = csv_rows(&seed.join("epochs.csv"));
    assert_eq!(rows.len(), 4);
    let summary = json(&seed.join("summary.json"));
    let acc = summary["final_test_accuracy"].as_f64().unwrap();
    // Chance is 10 %; four epochs of a small convnet get far above it.
    assert!(acc > 85.0, "test accuracy {acc}");
    // JSON is read back with serde_json's fast float parser: compare to 1e-12.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
    let last = rows.last().unwrap();
    assert!(
        close(last[6].parse().unwrap(), acc),
        "summary and epochs.csv disagree"
    );
    let loss = summary["final_train_loss"].as_f64().unwrap();
    assert!(close(last[3].parse().unwrap(), loss));
    assert!(
        rows[0][3].parse::<f64>().unwrap() > loss,
        "training loss did not fall"
    );
    assert_eq!(
        last[8].parse::<f64>().unwrap(),
        1e-3,
        "adam's lr is recorded"
    );
    // Report: the Table-3 cell, in Markdown, CSV and on stdout.
    let cell = format!("{acc:.2} ({loss:.4})");
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains(&cell), "{stdout}");
    assert!(read(&out.join("sl-report.md")).contains(&cell));
    let csv = read(&out.join("sl-report.csv"));
    let line: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        &line[..6],
        &[
            "digits / cnn",
            "adam",
            "adaptive",
            "test_accuracy",
            "1",
            "0"
        ],
        "{csv}"
    );
    assert!(
        close(line[6].parse().unwrap(), acc) && close(line[8].parse().unwrap(), loss),
        "{csv}"
    );
    assert!(read(&out.join("result.txt")).contains(&cell));
    let run = json(&out.join("summary.json"));
    assert!(close(
        run["results"][0]["mean_test_metric"].as_f64().unwrap(),
        acc
    ));
    for f in [
        "plots/sl-curves.png",
        "plots/sl-curves.svg",
        "adam/seed-0/model.bpk",
        "adam/seed-0/encoder.bpk",
        "run.json",
        "config.toml",
    ] {
        assert!(
            std::fs::metadata(out.join(f))
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f} missing or empty"
        );
    }
    assert!(read(&out.join("plots/sl-curves.svg")).contains("adam"));
    // The report of finished runs, without training.
    let table = dir.join("table");
    let res = sl_train(&[
        "--report",
        out.to_str().unwrap(),
        "--out",
        table.to_str().unwrap(),
    ]);
    ok(&res);
    assert!(String::from_utf8_lossy(&res.stdout).contains(&cell));
    assert_eq!(read(&table.join("sl-report.csv")), csv);
    let res = sl_train(&["--report", dir.join("nothing").to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&res.stderr).contains("no such directory"));
}

/// A burn-train metric log (`burn-train/<split>/epoch-N/<name>.log`): the per-batch values and
/// the epoch's final value.
fn burn_log(seed: &Path, split: &str, epoch: usize, name: &str) -> (Vec<f64>, Option<f64>) {
    let text = read(&seed.join(format!("burn-train/{split}/epoch-{epoch}/{name}.log")));
    let (mut batches, mut last) = (Vec::new(), None);
    for line in text.lines() {
        let (value, rest) = line.split_once(',').unwrap_or((line, ""));
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        match rest {
            "final" => last = Some(value),
            _ => batches.push(value),
        }
    }
    (batches, last)
}

/// The classifier trains in burn-train's `Learner`: the seed's directory holds burn-train's
/// metric logs, and every `epochs.csv` row is what burn-train computed and logged for that
/// epoch (train and test loss and accuracy: the final entries of its logs; lr and D: the last
/// batch's entry of burn-lrfree's estimate metrics), while the loss falls.
#[test]
fn the_classifier_trains_in_burn_trains_learner_and_its_rows_are_burn_trains_metrics() {
    let dir = temp_dir("learner");
    let out = dir.join("run");
    ok(&sl_train(&[
        "--opt",
        "ps-da-sgd",
        "--epochs",
        "3",
        "--model",
        "cnn",
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]));
    let seed = out.join("ps-da-sgd/seed-0");
    let rows = csv_rows(&seed.join("epochs.csv"));
    assert_eq!(rows.len(), 3);
    let cell = |r: &[String], i: usize| -> f64 { r[i].parse().unwrap() };
    for (e, row) in rows.iter().enumerate().map(|(i, r)| (i + 1, r)) {
        let last = |split: &str, name: &str| burn_log(&seed, split, e, name).1.unwrap();
        assert_eq!(cell(row, 3), last("train", "Loss"), "epoch {e} train loss");
        assert_eq!(
            cell(row, 4),
            last("train", "Accuracy"),
            "epoch {e} train accuracy"
        );
        assert_eq!(cell(row, 5), last("valid", "Loss"), "epoch {e} test loss");
        assert_eq!(
            cell(row, 6),
            last("valid", "Accuracy"),
            "epoch {e} test accuracy"
        );
        // 1,442 images in batches of 64: 23 steps per epoch, each one a logged batch.
        let (batches, _) = burn_log(&seed, "train", e, "Estimated_LR");
        assert_eq!(batches.len(), 23, "epoch {e}");
        assert_eq!(cell(row, 2), 23.0 * e as f64, "epoch {e} steps");
        assert_eq!(cell(row, 8), *batches.last().unwrap(), "epoch {e} lr");
        let (d, _) = burn_log(&seed, "train", e, "Estimated_D");
        assert_eq!(cell(row, 9), *d.last().unwrap(), "epoch {e} D");
    }
    assert!(!seed.join("burn-train/train/epoch-4").exists());
    // The estimate moved (PS-DA-SGD grows it from 1e-6) and the loss fell.
    assert!(cell(&rows[2], 8) > cell(&rows[0], 8), "{rows:?}");
    assert!(cell(&rows[2], 3) < cell(&rows[0], 3), "{rows:?}");
    assert!(cell(&rows[2], 6) > 50.0, "{rows:?}");
}

/// A divergence stops burn-train's `Learner` within the epoch (no test pass, no later epoch)
/// and is recorded as before: a NaN row for the epoch cut short, at the step that diverged,
/// and `diverged` in the summary, for each of the rule's kinds met here (an estimate over the
/// bound, a non-finite loss).
#[test]
fn a_divergence_interrupts_the_learner_and_ends_the_seed_with_a_nan_row() {
    let dir = temp_dir("divergence");
    let common = "task = \"digits\"\nmodel = \"mlp\"\nepochs = 3\nbatch_size = 64\n";
    // PS-DA-SGD's estimate passes 1e-2 in epoch 2; SGD at 1e6 overflows the loss at once.
    for (name, config, opt, reason) in [
        (
            "bound",
            format!("{common}lr_divergence_bound = 1e-2\n"),
            "ps-da-sgd",
            "exceeds the bound 1e-2",
        ),
        (
            "loss",
            format!("{common}lr_divergence_bound = 1e12\n[optimizers.sgd]\nlr = 1e6\n"),
            "sgd",
            "training loss became NaN",
        ),
    ] {
        let out = train_config(&dir, name, &config, opt);
        let seed = out.join(opt).join("seed-0");
        let summary = json(&seed.join("summary.json"));
        assert_eq!(summary["diverged"], true, "{name}: {summary}");
        let d = &summary["divergence"];
        assert!(
            d["reason"].as_str().unwrap().contains(reason),
            "{name}: {d}"
        );
        let (epoch, step) = (d["epoch"].as_u64().unwrap(), d["step"].as_u64().unwrap());
        let rows = csv_rows(&seed.join("epochs.csv"));
        assert_eq!(rows.len() as u64, epoch, "{name}: {rows:?}");
        let last = rows.last().unwrap();
        assert_eq!(last[0], epoch.to_string(), "{name}");
        assert_eq!(last[2], step.to_string(), "{name}");
        assert_eq!(last[3], "NaN", "{name}");
        assert_eq!(summary["epochs_done"].as_u64(), Some(epoch), "{name}");
        assert!(summary["final_test_accuracy"].is_null(), "{name}");
        // burn-train stopped in that epoch: part of its batches, no test pass, nothing after.
        let (batches, _) = burn_log(&seed, "train", epoch as usize, "Loss");
        assert!(
            !batches.is_empty() && batches.len() < 23,
            "{name}: {batches:?}"
        );
        assert!(
            !seed
                .join(format!("burn-train/valid/epoch-{epoch}"))
                .exists()
        );
        assert!(
            !seed
                .join(format!("burn-train/train/epoch-{}", epoch + 1))
                .exists()
        );
        assert!(seed.join("model.bpk").exists(), "{name}");
    }
}

/// `--device auto` trains where it can, saying so when that is the CPU, and the run records
/// the device it ran on (`cpu` or `cuda`, never `auto`); `--device cpu` is the CPU in any build.
#[test]
fn the_device_is_chosen_explicitly_and_recorded() {
    let dir = temp_dir("device");
    let run = |device: &str| {
        let out = dir.join(device);
        let res = sl_train(&[
            "--opt",
            "adam",
            "--epochs",
            "1",
            "--model",
            "mlp",
            "--no-plots",
            "--device",
            device,
            "--out",
            out.to_str().unwrap(),
        ]);
        ok(&res);
        let recorded = json(&out.join("run.json"))["config"]["device"]
            .as_str()
            .unwrap()
            .to_string();
        let toml = read(&out.join("config.toml"));
        assert!(toml.contains(&format!("device = \"{recorded}\"")), "{toml}");
        (recorded, String::from_utf8_lossy(&res.stderr).to_string())
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
}

/// Whether `second` started before `first` printed its epoch `last`, by the lines sl-train
/// prints (`<cell>: training ...` when a seed starts, `<cell>: train epoch N ...` after each
/// epoch). Lines come in the order they happened: false for seeds trained one after the other,
/// however fast the machine, and true for seeds trained at once.
fn overlapped(stderr: &str, first: &str, last: u32, second: &str) -> bool {
    let lines: Vec<&str> = stderr.lines().collect();
    let position = |needle: String| {
        lines
            .iter()
            .position(|l| l.starts_with(&needle))
            .unwrap_or_else(|| panic!("no line `{needle}...` in:\n{stderr}"))
    };
    position(format!("{second}: training ")) < position(format!("{first}: train epoch {last} "))
}

/// `--jobs 2` trains two seeds at once (their lines overlap, which they cannot when the pool
/// serializes its jobs) and gives the records of `--jobs 1`.
#[test]
fn same_seed_gives_the_same_records_also_in_parallel() {
    let dir = temp_dir("determinism");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let serial = sl_train(&[
        "--opt",
        "adam,ps-da-sgd",
        "--epochs",
        "2",
        "--model",
        "mlp",
        "--jobs",
        "1",
        "--no-plots",
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&serial);
    let parallel = sl_train(&[
        "--opt",
        "adam,ps-da-sgd",
        "--epochs",
        "2",
        "--model",
        "mlp",
        "--jobs",
        "2",
        "--no-plots",
        "--out",
        b.to_str().unwrap(),
    ]);
    ok(&parallel);
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        overlapped(&stderr(&parallel), "adam seed 0", 2, "ps-da-sgd seed 0"),
        "--jobs 2 started ps-da-sgd only after adam finished: the jobs ran one at a time\n{}",
        stderr(&parallel)
    );
    assert!(
        !overlapped(&stderr(&serial), "adam seed 0", 2, "ps-da-sgd seed 0"),
        "--jobs 1 overlapped two seeds:\n{}",
        stderr(&serial)
    );
    assert!(
        String::from_utf8_lossy(&parallel.stdout).contains("wall time ")
            && String::from_utf8_lossy(&parallel.stdout).contains("for 2 seed runs on 2 threads"),
        "{}",
        String::from_utf8_lossy(&parallel.stdout)
    );
    for opt in ["adam", "ps-da-sgd"] {
        let strip = |p: &Path| {
            csv_rows(&p.join(opt).join("seed-0/epochs.csv"))
                .into_iter()
                .map(|mut r| {
                    r.pop(); // wall_s
                    r
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&a), strip(&b), "{opt}");
    }
}

#[test]
fn bad_input_exits_2_with_one_line_and_no_run_directory() {
    let dir = temp_dir("bad");
    let cifar = dir.join("cifar");
    std::fs::create_dir_all(&cifar).unwrap();
    std::fs::write(cifar.join("train.bin"), vec![0u8; 1000]).unwrap();
    std::fs::write(cifar.join("test.bin"), vec![0u8; formats::CIFAR_RECORD]).unwrap();
    let config = write_config(
        &dir,
        "task = \"digits\"\nmodel = \"cnn\"\nepochs = 1\nbatch_size = 8\nlr_divergence_bound = 1e3\nlearning_rate = 3\n",
    );
    let sps_opt_in = dir.join("sps.toml");
    std::fs::write(
        &sps_opt_in,
        "task = \"digits\"\nmodel = \"cnn\"\nepochs = 1\nsps_critics_only = true\n",
    )
    .unwrap();
    let mut cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--opt".into(), "adamw".into()], "adamw"),
        (
            vec!["--device".into(), "gpu".into()],
            "--device gpu: unknown device; devices: cpu, cuda, auto",
        ),
        (vec!["--model".into(), "resnet50".into()], "unknown model"),
        (vec!["--task".into(), "mnist".into()], "unknown task"),
        (vec!["--model".into(), "segnet".into()], "does not fit"),
        (vec!["--epochs".into(), "0".into()], "epochs"),
        (vec!["--seeds".into(), "0".into()], "no seeds"),
        (vec!["--task".into(), "cifar100".into()], "--data"),
        (
            vec![
                "--task".into(),
                "cifar100".into(),
                "--data".into(),
                dir.join("nowhere").display().to_string(),
            ],
            "nowhere",
        ),
        (
            vec![
                "--task".into(),
                "cifar100".into(),
                "--data".into(),
                cifar.display().to_string(),
            ],
            "train.bin: 1000 bytes",
        ),
        (
            vec!["--config".into(), config.display().to_string()],
            "learning_rate",
        ),
        (
            vec![
                "--config".into(),
                dir.join("none.toml").display().to_string(),
            ],
            "none.toml",
        ),
        (
            vec!["--opt".into(), "ps-sps".into(), "--sps-critics-only".into()],
            "sps_critics_only is for RL runs",
        ),
        (
            vec!["--config".into(), sps_opt_in.display().to_string()],
            "sps_critics_only is for RL runs",
        ),
    ];
    if !cfg!(feature = "cuda") {
        cases.push((
            vec!["--device".into(), "cuda".into()],
            "built without the `cuda` feature",
        ));
    }
    for (i, (args, expect)) in cases.iter().enumerate() {
        let out = dir.join(format!("run-{i}"));
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--out", out.to_str().unwrap()]);
        let res = sl_train(&all);
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expect),
            "{args:?}: expected `{expect}` in {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    // A non-empty --out is refused and left as it was.
    let busy = dir.join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "x").unwrap();
    let res = sl_train(&["--out", busy.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
}

// ---- Tiny datasets in the real formats ----

/// A deterministic pattern image whose class is visible (brightness by class).
fn pixel(class: usize, i: usize, c: usize, y: usize, x: usize) -> u8 {
    ((class * 60 + (x * 7 + y * 3 + c * 11 + i * 5) % 40) % 256) as u8
}

fn write_cifar(dir: &Path, n_train: usize, n_test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, n) in [("train.bin", n_train), ("test.bin", n_test)] {
        let mut bytes = Vec::new();
        for i in 0..n {
            let fine = i % 3;
            bytes.extend([(fine % 20) as u8, fine as u8]);
            for c in 0..3 {
                for y in 0..32 {
                    for x in 0..32 {
                        bytes.push(pixel(fine, i, c, y, x));
                    }
                }
            }
        }
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn rgb(class: usize, i: usize, size: u32) -> image::RgbImage {
    image::RgbImage::from_fn(size, size, |x, y| {
        image::Rgb([0, 1, 2].map(|c| pixel(class, i, c, y as usize, x as usize)))
    })
}

fn write_image_folder(dir: &Path) {
    for split in ["train", "val"] {
        for (k, class) in ["cat", "dog"].iter().enumerate() {
            let d = dir.join(split).join(class);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..3 {
                let img = rgb(k, i, 20);
                // Both formats: PNG and JPEG.
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                img.save(d.join(format!("{i}.{ext}"))).unwrap();
            }
            std::fs::write(d.join("notes.txt"), "not an image: skipped").unwrap();
        }
    }
}

fn write_ade20k(dir: &Path, classes: u8) {
    for split in ["training", "validation"] {
        let (imgs, anns) = (
            dir.join("images").join(split),
            dir.join("annotations").join(split),
        );
        std::fs::create_dir_all(&imgs).unwrap();
        std::fs::create_dir_all(&anns).unwrap();
        for i in 0..3 {
            let stem = format!("ADE_{split}_{i:08}");
            rgb(i, i, 16)
                .save(imgs.join(format!("{stem}.jpg")))
                .unwrap();
            // Left half class 1, right half class 2, a border of 0 (ignored).
            let ann = image::GrayImage::from_fn(16, 16, |x, y| {
                image::Luma([if x == 0 || y == 0 {
                    0
                } else if x < 8 {
                    1
                } else {
                    classes.min(2)
                }])
            });
            ann.save(anns.join(format!("{stem}.png"))).unwrap();
        }
    }
}

fn stl_images(n: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..n {
        for c in 0..3 {
            for col in 0..96 {
                for row in 0..96 {
                    bytes.push(pixel(i % 2, i, c, row, col));
                }
            }
        }
    }
    bytes
}

fn write_stl10(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("train_X.bin"), stl_images(6)).unwrap();
    std::fs::write(dir.join("train_y.bin"), [1u8, 2, 1, 2, 1, 2]).unwrap();
    std::fs::write(dir.join("test_X.bin"), stl_images(4)).unwrap();
    std::fs::write(dir.join("test_y.bin"), [1u8, 2, 1, 2]).unwrap();
    std::fs::write(dir.join("unlabeled_X.bin"), stl_images(4)).unwrap();
}

fn err_text(e: DataError) -> String {
    e.to_string()
}

#[test]
fn cifar100_parses_and_rejects_truncated_files_and_bad_labels() {
    let dir = temp_dir("cifar");
    write_cifar(&dir, 4, 2);
    let split = formats::cifar100(&dir, true).unwrap();
    assert_eq!(
        (split.train.len(), split.test.len(), split.train.classes),
        (4, 2, 100)
    );
    assert_eq!(split.train.labels, vec![0, 1, 2, 0]);
    assert_eq!(split.train.image(1)[0], pixel(1, 1, 0, 0, 0));
    assert_eq!(formats::cifar100(&dir, false).unwrap().train.classes, 20);
    let bytes = std::fs::read(dir.join("train.bin")).unwrap();
    std::fs::write(dir.join("train.bin"), &bytes[..bytes.len() - 1]).unwrap();
    let e = err_text(formats::cifar100(&dir, true).unwrap_err());
    assert!(e.contains("train.bin") && e.contains("truncated"), "{e}");
    let mut bad = bytes.clone();
    bad[formats::CIFAR_RECORD + 1] = 100; // second record's fine label
    std::fs::write(dir.join("train.bin"), bad).unwrap();
    let e = err_text(formats::cifar100(&dir, true).unwrap_err());
    assert!(
        e.contains("train.bin: record 1") && e.contains("fine 100"),
        "{e}"
    );
    std::fs::remove_file(dir.join("test.bin")).unwrap();
    std::fs::write(dir.join("train.bin"), bytes).unwrap();
    assert!(err_text(formats::cifar100(&dir, true).unwrap_err()).contains("test.bin"));
}

#[test]
fn image_folder_reads_png_and_jpeg_and_rejects_broken_images() {
    let dir = temp_dir("folder");
    write_image_folder(&dir);
    let (split, classes) = formats::image_folder(&dir, 16).unwrap();
    assert_eq!(classes, vec!["cat", "dog"]);
    assert_eq!(
        (split.train.len(), split.test.len(), split.train.height),
        (6, 6, 16)
    );
    assert_eq!(split.train.labels, vec![0, 0, 0, 1, 1, 1]);
    // Class 1 images are brighter than class 0 ones (the pattern survived decoding).
    let mean = |i: usize| {
        split
            .train
            .image(i)
            .iter()
            .map(|&p| f64::from(p))
            .sum::<f64>()
    };
    assert!(mean(4) > mean(1));
    std::fs::write(dir.join("train/dog/broken.png"), b"\x89PNG not really").unwrap();
    let e = err_text(formats::image_folder(&dir, 16).unwrap_err());
    assert!(
        e.contains("broken.png") && e.contains("cannot decode"),
        "{e}"
    );
    std::fs::remove_file(dir.join("train/dog/broken.png")).unwrap();
    std::fs::create_dir_all(dir.join("val/bird")).unwrap();
    let e = err_text(formats::image_folder(&dir, 16).unwrap_err());
    assert!(e.contains("bird") && e.contains("not a class"), "{e}");
}

#[test]
fn ade20k_pairs_parse_and_missing_or_bad_annotations_are_named() {
    let dir = temp_dir("ade");
    write_ade20k(&dir, 2);
    let split = formats::ade20k(&dir, 8, 2).unwrap();
    assert_eq!((split.train.images.len(), split.test.images.len()), (3, 3));
    assert_eq!(split.train.masks.len(), 3 * 64);
    assert!(split.train.masks.iter().all(|&m| m <= 2) && split.train.masks.contains(&2));
    // A label above `classes`.
    let e = err_text(formats::ade20k(&dir, 8, 1).unwrap_err());
    assert!(
        e.contains("ADE_training_00000000.png") && e.contains("label 2"),
        "{e}"
    );
    // An image without its annotation.
    std::fs::remove_file(dir.join("annotations/validation/ADE_validation_00000001.png")).unwrap();
    let e = err_text(formats::ade20k(&dir, 8, 2).unwrap_err());
    assert!(
        e.contains("ADE_validation_00000001.jpg") && e.contains("without its annotation"),
        "{e}"
    );
    // An RGB annotation.
    rgb(0, 0, 16)
        .save(dir.join("annotations/validation/ADE_validation_00000001.png"))
        .unwrap();
    let e = err_text(formats::ade20k(&dir, 8, 2).unwrap_err());
    assert!(e.contains("single-channel"), "{e}");
    // An annotation whose image is missing.
    std::fs::remove_file(dir.join("images/validation/ADE_validation_00000001.jpg")).unwrap();
    let e = err_text(formats::ade20k(&dir, 8, 2).unwrap_err());
    assert!(e.contains("annotation without an image"), "{e}");
}

#[test]
fn stl10_parses_and_rejects_wrong_sizes_and_labels() {
    let dir = temp_dir("stl");
    write_stl10(&dir);
    let (split, unlabeled) = formats::stl10(&dir, 96, Some(3)).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (6, 4));
    assert_eq!(split.train.labels, vec![0, 1, 0, 1, 0, 1]);
    assert_eq!(unlabeled.unwrap().len(), 3);
    // Column-major on disk: (row 1, column 2) of channel 0 of image 0.
    assert_eq!(split.train.image(0)[96 + 2], pixel(0, 0, 0, 1, 2));
    std::fs::write(dir.join("train_y.bin"), [1u8, 2, 1, 2, 1]).unwrap();
    let e = err_text(formats::stl10(&dir, 96, None).unwrap_err());
    assert!(
        e.contains("train_y.bin") && e.contains("5 labels for 6 images"),
        "{e}"
    );
    std::fs::write(dir.join("train_y.bin"), [1u8, 2, 1, 2, 1, 11]).unwrap();
    let e = err_text(formats::stl10(&dir, 96, None).unwrap_err());
    assert!(e.contains("label 11 of image 5"), "{e}");
    std::fs::write(dir.join("train_y.bin"), [1u8, 2, 1, 2, 1, 2]).unwrap();
    std::fs::write(dir.join("test_X.bin"), vec![0u8; 100]).unwrap();
    let e = err_text(formats::stl10(&dir, 96, None).unwrap_err());
    assert!(e.contains("test_X.bin") && e.contains("truncated"), "{e}");
}

// ---- One short run per task and model ----

/// Writes `config` as `<name>.toml` in `dir` and trains it with `opt` into `dir/<name>`
/// (which it returns); the run must exit successfully.
fn train_config(dir: &Path, name: &str, config: &str, opt: &str) -> PathBuf {
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let out = dir.join(name);
    ok(&sl_train(&[
        "--config",
        cfg.to_str().unwrap(),
        "--opt",
        opt,
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]));
    out
}

/// [`train_config`], and its seed finished without diverging.
fn run_config(dir: &Path, name: &str, config: &str, opt: &str) -> PathBuf {
    let out = train_config(dir, name, config, opt);
    let summary = json(&out.join(opt).join("seed-0/summary.json"));
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["diverged"], false, "{summary}");
    out
}

#[test]
fn each_task_and_model_runs_end_to_end() {
    let dir = temp_dir("tasks");
    let common = "lr_divergence_bound = 1e6\neval_batch_size = 4\n";
    write_cifar(&dir.join("cifar"), 6, 3);
    for (model, opts) in [
        ("resnet32", "resnet_blocks = 1\nresnet_widths = [4, 8, 8]"),
        ("vgg19", "vgg_widths = [4, 4, 8, 8, 8]"),
    ] {
        let cfg = format!(
            "task = \"cifar100\"\nmodel = \"{model}\"\ndata = \"{}\"\nepochs = 1\nbatch_size = 3\n{common}[augment]\ncrop_pad = 4\nhflip = true\n[model_options]\n{opts}\n",
            dir.join("cifar").display()
        );
        let out = run_config(&dir, model, &cfg, "dadapt-sgd");
        let acc = json(&out.join("dadapt-sgd/seed-0/summary.json"))["final_test_accuracy"]
            .as_f64()
            .unwrap();
        assert!((0.0..=100.0).contains(&acc));
    }
    write_image_folder(&dir.join("folder"));
    let folder = format!(
        "task = \"imagefolder\"\ndata = \"{}\"\nimage_size = 8\nepochs = 1\nbatch_size = 3\n{common}",
        dir.join("folder").display()
    );
    run_config(
        &dir,
        "vit",
        &format!(
            "{folder}model = \"vit-tiny\"\n[model_options]\nvit_patch = 4\nvit_width = 12\nvit_depth = 2\nvit_heads = 3\n"
        ),
        "prodigy",
    );
    // A cnn classifier on RGB images gives the encoder the segmentation model fine-tunes from.
    let cnn = run_config(
        &dir,
        "cnn",
        &format!("{folder}model = \"cnn\"\n[model_options]\ncnn_widths = [4, 8]\n"),
        "adam",
    );
    let encoder = cnn.join("adam/seed-0/encoder.bpk");
    write_ade20k(&dir.join("ade"), 2);
    let seg = format!(
        "task = \"ade20k\"\nmodel = \"segnet\"\ndata = \"{}\"\nimage_size = 8\nclasses = 2\nepochs = 2\nbatch_size = 3\npretrained = \"{}\"\n{common}[model_options]\ncnn_widths = [4, 8]\n",
        dir.join("ade").display(),
        encoder.display()
    );
    let out = run_config(&dir, "seg", &seg, "ps-da-sgd");
    let rows = csv_rows(&out.join("ps-da-sgd/seed-0/epochs.csv"));
    assert!(
        rows.iter()
            .all(|r| r[7].parse::<f64>().is_ok() && r[6].is_empty()),
        "mIoU, not accuracy: {rows:?}"
    );
    // An encoder of other widths does not fit: refused before anything is written.
    let wrong = seg.replace("cnn_widths = [4, 8]", "cnn_widths = [8, 8]");
    let cfg = write_config(&dir, &wrong);
    let res = sl_train(&[
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.join("seg-wrong").to_str().unwrap(),
    ]);
    assert_eq!(
        res.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(String::from_utf8_lossy(&res.stderr).contains("does not fit"));
    assert!(!dir.join("seg-wrong").exists());
    write_stl10(&dir.join("stl"));
    let stl = format!(
        "task = \"stl10\"\nmodel = \"simclr\"\ndata = \"{}\"\nimage_size = 8\nmax_unlabeled = 4\nepochs = 1\nbatch_size = 4\n{common}[simclr]\nlinear_epochs = 2\n[model_options]\nresnet_blocks = 1\nresnet_widths = [4, 8]\nsimclr_projection = 8\n",
        dir.join("stl").display()
    );
    let out = run_config(&dir, "simclr", &stl, "adam");
    let rows = csv_rows(&out.join("adam/seed-0/epochs.csv"));
    let phases: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        phases,
        vec![("1", "pretrain"), ("2", "linear"), ("3", "linear")]
    );
    assert!(
        rows[2][6].parse::<f64>().is_ok(),
        "linear evaluation has a test accuracy"
    );
}
