//! Bad and partial input: clear one-line messages naming the file, never a panic; exit codes.

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use lrfree_plots::cli::{plot_with, report_with};
use lrfree_plots::{PlotError, PlotOptions, RecordError, build_report, write_plots};

fn plot_err(dir: &Path) -> String {
    let e = write_plots(dir, &PlotOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert_eq!(e.exit_code(), 1);
    msg
}

#[test]
fn a_malformed_row_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let path = tmp.path().join("prodigy/seed-0/metrics.csv");
    let mut text = fs::read_to_string(&path).unwrap();
    text = text.replacen("300,update,,,,,1.5", "300,update,,,,,oops", 1);
    fs::write(&path, &text).unwrap();
    let msg = plot_err(tmp.path());
    assert!(
        msg.contains("prodigy/seed-0/metrics.csv: line 4: critic_loss `oops` is not a number"),
        "{msg}"
    );

    fs::write(&path, format!("{}\n12,episode,1.0\n", common::HEADER)).unwrap();
    let msg = plot_err(tmp.path());
    assert!(
        msg.contains("metrics.csv: line 2: 3 fields where the header has 16"),
        "{msg}"
    );

    fs::write(
        &path,
        format!("{}\nten,episode,1,1,,,,,,,,,,,,\n", common::HEADER),
    )
    .unwrap();
    assert!(plot_err(tmp.path()).contains("line 2: step `ten` is not a whole number"));

    fs::write(
        &path,
        format!("{}\n10,restart,,,,,,,,,,,,,,\n", common::HEADER),
    )
    .unwrap();
    assert!(plot_err(tmp.path()).contains("line 2: unknown event `restart`"));
}

#[test]
fn an_unknown_column_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let path = tmp.path().join("ps-da-sgd/seed-0/metrics.csv");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replacen("eval_std", "eval_sd", 1);
    fs::write(&path, text).unwrap();
    let msg = plot_err(tmp.path());
    assert!(
        msg.contains("ps-da-sgd/seed-0/metrics.csv: unknown column header `eval_sd`"),
        "{msg}"
    );
}

#[test]
fn a_bad_summary_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    fs::write(
        tmp.path().join("prodigy/seed-0/summary.json"),
        "{\"optimizer\": \"prodigy\",",
    )
    .unwrap();
    let e = build_report(&[tmp.path().to_path_buf()]).unwrap_err();
    assert!(matches!(e, PlotError::Record(RecordError::BadJson { .. })));
    assert!(
        e.to_string()
            .contains("prodigy/seed-0/summary.json: EOF while parsing"),
        "{e}"
    );
}

#[test]
fn missing_metrics_and_unstarted_seeds_are_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    fs::remove_file(tmp.path().join("prodigy/seed-0/metrics.csv")).unwrap();
    fs::remove_dir_all(tmp.path().join("prodigy/seed-1")).unwrap();
    let report = write_plots(tmp.path(), &PlotOptions::default()).unwrap();
    let w = report.warnings.join("\n");
    assert!(
        w.contains(
            "prodigy/seed-0/metrics.csv: missing (no metrics.csv for this seed); seed skipped"
        ),
        "{w}"
    );
    assert!(w.contains("prodigy seed 1 not started"), "{w}");
    assert_eq!(report.seeds, 2);
}

#[test]
fn nothing_usable_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let msg = plot_err(tmp.path());
    assert!(msg.contains("no usable seed records"), "{msg}");

    fs::create_dir_all(tmp.path().join("adam/seed-0")).unwrap();
    let msg = plot_err(tmp.path());
    assert!(msg.contains("adam/seed-0/metrics.csv: missing"), "{msg}");

    let file = tmp.path().join("file.txt");
    fs::write(&file, "x").unwrap();
    assert!(plot_err(&file).ends_with("file.txt: not a directory"));
    assert!(plot_err(&tmp.path().join("absent")).ends_with("absent: no such directory"));
}

#[test]
fn a_header_only_or_empty_file_is_partial() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    fs::write(
        tmp.path().join("prodigy/seed-0/metrics.csv"),
        format!("{}\n", common::HEADER),
    )
    .unwrap();
    fs::write(tmp.path().join("prodigy/seed-1/metrics.csv"), "").unwrap();
    let report = write_plots(tmp.path(), &PlotOptions::default()).unwrap();
    let w = report.warnings.join("\n");
    assert!(w.contains("prodigy/seed-0/metrics.csv: no rows yet"), "{w}");
    assert!(w.contains("prodigy/seed-1/metrics.csv: empty"), "{w}");
}

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let dir = tmp.path().to_str().unwrap();
    let out = tmp.path().join("figs");
    assert_eq!(
        plot_with(args(&[
            "rl-plot",
            dir,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "svg",
            "--per-seed",
            "--band",
            "std",
            "--smooth",
            "3"
        ])),
        ExitCode::SUCCESS
    );
    assert!(out.join("rewards.svg").is_file() && !out.join("rewards.png").exists());
    // Usage errors: 2.
    assert_eq!(plot_with(args(&["rl-plot"])), ExitCode::from(2));
    assert_eq!(
        plot_with(args(&["rl-plot", dir, "--band", "iqr"])),
        ExitCode::from(2)
    );
    assert_eq!(
        plot_with(args(&["rl-plot", dir, "--smooth", "0"])),
        ExitCode::from(2)
    );
    assert_eq!(
        plot_with(args(&["rl-plot", dir, "--format", "gif"])),
        ExitCode::from(2)
    );
    assert_eq!(report_with(args(&["rl-report"])), ExitCode::from(2));
    // Record errors: 1.
    assert_eq!(
        plot_with(args(&["rl-plot", "/nonexistent/run"])),
        ExitCode::from(1)
    );
    assert_eq!(
        report_with(args(&["rl-report", "/nonexistent/run"])),
        ExitCode::from(1)
    );
    let report_out = tmp.path().join("rep");
    assert_eq!(
        report_with(args(&[
            "rl-report",
            dir,
            "--out",
            report_out.to_str().unwrap()
        ])),
        ExitCode::SUCCESS
    );
    assert!(report_out.join("report.md").is_file() && report_out.join("report.csv").is_file());
}
