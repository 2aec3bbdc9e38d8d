//! `sl-train` records as the figure and the report read them: written here with the format's
//! own writers (`lrfree_runkit::records::sl`), then partial and repeated the ways real runs are.

use std::fs;
use std::path::Path;

use lrfree_plots::Format;
use lrfree_plots::sl::{build_sl_report, read_sl_run, write_sl_plots};
use lrfree_runkit::files::write_json_atomic;
use lrfree_runkit::records::seed_dir;
use lrfree_runkit::records::sl::{EpochRow, EpochsWriter, Phase, SlPlan, SlSeedSummary};

/// A digits run of adam with `seeds`, each trained two epochs to `accuracy + seed`.
fn make_run(dir: &Path, seeds: &[u64], accuracy: f64) {
    let seeds: Vec<_> = seeds
        .iter()
        .map(|&s| ("adam", s, accuracy + s as f64, 0.5))
        .collect();
    make_seeds(dir, &seeds);
}

/// A digits run of `(optimizer, seed, final accuracy, final train loss)`, two epochs each.
fn make_seeds(dir: &Path, seeds: &[(&str, u64, f64, f64)]) {
    let mut optimizers: Vec<String> = seeds.iter().map(|s| s.0.to_string()).collect();
    optimizers.dedup();
    let mut seed_list: Vec<u64> = seeds.iter().map(|s| s.1).collect();
    seed_list.sort();
    seed_list.dedup();
    let plan = SlPlan {
        task: "digits".into(),
        model: "cnn".into(),
        epochs: 2,
        optimizers,
        seeds: seed_list,
        config: serde_json::json!({"batch_size": 64}),
    };
    fs::create_dir_all(dir).unwrap();
    write_json_atomic(&dir.join("run.json"), &plan).unwrap();
    for &(optimizer, seed, acc, loss) in seeds {
        let d = seed_dir(dir, optimizer, seed);
        fs::create_dir_all(&d).unwrap();
        let mut w = EpochsWriter::create(&d.join("epochs.csv")).unwrap();
        for epoch in 1..=2 {
            w.write(&EpochRow {
                epoch,
                phase: Phase::Train,
                steps: 22 * epoch,
                train_loss: loss * 2.0 / epoch as f64,
                test_accuracy: Some(acc - 10.0 / epoch as f64 + 5.0),
                lr: Some(1e-3),
                wall_s: epoch as f64,
                ..EpochRow::default()
            })
            .unwrap();
        }
        let summary = SlSeedSummary {
            optimizer: optimizer.into(),
            seed,
            task: "digits".into(),
            model: "cnn".into(),
            epochs: 2,
            epochs_done: 2,
            complete: true,
            final_train_loss: Some(loss),
            final_test_accuracy: Some(acc),
            final_test_miou: None,
            best_test_metric: Some(acc),
            diverged: false,
            divergence: None,
            max_lr: Some(1e-3),
            wall_s: 2.0,
        };
        write_json_atomic(&d.join("summary.json"), &summary).unwrap();
    }
}

#[test]
fn cells_are_accuracy_then_loss_and_rows_follow_the_paper() {
    let tmp = tempfile::tempdir().unwrap();
    make_seeds(
        tmp.path(),
        &[
            ("ps-da-sgd", 0, 90.0, 0.5),
            ("ps-da-sgd", 1, 92.0, 0.5),
            ("adam", 0, 96.0, 0.1),
            ("adam", 1, 98.0, 0.3),
        ],
    );
    let report = build_sl_report(&[tmp.path().to_path_buf()]).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.rows[0].optimizer, "adam");
    let cell = report.rows[0].cells[0].as_ref().unwrap();
    assert_eq!(cell.text(), "97.00 (0.2000)");
    let md = report.to_markdown();
    assert!(
        md.contains("| digits / cnn") && md.contains("Final test accuracy %"),
        "{md}"
    );
    assert!(
        report
            .to_csv()
            .contains("digits / cnn,adam,adaptive,test_accuracy,2,0,97,1,0.2,96;98,0.1;0.3,0")
    );
}

/// A killed seed: two rows, the third cut off mid-write, no summary.
fn kill_seed(dir: &Path, seed: u64) {
    let d = seed_dir(dir, "adam", seed);
    fs::remove_file(d.join("summary.json")).unwrap();
    let mut text = fs::read_to_string(d.join("epochs.csv")).unwrap();
    text.push_str("3,train,66,0.2");
    fs::write(d.join("epochs.csv"), text).unwrap();
}

#[test]
fn a_killed_seed_is_drawn_up_to_its_last_whole_row_and_left_out_of_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    make_run(tmp.path(), &[0, 1], 90.0);
    kill_seed(tmp.path(), 1);
    let run = read_sl_run(tmp.path()).unwrap();
    assert_eq!((run.task.as_str(), run.epochs), ("digits", Some(2)));
    assert_eq!(run.seeds[1].rows.len(), 2);
    assert!(
        run.warnings
            .iter()
            .any(|w| w.contains("epochs.csv: line 4: incomplete last row")),
        "{:?}",
        run.warnings
    );
    let report = build_sl_report(&[tmp.path().to_path_buf()]).unwrap();
    let cell = report.cell("adam", "digits / cnn").unwrap();
    assert_eq!(
        (cell.seeds, cell.unfinished, cell.mean_metric),
        (1, 1, Some(90.0))
    );
    assert!(
        report
            .to_markdown()
            .contains("1 seed(s) without summary.json")
    );
    let (files, warnings) = write_sl_plots(tmp.path(), &[Format::Svg], None).unwrap();
    assert!(fs::read_to_string(&files[0]).unwrap().contains("adam"));
    assert!(!warnings.is_empty());
}

#[test]
fn a_seed_found_in_two_runs_of_one_task_is_counted_once() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    make_run(a.path(), &[0, 1], 90.0);
    make_run(b.path(), &[1, 2], 80.0);
    let report = build_sl_report(&[a.path().to_path_buf(), b.path().to_path_buf()]).unwrap();
    let cell = report.cell("adam", "digits / cnn").unwrap();
    // Seeds 0 and 1 of the first run, seed 2 of the second: 90, 91, 82.
    assert_eq!(cell.seeds, 3);
    assert_eq!(cell.mean_metric, Some((90.0 + 91.0 + 82.0) / 3.0));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("adam seed 1 on digits / cnn already counted")),
        "{:?}",
        report.warnings
    );
    let csv = report.to_csv();
    assert!(
        csv.contains("digits / cnn,adam,adaptive,test_accuracy,3,0,"),
        "{csv}"
    );
}
