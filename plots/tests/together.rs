//! `rl-plot --together`: several runs of one environment in one pair of figures, an optimizer
//! found in several runs told apart by its run's label and colour.

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use lrfree_plots::cli::plot_with;
use lrfree_plots::{PlotError, PlotOptions, write_plots_together};

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// A second run: `ps-da-sgd` (also in [`common::make_run`]) and `adam` (only here), seed 0.
fn make_other_run(dir: &Path, env: &str) {
    common::write(
        &dir.join("run.json"),
        &format!(
            r#"{{"env": "{env}", "steps": 2000, "optimizers": ["ps-da-sgd", "adam"], "seeds": [0], "config": {{}}}}"#
        ),
    );
    for (opt, last) in [("ps-da-sgd", -120.0), ("adam", -180.0)] {
        let d = dir.join(format!("{opt}/seed-0"));
        common::write(
            &d.join("metrics.csv"),
            &common::metrics(2000, &[-800.0, -400.0, -200.0, last], |_| 0.003),
        );
        common::write(
            &d.join("summary.json"),
            &common::summary(opt, 0, 2000, last, true, None),
        );
    }
}

/// `#rrggbb` as plotters writes a colour into SVG.
fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn shared_optimizers_get_their_run_label_and_a_colour_of_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    common::make_run(&a);
    make_other_run(&b, "Pendulum");
    let out = tmp.path().join("figs");
    let code = plot_with(args(&[
        "rl-plot",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--together",
        "--label",
        "as defined",
        "--label",
        "capped",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "svg",
    ]));
    assert_eq!(code, ExitCode::SUCCESS);
    // One pair of figures, not one per run.
    let mut names: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["learning-rates.svg", "rewards.svg"]);
    let svg = fs::read_to_string(out.join("rewards.svg")).unwrap();
    for label in [
        "ps-da-sgd [as defined] (proposed, 2 seeds)",
        "ps-da-sgd [capped] (proposed, 1 seeds)",
        "prodigy (adaptive, 2 seeds)",
        "adam (adaptive, 1 seeds)",
        "4 optimizers",
    ] {
        assert!(svg.contains(label), "rewards.svg lacks {label:?}");
    }
    assert!(
        !svg.contains("prodigy ["),
        "an optimizer of one run keeps its name"
    );
    let colours = lrfree_plots::palette::distinct_colours(&[
        "adam",
        "prodigy",
        "ps-da-sgd [as defined]",
        "ps-da-sgd [capped]",
    ]);
    assert_eq!(colours[2], lrfree_plots::palette::colour("ps-da-sgd"));
    assert_ne!(colours[3], colours[2]);
    for c in colours {
        assert!(
            svg.contains(&hex(c)),
            "rewards.svg has no curve in {}",
            hex(c)
        );
    }
}

#[test]
fn directory_names_label_the_runs_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("run-a"), tmp.path().join("run-b"));
    common::make_run(&a);
    make_other_run(&b, "Pendulum");
    let out = tmp.path().join("figs");
    let report = write_plots_together(
        &[a, b],
        None,
        &out,
        &PlotOptions {
            formats: vec![lrfree_plots::Format::Svg],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.seeds, 6);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("ps-da-sgd/seed-1")),
        "each run's warnings are kept: {:?}",
        report.warnings
    );
    let svg = fs::read_to_string(out.join("learning-rates.svg")).unwrap();
    assert!(svg.contains("ps-da-sgd [run-a]") && svg.contains("ps-da-sgd [run-b]"));
}

#[test]
fn bad_input_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    common::make_run(&a);
    make_other_run(&b, "Hopper");
    let out = tmp.path().join("figs");
    let dirs = [a.clone(), b.clone()];
    let err = |labels: Option<&[String]>| {
        let e = write_plots_together(&dirs, labels, &out, &PlotOptions::default()).unwrap_err();
        assert!(matches!(e, PlotError::Usage(_)), "{e}");
        assert_eq!(e.exit_code(), 2);
        e.to_string()
    };
    let msg = err(None);
    assert!(msg.contains("Pendulum") && msg.contains("Hopper"), "{msg}");
    make_other_run(&b, "Pendulum");
    let one = ["x".to_string()];
    assert!(err(Some(&one)).contains("1 labels for 2 run directories"));
    let same = ["x".to_string(), "x".to_string()];
    assert!(err(Some(&same)).contains("two runs"));
    let bracket = ["x".to_string(), "y]".to_string()];
    assert!(err(Some(&bracket)).contains("without brackets"));
    assert!(!out.exists(), "nothing is written on bad input");
    // On the command line: --together needs --out, --label needs --together.
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(
        plot_with(args(&["rl-plot", a, b, "--together"])),
        ExitCode::from(2)
    );
    assert_eq!(
        plot_with(args(&["rl-plot", a, "--label", "x", "--out", "/tmp/x"])),
        ExitCode::from(2)
    );
}
