//! Figures from the hand-made records directory.

mod common;

use std::fs;

use lrfree_plots::{Band, Format, LR_SIZE, PlotOptions, REWARDS_SIZE, write_plots};

#[test]
fn writes_png_and_svg_of_the_expected_size() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let report = write_plots(
        tmp.path(),
        &PlotOptions {
            per_seed: true,
            ..Default::default()
        },
    )
    .unwrap();
    let plots = tmp.path().join("plots");
    let mut names: Vec<String> = report
        .files
        .iter()
        .map(|f| f.strip_prefix(&plots).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "learning-rates.png",
            "learning-rates.svg",
            "rewards.png",
            "rewards.svg"
        ]
    );
    assert_eq!(report.seeds, 4);

    for (stem, size) in [("rewards", REWARDS_SIZE), ("learning-rates", LR_SIZE)] {
        let png = fs::read(plots.join(format!("{stem}.png"))).unwrap();
        assert!(png.len() > 10_000, "{stem}.png is only {} bytes", png.len());
        assert_eq!(common::png_size(&png), size, "{stem}.png");
        let svg = fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{stem}.svg");
        for name in ["prodigy", "ps-da-sgd", "Pendulum"] {
            assert!(svg.contains(name), "{stem}.svg lacks {name}");
        }
    }
    let rewards = fs::read_to_string(plots.join("rewards.svg")).unwrap();
    assert!(
        rewards.contains("min–max over seeds"),
        "the band is stated in the legend"
    );
    assert!(rewards.contains("environment steps"));
    let lr = fs::read_to_string(plots.join("learning-rates.svg")).unwrap();
    for panel in [
        "critic optimizer",
        "actor optimizer",
        "temperature optimizer",
        "seed diverged",
    ] {
        assert!(lr.contains(panel), "learning-rates.svg lacks {panel}");
    }
}

#[test]
fn partial_records_are_plotted_with_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let report = write_plots(
        tmp.path(),
        &PlotOptions {
            formats: vec![Format::Svg],
            band: Band::Std,
            ..Default::default()
        },
    )
    .unwrap();
    let w = report.warnings.join("\n");
    assert!(w.contains("ps-da-sgd/seed-1/summary.json: missing"), "{w}");
    assert!(w.contains("line 22: incomplete last row"), "{w}");
    assert_eq!(report.files.len(), 2);
    let svg = fs::read_to_string(tmp.path().join("plots/rewards.svg")).unwrap();
    assert!(svg.contains("mean ± 1 std"));
}

#[test]
fn figures_go_to_out_and_colours_are_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    common::make_run(tmp.path());
    let out = tmp.path().join("elsewhere");
    write_plots(
        tmp.path(),
        &PlotOptions {
            out: Some(out.clone()),
            formats: vec![Format::Svg],
            ..Default::default()
        },
    )
    .unwrap();
    let svg = fs::read_to_string(out.join("learning-rates.svg")).unwrap();
    // prodigy is pink and ps-da-sgd near-black in every figure.
    let hex = |c: plotters::style::RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    for name in ["prodigy", "ps-da-sgd"] {
        let c = hex(lrfree_plots::palette::colour(name));
        assert!(svg.to_uppercase().contains(&c), "{name} colour {c} missing");
    }
    assert_ne!(
        lrfree_plots::palette::colour("prodigy"),
        lrfree_plots::palette::colour("dadapt-adam")
    );
}

/// Keep a copy of the figures for a look: `PLOTS_KEEP=/tmp/x cargo test -p lrfree-plots`.
#[test]
fn keep_figures_when_asked() {
    let Ok(dir) = std::env::var("PLOTS_KEEP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let _ = fs::remove_dir_all(&dir);
    common::make_run(&dir);
    write_plots(
        &dir,
        &PlotOptions {
            per_seed: true,
            ..Default::default()
        },
    )
    .unwrap();
}
