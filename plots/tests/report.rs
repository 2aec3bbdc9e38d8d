//! The report's numbers against the hand-made records, computed here by hand.

mod common;

use std::fs;
use std::path::PathBuf;

use lrfree_plots::build_report;

#[test]
fn numbers_equal_those_of_the_records() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let report = build_report(&[tmp.path().to_path_buf()]).unwrap();
    assert_eq!(report.columns, ["Pendulum"]);
    // Table 3's order: prodigy (adaptive) before ps-da-sgd (proposed); SPS and PS-SPS always
    // have their rows, not run.
    let names: Vec<&str> = report.rows.iter().map(|r| r.optimizer.as_str()).collect();
    assert_eq!(names, ["sps", "prodigy", "ps-sps", "ps-da-sgd"]);
    let groups: Vec<&str> = report.rows.iter().map(|r| r.group).collect();
    assert_eq!(
        groups,
        ["steepest descent", "adaptive", "proposed", "proposed"]
    );
    assert!(
        report.cell("sps", "Pendulum").is_none() && report.cell("ps-sps", "Pendulum").is_none()
    );

    // prodigy: seeds 0 (-300, no success) and 1 (-1200, diverged).
    let p = report.cell("prodigy", "Pendulum").unwrap();
    assert_eq!(
        (p.seeds, p.successes, p.lr_diverged, p.unfinished),
        (2, 0, 1, 0)
    );
    assert_eq!(p.mean_final_return, Some(-750.0));
    assert_eq!(p.std_final_return, Some(450.0));
    assert_eq!(p.text(), "-750.0 (0/2)");
    // Two seeds: nothing cut, IQM = mean; each bootstrap resample is (a, a), (a, b), (b, a) or
    // (b, b), so the 2.5th and 97.5th percentiles of their IQMs are the two returns.
    assert_eq!(p.iqm_final_return, Some(-750.0));
    assert_eq!(p.iqm_ci.map(|c| (c.low, c.high)), Some((-1200.0, -300.0)));
    assert_eq!(p.iqm_text(), "IQM -750.0 [-1200.0, -300.0]");
    // ps-da-sgd: seed 0 (-150, success); seed 1 has no summary and is left out.
    let q = report.cell("ps-da-sgd", "Pendulum").unwrap();
    assert_eq!(
        (q.seeds, q.successes, q.lr_diverged, q.unfinished),
        (1, 1, 0, 1)
    );
    assert_eq!(q.mean_final_return, Some(-150.0));
    // One seed: its return, no interval.
    assert_eq!((q.iqm_final_return, q.iqm_ci), (Some(-150.0), None));
    assert_eq!(q.iqm_text(), "IQM -150.0 [–]");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("ps-da-sgd/seed-1/summary.json: missing"))
    );

    let md = report.to_markdown();
    assert!(
        md.contains(
            "| adaptive         | prodigy   | -750.0 (0/2), lr div 1, IQM -750.0 [-1200.0, -300.0] |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| proposed         | ps-da-sgd | -150.0 (1/1), lr div 0, IQM -150.0 [–]               |"
        ),
        "{md}"
    );
    assert!(md.contains("1 seed(s) without summary.json"), "{md}");
    assert!(md.contains("| proposed         | ps-sps    | –"), "{md}");
    assert!(md.contains("– not run. SPS and PS-SPS"), "{md}");
    assert!(!md.contains('†') && !md.contains('‡'), "{md}");
    let csv = report.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "env,optimizer,group,seeds,successes,lr_diverged,mean_final_return,std_final_return,final_returns,unfinished,critics_only,temperature_not_adam,temperature_optimizers,iqm,iqm_ci_low,iqm_ci_high"
    );
    assert_eq!(
        lines[1],
        "Pendulum,prodigy,adaptive,2,0,1,-750,450,-300;-1200,0,0,0,,-750,-1200,-300"
    );
    assert_eq!(
        lines[2],
        "Pendulum,ps-da-sgd,proposed,1,1,0,-150,0,-150,1,0,0,,-150,,"
    );
    assert_eq!(lines.len(), 3, "rows not run have no CSV line");

    let files = report.write(tmp.path()).unwrap();
    assert_eq!(fs::read_to_string(&files[0]).unwrap(), md);
    assert_eq!(fs::read_to_string(&files[1]).unwrap(), csv);
}

#[test]
fn environments_are_columns_and_runs_of_one_env_merge() {
    let a = tempfile::tempdir().unwrap();
    common::make_run(a.path());
    // A second Pendulum run of another optimizer, and a Hopper run.
    let b = tempfile::tempdir().unwrap();
    let d = b.path().join("sgd/seed-3");
    common::write(
        &d.join("metrics.csv"),
        &common::metrics(1000, &[-1400.0, -1300.0], |_| 3e-4),
    );
    common::write(
        &d.join("summary.json"),
        &common::summary("sgd", 3, 1000, -1300.0, false, None),
    );
    let h = tempfile::tempdir().unwrap();
    let d = h.path().join("ps-da-sgd/seed-0");
    common::write(
        &d.join("metrics.csv"),
        &common::metrics(1000, &[500.0, 3100.0], |_| 0.1),
    );
    common::write(
        &d.join("summary.json"),
        &common::summary("ps-da-sgd", 0, 1000, 3100.0, true, None).replace("Pendulum", "Hopper"),
    );

    let dirs: Vec<PathBuf> = [a.path(), b.path(), h.path()]
        .iter()
        .map(|p| p.to_path_buf())
        .collect();
    let report = build_report(&dirs).unwrap();
    assert_eq!(report.columns, ["Pendulum", "Hopper"]);
    let names: Vec<&str> = report.rows.iter().map(|r| r.optimizer.as_str()).collect();
    assert_eq!(names, ["sgd", "sps", "prodigy", "ps-sps", "ps-da-sgd"]);
    assert_eq!(
        report.cell("sgd", "Pendulum").unwrap().text(),
        "-1300.0 (0/1)"
    );
    assert!(report.cell("sgd", "Hopper").is_none());
    assert_eq!(
        report.cell("ps-da-sgd", "Hopper").unwrap().text(),
        "3100.0 (1/1)"
    );
    assert!(
        report.to_markdown().contains("| –"),
        "a missing cell is a dash"
    );
    // The run without run.json says so.
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("run.json: missing"))
    );
}

/// Cells run beyond the paper are marked and footnoted; `--success-threshold` judges every
/// seed against another bar (not diverged and final return at least the bar).
#[test]
fn marks_footnotes_and_another_success_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |opt: &str, seed: u64, ret: f64, success: bool, div: Option<u64>, extra: &str| {
        let d = tmp.path().join(format!("{opt}/seed-{seed}"));
        common::write(
            &d.join("metrics.csv"),
            &common::metrics(1000, &[-900.0, ret], |_| 1e-3),
        );
        // `extra` replaces the fixture's `"temperature_optimizer": "adam"`.
        let text = common::summary(opt, seed, 1000, ret, success, div)
            .replace(r#""temperature_optimizer": "adam""#, extra);
        common::write(&d.join("summary.json"), &text);
    };
    run(
        "ps-sps",
        0,
        -200.0,
        true,
        None,
        r#""actor_optimizer": "adam", "temperature_optimizer": "adam""#,
    );
    run(
        "dog",
        0,
        -300.0,
        false,
        None,
        r#""temperature_optimizer": "dog""#,
    );
    run(
        "dog",
        1,
        -100.0,
        true,
        None,
        r#""temperature_optimizer": "dog""#,
    );
    run(
        "adam",
        0,
        -400.0,
        false,
        None,
        r#""temperature_optimizer": "adam""#,
    );
    run(
        "adam",
        1,
        -100.0,
        false,
        Some(900),
        r#""temperature_optimizer": "adam""#,
    );
    run(
        "ps-da-sgd",
        0,
        -120.0,
        true,
        None,
        r#""temperature_optimizer": "cocob""#,
    );
    // A record from before the key: its temperature was the method's own.
    run("ps-da-sgd", 1, -130.0, true, None, r#""old_record": true"#);
    let dirs = [tmp.path().to_path_buf()];
    let report = build_report(&dirs).unwrap();
    assert_eq!(
        report.cell("ps-sps", "Pendulum").unwrap().text(),
        "-200.0† (1/1)"
    );
    assert_eq!(
        report.cell("dog", "Pendulum").unwrap().text(),
        "-200.0‡ (1/2)"
    );
    assert_eq!(
        report.cell("adam", "Pendulum").unwrap().text(),
        "-250.0 (0/2)"
    );
    let md = report.to_markdown();
    assert_eq!(
        report.cell("ps-da-sgd", "Pendulum").unwrap().text(),
        "-125.0‡ (2/2)"
    );
    assert_eq!(
        report
            .cell("ps-da-sgd", "Pendulum")
            .unwrap()
            .temperature_optimizers,
        ["cocob", "ps-da-sgd"]
    );
    assert!(
        md.contains("† beyond the paper") && md.contains("‡ the temperature not on Adam"),
        "{md}"
    );
    assert!(
        md.contains(
            "dog on Pendulum: dog (2/2 seeds); ps-da-sgd on Pendulum: cocob, ps-da-sgd (2/2 seeds)"
        ),
        "{md}"
    );
    assert!(md.contains("– not run"), "the sps row: {md}");

    let report = lrfree_plots::build_report_with(&dirs, Some(-350.0)).unwrap();
    assert_eq!(
        report.cell("adam", "Pendulum").unwrap().successes,
        0,
        "-400 misses the bar, the other seed diverged"
    );
    assert_eq!(report.cell("dog", "Pendulum").unwrap().successes, 2);
    let report = lrfree_plots::build_report_with(&dirs, Some(-150.0)).unwrap();
    assert_eq!(report.cell("ps-sps", "Pendulum").unwrap().successes, 0);
}

/// The same seed found in two runs of one environment (a run copied, or rerun into another
/// directory) is counted once, with a warning naming it.
#[test]
fn a_seed_found_in_two_runs_of_one_environment_is_counted_once() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    common::make_run(a.path());
    common::make_run(b.path());
    let report = build_report(&[a.path().to_path_buf(), b.path().to_path_buf()]).unwrap();
    let p = report.cell("prodigy", "Pendulum").unwrap();
    assert_eq!((p.seeds, p.mean_final_return), (2, Some(-750.0)));
    // The unfinished seed is unfinished in both runs.
    assert_eq!(report.cell("ps-da-sgd", "Pendulum").unwrap().unfinished, 2);
    let twice: Vec<&String> = report
        .warnings
        .iter()
        .filter(|w| w.contains("already counted from an earlier run"))
        .collect();
    assert_eq!(twice.len(), 3, "{twice:?}");
    assert!(
        twice
            .iter()
            .any(|w| w.contains("prodigy seed 1 on Pendulum"))
    );
}

/// The IQM is over the same returns as the mean: every seed with a final evaluation, the
/// diverged one included, the one without an evaluation left out; its interval is the same
/// each time the report is made.
#[test]
fn the_iqm_and_its_interval_are_over_the_returns_of_the_mean() {
    let tmp = tempfile::tempdir().unwrap();
    for (seed, ret, div) in [
        (0, -100.0, None),
        (1, -200.0, None),
        (2, -5000.0, Some(900)),
        (3, -300.0, None),
        (4, -400.0, None),
        (5, -9999.0, None),
    ] {
        let d = tmp.path().join(format!("adam/seed-{seed}"));
        common::write(
            &d.join("metrics.csv"),
            &common::metrics(1000, &[-900.0, ret], |_| 1e-3),
        );
        let mut text = common::summary("adam", seed, 1000, ret, false, div);
        if seed == 5 {
            // Stopped before its first evaluation.
            text = text.replace(
                "\"final_eval_return\": -9999",
                "\"final_eval_return\": null",
            );
        }
        common::write(&d.join("summary.json"), &text);
    }
    let dirs = [tmp.path().to_path_buf()];
    let report = build_report(&dirs).unwrap();
    let c = report.cell("adam", "Pendulum").unwrap();
    assert_eq!((c.seeds, c.lr_diverged), (6, 1));
    // Five returns: the mean of all five, the IQM of the middle three (-200, -300, -400).
    assert_eq!(c.mean_final_return, Some(-1200.0));
    assert_eq!(c.iqm_final_return, Some(-300.0));
    let ci = c.iqm_ci.unwrap();
    assert!(
        ci.low <= -300.0 && -300.0 <= ci.high && ci.low >= -5000.0 && ci.high <= -100.0,
        "{ci:?}"
    );
    let text = format!(
        "-1200.0 (0/6), lr div 1, IQM -300.0 [{:.1}, {:.1}]",
        ci.low, ci.high
    );
    let md = report.to_markdown();
    assert!(md.contains(&text), "{md}");
    assert!(md.contains("IQM: the interquartile mean"), "{md}");

    let csv = report.to_csv();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let header = csv.lines().next().unwrap().split(',').collect::<Vec<_>>();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col("final_returns")], "-100;-200;-5000;-300;-400;");
    assert_eq!(rows[0][col("iqm")], "-300");
    assert_eq!(rows[0][col("iqm_ci_low")].parse::<f64>().unwrap(), ci.low);
    assert_eq!(rows[0][col("iqm_ci_high")].parse::<f64>().unwrap(), ci.high);
    assert_eq!(
        build_report(&dirs).unwrap().to_csv(),
        csv,
        "the same report every time"
    );
}
