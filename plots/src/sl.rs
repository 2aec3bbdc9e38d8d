//! Figures and the Table-3 report of `sl-train` runs (format: `docs/sl.md`).
//!
//! A run directory holds `run.json` (task, model, epochs) and `<optimizer>/seed-<N>/` with
//! `epochs.csv` and, once the seed ended, `summary.json`. The figure `sl-curves.{png,svg}`
//! has three panels against epochs: training loss (log axis), test accuracy or mIoU, and the
//! estimated learning rate (log axis), one colour per optimizer as in the RL figures. The
//! report has one row per optimizer (the paper's order) and one column per run, each cell
//! `test accuracy (final train loss)`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Deserialize;

use crate::error::PlotError;
use crate::figure::{FONT, Format, Key, de, fmt_log, fmt_value, layout, note, register_fonts};
use crate::palette::{colour, group, order_key};
use crate::table;

/// The columns of `epochs.csv`, in order: one list for writer (`sl-train`) and reader.
pub const COLUMNS: [&str; 11] = [
    "epoch",
    "phase",
    "steps",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "test_miou",
    "lr",
    "d",
    "wall_s",
];

/// Pixel size of `sl-curves.{png,svg}`.
pub const SL_SIZE: (u32, u32) = (1950, 720);

/// One row of `epochs.csv` (empty cells are `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRow {
    /// Epoch number (SimCLR's linear-evaluation epochs follow its pre-training epochs).
    pub epoch: u64,
    /// `train`, `pretrain` (SimCLR) or `linear` (SimCLR's linear evaluation).
    pub phase: String,
    /// Optimizer steps so far.
    pub steps: u64,
    /// Mean training loss over the epoch's batches.
    pub train_loss: Option<f64>,
    /// Training accuracy over the epoch's batches (%).
    pub train_accuracy: Option<f64>,
    /// Test loss.
    pub test_loss: Option<f64>,
    /// Test accuracy (%).
    pub test_accuracy: Option<f64>,
    /// Test mean IoU (%, segmentation).
    pub test_miou: Option<f64>,
    /// The optimizer's estimated learning rate after the epoch's last step.
    pub lr: Option<f64>,
    /// Its D, for methods with one.
    pub d: Option<f64>,
    /// Seconds since the seed started.
    pub wall_s: Option<f64>,
}

impl EpochRow {
    /// The test metric: accuracy, or mIoU for segmentation.
    pub fn metric(&self) -> Option<f64> {
        self.test_accuracy.or(self.test_miou)
    }
}

/// Where and why a seed diverged.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SlDivergence {
    /// Epoch of the divergence.
    pub epoch: u64,
    /// What went non-finite or out of bounds.
    #[serde(default)]
    pub reason: String,
}

/// A seed's `summary.json`; the fields the figure and report use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SlSeedSummary {
    /// Optimizer registry name.
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// Final training loss (of the main phase).
    pub final_train_loss: Option<f64>,
    /// Final test accuracy (%).
    pub final_test_accuracy: Option<f64>,
    /// Final test mIoU (%).
    #[serde(default)]
    pub final_test_miou: Option<f64>,
    /// Whether training or the learning-rate estimate diverged.
    pub diverged: bool,
    /// Where.
    #[serde(default)]
    pub divergence: Option<SlDivergence>,
}

impl SlSeedSummary {
    /// The test metric: accuracy, or mIoU for segmentation.
    pub fn metric(&self) -> Option<f64> {
        self.final_test_accuracy.or(self.final_test_miou)
    }
}

/// One seed's records.
#[derive(Debug, Clone, PartialEq)]
pub struct SlSeed {
    /// Optimizer registry name (its directory).
    pub optimizer: String,
    /// The seed.
    pub seed: u64,
    /// `epochs.csv`.
    pub rows: Vec<EpochRow>,
    /// `summary.json`, when the seed ended.
    pub summary: Option<SlSeedSummary>,
}

/// A run directory's records.
#[derive(Debug, Clone, PartialEq)]
pub struct SlRun {
    /// The directory.
    pub dir: PathBuf,
    /// Task name (`run.json`).
    pub task: String,
    /// Model name (`run.json`).
    pub model: String,
    /// Configured epochs (`run.json`).
    pub epochs: Option<u64>,
    /// Seeds, by optimizer then seed.
    pub seeds: Vec<SlSeed>,
    /// One line per skipped or partial file.
    pub warnings: Vec<String>,
}

impl SlRun {
    /// Optimizers present, in the paper's order.
    pub fn optimizers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.seeds.iter().map(|s| s.optimizer.clone()).collect();
        names.sort_by_key(|n| order_key(n));
        names.dedup();
        names
    }

    /// `task / model`, the report's column header.
    pub fn label(&self) -> String {
        format!("{} / {}", self.task, self.model)
    }

    /// Whether the test metric is mIoU.
    pub fn is_segmentation(&self) -> bool {
        self.seeds
            .iter()
            .flat_map(|s| &s.rows)
            .any(|r| r.test_miou.is_some())
    }
}

#[derive(Deserialize)]
struct RunJson {
    #[serde(default)]
    task: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    epochs: Option<u64>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| PlotError::BadJson {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Read one `epochs.csv`; the header must be [`COLUMNS`].
pub fn read_epochs(path: &Path) -> Result<Vec<EpochRow>, PlotError> {
    let mut reader =
        csv::ReaderBuilder::new()
            .from_path(path)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(io) => PlotError::io(path, io),
                other => PlotError::MalformedRow {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!("{other:?}"),
                },
            })?;
    let header = reader
        .headers()
        .map_err(|e| PlotError::MalformedRow {
            path: path.to_path_buf(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    for h in header.iter() {
        if !COLUMNS.contains(&h) {
            return Err(PlotError::UnknownColumn {
                path: path.to_path_buf(),
                column: h.to_string(),
            });
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let index: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    for (c, i) in COLUMNS.iter().zip(&index).take(3) {
        if i.is_none() {
            return Err(PlotError::MissingColumn {
                path: path.to_path_buf(),
                column: c.to_string(),
            });
        }
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let record = record.map_err(|e| PlotError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message: e.to_string(),
        })?;
        let bad = |message: String| PlotError::MalformedRow {
            path: path.to_path_buf(),
            line,
            message,
        };
        let cell = |k: usize| index[k].and_then(|i| record.get(i)).unwrap_or("").trim();
        let float = |k: usize| -> Result<Option<f64>, PlotError> {
            match cell(k) {
                "" => Ok(None),
                v => v
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| bad(format!("column `{}`: `{v}` is not a number", COLUMNS[k]))),
            }
        };
        let int = |k: usize| -> Result<u64, PlotError> {
            cell(k).parse::<u64>().map_err(|_| {
                bad(format!(
                    "column `{}`: `{}` is not a whole number",
                    COLUMNS[k],
                    cell(k)
                ))
            })
        };
        rows.push(EpochRow {
            epoch: int(0)?,
            phase: cell(1).to_string(),
            steps: int(2)?,
            train_loss: float(3)?,
            train_accuracy: float(4)?,
            test_loss: float(5)?,
            test_accuracy: float(6)?,
            test_miou: float(7)?,
            lr: float(8)?,
            d: float(9)?,
            wall_s: float(10)?,
        });
    }
    Ok(rows)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PlotError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

/// Read an `sl-train` run directory.
pub fn read_sl_run(dir: &Path) -> Result<SlRun, PlotError> {
    if !dir.exists() {
        return Err(PlotError::NoSuchDirectory(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(PlotError::NotADirectory(dir.to_path_buf()));
    }
    let run_json = dir.join("run.json");
    let meta: RunJson = if run_json.exists() {
        read_json(&run_json)?
    } else {
        RunJson {
            task: String::new(),
            model: String::new(),
            epochs: None,
        }
    };
    let mut warnings = Vec::new();
    let mut seeds = Vec::new();
    for opt_dir in sorted_dirs(dir)? {
        let optimizer = opt_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if optimizer == "plots" {
            continue;
        }
        for seed_dir in sorted_dirs(&opt_dir)? {
            let name = seed_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(seed) = name
                .strip_prefix("seed-")
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let epochs = seed_dir.join("epochs.csv");
            if !epochs.exists() {
                warnings.push(format!(
                    "{}: no epochs.csv yet, skipped",
                    seed_dir.display()
                ));
                continue;
            }
            let rows = read_epochs(&epochs)?;
            let summary_path = seed_dir.join("summary.json");
            let summary: Option<SlSeedSummary> = if summary_path.exists() {
                Some(read_json(&summary_path)?)
            } else {
                None
            };
            if summary.is_none() {
                warnings.push(format!(
                    "{}: no summary.json (running or killed); left out of the report",
                    seed_dir.display()
                ));
            }
            seeds.push(SlSeed {
                optimizer: optimizer.clone(),
                seed,
                rows,
                summary,
            });
        }
    }
    if seeds.is_empty() {
        return Err(PlotError::NoRecords {
            path: dir.to_path_buf(),
            detail: "no <optimizer>/seed-<N>/epochs.csv".into(),
        });
    }
    seeds.sort_by(|a, b| {
        order_key(&a.optimizer)
            .cmp(&order_key(&b.optimizer))
            .then(a.seed.cmp(&b.seed))
    });
    Ok(SlRun {
        dir: dir.to_path_buf(),
        task: meta.task,
        model: meta.model,
        epochs: meta.epochs,
        seeds,
        warnings,
    })
}

/// Draw `sl-curves.{png,svg}` for the run in `dir` into `out` (default `dir/plots`); the
/// files written and the warnings.
pub fn write_sl_plots(
    dir: &Path,
    formats: &[Format],
    out: Option<&Path>,
) -> Result<(Vec<PathBuf>, Vec<String>), PlotError> {
    let run = read_sl_run(dir)?;
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("plots"));
    register_fonts();
    std::fs::create_dir_all(&out).map_err(|e| PlotError::io(&out, e))?;
    let mut files = Vec::new();
    for &format in formats {
        let path = out.join(format!("sl-curves.{}", format.ext()));
        let result = match format {
            Format::Png => draw(BitMapBackend::new(&path, SL_SIZE).into_drawing_area(), &run),
            Format::Svg => draw(SVGBackend::new(&path, SL_SIZE).into_drawing_area(), &run),
        };
        result.map_err(|message| PlotError::Draw {
            path: path.clone(),
            message,
        })?;
        files.push(path);
    }
    Ok((files, run.warnings))
}

type Points = Vec<(f64, f64)>;

/// Per optimizer, per seed: the points of one quantity against epochs.
fn series(
    run: &SlRun,
    value: impl Fn(&EpochRow) -> Option<f64>,
    log: bool,
) -> Vec<(String, Vec<Points>)> {
    run.optimizers()
        .into_iter()
        .map(|name| {
            let per_seed = run
                .seeds
                .iter()
                .filter(|s| s.optimizer == name)
                .map(|s| {
                    s.rows
                        .iter()
                        .filter_map(|r| value(r).map(|v| (r.epoch as f64, v)))
                        .filter(|(_, v)| v.is_finite() && (!log || *v > 0.0))
                        .collect()
                })
                .collect();
            (name, per_seed)
        })
        .collect()
}

/// Mean over seeds at each epoch every seed has.
fn mean_curve(seeds: &[Points]) -> Points {
    let Some(first) = seeds.first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|&(x, _)| {
            let vals: Vec<f64> = seeds
                .iter()
                .filter_map(|s| s.iter().find(|p| p.0 == x).map(|p| p.1))
                .collect();
            (vals.len() == seeds.len()).then(|| (x, vals.iter().sum::<f64>() / vals.len() as f64))
        })
        .collect()
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, run: &SlRun) -> Result<(), String> {
    let metric = if run.is_segmentation() {
        "test mIoU (%)"
    } else {
        "test accuracy (%)"
    };
    let title = format!(
        "{}: training loss, {metric} and estimated learning rate per epoch",
        run.label()
    );
    let mut entries: Vec<(Key, String)> = run
        .optimizers()
        .iter()
        .map(|name| {
            let seeds = run.seeds.iter().filter(|s| &s.optimizer == name).count();
            (
                Key::Line(colour(name), 3, 1.0),
                format!("{name} ({seeds} seeds)"),
            )
        })
        .collect();
    let grey = RGBColor(90, 90, 90);
    entries.push((Key::Line(grey, 3, 1.0), "thick: mean over seeds".into()));
    entries.push((Key::Line(grey, 1, 0.5), "thin: single seeds".into()));
    let panels = layout(&root, &title, 3, &entries)?;
    let x_max = run
        .epochs
        .unwrap_or(0)
        .max(
            run.seeds
                .iter()
                .flat_map(|s| &s.rows)
                .map(|r| r.epoch)
                .max()
                .unwrap_or(1),
        )
        .max(1) as f64;
    panel(
        &panels[0],
        "training loss (mean over the epoch)",
        "train loss (log)",
        &series(run, |r| r.train_loss, true),
        true,
        true,
        x_max,
    )?;
    panel(
        &panels[1],
        metric,
        metric,
        &series(run, EpochRow::metric, false),
        false,
        true,
        x_max,
    )?;
    panel(
        &panels[2],
        "estimated learning rate, one line per seed",
        "estimated lr (log)",
        &series(run, |r| r.lr, true),
        true,
        false,
        x_max,
    )?;
    root.present().map_err(de)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    data: &[(String, Vec<Points>)],
    log: bool,
    mean: bool,
    x_max: f64,
) -> Result<(), String> {
    let values = data
        .iter()
        .flat_map(|(_, s)| s.iter().flatten())
        .map(|p| p.1);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return note(area, caption, "nothing recorded");
    }
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(caption, (FONT, 21))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(58)
        .y_label_area_size(86);
    macro_rules! body {
        ($chart:expr, $fmt:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(y_desc)
                .x_labels((x_max as usize).clamp(2, 10) + 1)
                .x_label_formatter(&|x: &f64| {
                    if (x - x.round()).abs() < 1e-6 {
                        format!("{x:.0}")
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter($fmt)
                .label_style((FONT, 16))
                .axis_desc_style((FONT, 18))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(de)?;
            for (name, seeds) in data {
                let col = colour(name);
                let (thin, alpha) = if mean && seeds.len() > 1 {
                    (1, 0.5)
                } else {
                    (2, 0.9)
                };
                for s in seeds {
                    chart
                        .draw_series(LineSeries::new(
                            s.iter().copied(),
                            col.mix(alpha).stroke_width(thin),
                        ))
                        .map_err(de)?;
                    if s.len() == 1 {
                        chart
                            .draw_series(std::iter::once(Circle::new(s[0], 4, col.filled())))
                            .map_err(de)?;
                    }
                }
                if mean && seeds.len() > 1 {
                    chart
                        .draw_series(LineSeries::new(mean_curve(seeds), col.stroke_width(3)))
                        .map_err(de)?;
                }
            }
        }};
    }
    if log {
        let (mut lo, mut hi) = (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        );
        if hi / lo < 100.0 {
            lo /= 10.0;
            hi *= 10.0;
        }
        body!(
            chart
                .build_cartesian_2d(0.5f64..x_max + 0.5, (lo..hi).log_scale())
                .map_err(de)?,
            &fmt_log
        );
    } else {
        let pad = ((hi - lo) * 0.05).max(0.5);
        body!(
            chart
                .build_cartesian_2d(0.5f64..x_max + 0.5, (lo - pad)..(hi + pad))
                .map_err(de)?,
            &fmt_value(hi - lo)
        );
    }
    Ok(())
}

/// One optimizer on one run: the Table-3 cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlCell {
    /// Finished seeds.
    pub seeds: usize,
    /// Seeds that diverged.
    pub diverged: usize,
    /// Mean final test metric (accuracy or mIoU, %) over seeds that have one.
    pub mean_metric: Option<f64>,
    /// Its population standard deviation.
    pub std_metric: Option<f64>,
    /// Mean final training loss over seeds that have one.
    pub mean_train_loss: Option<f64>,
    /// Each finished seed's `(seed, metric, train loss)`.
    pub per_seed: Vec<(u64, Option<f64>, Option<f64>)>,
    /// Seeds without a summary yet (left out).
    pub unfinished: usize,
}

impl SlCell {
    /// `accuracy (train loss)`, the paper's Table-3 format; divergences after it.
    pub fn text(&self) -> String {
        let metric = self.mean_metric.map_or("n/a".into(), |m| format!("{m:.2}"));
        let loss = self
            .mean_train_loss
            .map_or("n/a".into(), |l| format!("{l:.4}"));
        let mut s = format!("{metric} ({loss})");
        if self.diverged > 0 {
            let _ = write!(s, " {}/{} diverged", self.diverged, self.seeds);
        }
        s
    }
}

fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let m = values.iter().sum::<f64>() / values.len() as f64;
    (
        Some(m),
        Some((values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64).sqrt()),
    )
}

/// One optimizer's row.
#[derive(Debug, Clone, PartialEq)]
pub struct SlReportRow {
    /// Registry name.
    pub optimizer: String,
    /// The paper's group.
    pub group: &'static str,
    /// One cell per column; `None` where it was not run.
    pub cells: Vec<Option<SlCell>>,
}

/// The comparison table: optimizers × runs (`task / model`).
#[derive(Debug, Clone, PartialEq)]
pub struct SlReport {
    /// Column headers.
    pub columns: Vec<String>,
    /// Whether each column's metric is mIoU.
    pub segmentation: Vec<bool>,
    /// Rows in the paper's order.
    pub rows: Vec<SlReportRow>,
    /// Skipped or partial files.
    pub warnings: Vec<String>,
}

impl SlReport {
    /// From runs already read (numbers from the seeds' `summary.json`).
    pub fn from_runs(runs: &[SlRun]) -> SlReport {
        let mut columns: Vec<String> = Vec::new();
        let mut segmentation = Vec::new();
        for r in runs {
            if !columns.contains(&r.label()) {
                columns.push(r.label());
                segmentation.push(r.is_segmentation());
            }
        }
        let mut names: Vec<String> = runs.iter().flat_map(|r| r.optimizers()).collect();
        names.sort_by_key(|n| order_key(n));
        names.dedup();
        let rows = names
            .into_iter()
            .map(|name| {
                let cells = columns
                    .iter()
                    .map(|col| {
                        let seeds: Vec<&SlSeed> = runs
                            .iter()
                            .filter(|r| &r.label() == col)
                            .flat_map(|r| &r.seeds)
                            .filter(|s| s.optimizer == name)
                            .collect();
                        if seeds.is_empty() {
                            return None;
                        }
                        let mut cell = SlCell::default();
                        for s in seeds {
                            match &s.summary {
                                Some(sum) => {
                                    cell.seeds += 1;
                                    cell.diverged += usize::from(sum.diverged);
                                    cell.per_seed.push((
                                        s.seed,
                                        sum.metric(),
                                        sum.final_train_loss,
                                    ));
                                }
                                None => cell.unfinished += 1,
                            }
                        }
                        cell.per_seed.sort_by_key(|p| p.0);
                        let metrics: Vec<f64> = cell.per_seed.iter().filter_map(|p| p.1).collect();
                        let losses: Vec<f64> = cell.per_seed.iter().filter_map(|p| p.2).collect();
                        (cell.mean_metric, cell.std_metric) = mean_std(&metrics);
                        cell.mean_train_loss = mean_std(&losses).0;
                        Some(cell)
                    })
                    .collect();
                SlReportRow {
                    group: group(&name),
                    optimizer: name,
                    cells,
                }
            })
            .collect();
        SlReport {
            columns,
            segmentation,
            rows,
            warnings: runs.iter().flat_map(|r| r.warnings.clone()).collect(),
        }
    }

    /// A Markdown table (padded to read as plain text).
    pub fn to_markdown(&self) -> String {
        let mut rows = vec![
            std::iter::once("optimizer".to_string())
                .chain(self.columns.iter().cloned())
                .collect::<Vec<_>>(),
        ];
        for row in &self.rows {
            rows.push(
                std::iter::once(row.optimizer.clone())
                    .chain(
                        row.cells
                            .iter()
                            .map(|c| c.as_ref().map_or("–".into(), SlCell::text)),
                    )
                    .collect(),
            );
        }
        let metric = match (
            self.segmentation.iter().any(|s| *s),
            self.segmentation.iter().all(|s| *s),
        ) {
            (true, true) => "test mIoU %",
            (true, false) => "test accuracy % (mIoU % for segmentation)",
            _ => "test accuracy %",
        };
        let mut out = format!("Final {metric}, mean over seeds (final training loss).\n\n");
        out += &table::markdown(&rows);
        let unfinished: usize = self
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().flatten())
            .map(|c| c.unfinished)
            .sum();
        out += &table::unfinished_note(unfinished);
        out
    }

    /// One line per optimizer and run, every number in its own column.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "run",
            "optimizer",
            "group",
            "metric",
            "seeds",
            "diverged",
            "mean_metric",
            "std_metric",
            "mean_train_loss",
            "metrics",
            "train_losses",
            "unfinished",
        ];
        w.write_record(header).expect("in memory");
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        for row in &self.rows {
            for ((col, seg), cell) in self.columns.iter().zip(&self.segmentation).zip(&row.cells) {
                let Some(c) = cell else { continue };
                w.write_record([
                    col.clone(),
                    row.optimizer.clone(),
                    row.group.to_string(),
                    if *seg { "test_miou" } else { "test_accuracy" }.to_string(),
                    c.seeds.to_string(),
                    c.diverged.to_string(),
                    opt(c.mean_metric),
                    opt(c.std_metric),
                    opt(c.mean_train_loss),
                    c.per_seed
                        .iter()
                        .map(|p| opt(p.1))
                        .collect::<Vec<_>>()
                        .join(";"),
                    c.per_seed
                        .iter()
                        .map(|p| opt(p.2))
                        .collect::<Vec<_>>()
                        .join(";"),
                    c.unfinished.to_string(),
                ])
                .expect("in memory");
            }
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8")
    }

    /// Write `sl-report.md` and `sl-report.csv` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        table::write_files(
            dir,
            [
                ("sl-report.md", self.to_markdown()),
                ("sl-report.csv", self.to_csv()),
            ],
        )
    }
}

/// Read `sl-train` run directories and build the report.
pub fn build_sl_report(run_dirs: &[PathBuf]) -> Result<SlReport, PlotError> {
    if run_dirs.is_empty() {
        return Err(PlotError::Usage("no run directory given".into()));
    }
    let runs = run_dirs
        .iter()
        .map(|d| read_sl_run(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SlReport::from_runs(&runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: u64, loss: f64, acc: f64) -> EpochRow {
        EpochRow {
            epoch,
            phase: "train".into(),
            steps: epoch * 10,
            train_loss: Some(loss),
            train_accuracy: None,
            test_loss: None,
            test_accuracy: Some(acc),
            test_miou: None,
            lr: Some(1e-3),
            d: None,
            wall_s: Some(1.0),
        }
    }

    #[test]
    fn cell_is_accuracy_then_loss_and_rows_follow_the_paper() {
        let seed = |opt: &str, s: u64, acc: f64, loss: f64| SlSeed {
            optimizer: opt.into(),
            seed: s,
            rows: vec![row(1, loss, acc)],
            summary: Some(SlSeedSummary {
                optimizer: opt.into(),
                seed: s,
                final_train_loss: Some(loss),
                final_test_accuracy: Some(acc),
                final_test_miou: None,
                diverged: false,
                divergence: None,
            }),
        };
        let run = SlRun {
            dir: "r".into(),
            task: "digits".into(),
            model: "cnn".into(),
            epochs: Some(1),
            seeds: vec![
                seed("ps-da-sgd", 0, 90.0, 0.5),
                seed("adam", 0, 96.0, 0.1),
                seed("adam", 1, 98.0, 0.3),
            ],
            warnings: vec![],
        };
        let report = SlReport::from_runs(&[run]);
        assert_eq!(report.rows[0].optimizer, "adam");
        assert_eq!(
            report.rows[0].cells[0].as_ref().unwrap().text(),
            "97.00 (0.2000)"
        );
        assert!(report.to_markdown().contains("| digits / cnn"));
        assert!(
            report
                .to_csv()
                .contains("digits / cnn,adam,adaptive,test_accuracy,2,0,97,1,0.2,96;98,0.1;0.3,0")
        );
    }

    #[test]
    fn mean_curve_only_where_every_seed_has_a_point() {
        let m = mean_curve(&[vec![(1.0, 2.0), (2.0, 4.0)], vec![(1.0, 4.0)]]);
        assert_eq!(m, vec![(1.0, 3.0)]);
    }
}
