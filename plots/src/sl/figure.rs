//! The figure of an `sl-train` run, `sl-curves.{png,svg}`: three panels against epochs,
//! training loss (log axis), test accuracy or mIoU, and the estimated learning rate (log
//! axis), one colour per optimizer as in the RL figures, each seed thin and the mean thick.

use std::path::{Path, PathBuf};

use lrfree_runkit::records::sl::EpochRow;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::read::{SlRun, read_sl_run};
use crate::error::PlotError;
use crate::figure::{
    FONT, Figure, Format, Key, de, fmt_log, fmt_value, layout, legend_label, log_range, note,
    prepare_dir, write_figure,
};
use crate::palette::colour;

/// Pixel size of `sl-curves.{png,svg}`.
pub const SL_SIZE: (u32, u32) = (1950, 720);

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
    prepare_dir(&out)?;
    let files = formats
        .iter()
        .map(|&format| write_figure(&Curves(&run), &out, "sl-curves", format))
        .collect::<Result<_, _>>()?;
    Ok((files, run.warnings))
}

/// The figure of one run.
struct Curves<'a>(&'a SlRun);

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        SL_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(root, self.0)
    }
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

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, run: &SlRun) -> Result<(), String> {
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
            (Key::Line(colour(name), 3, 1.0), legend_label(name, seeds))
        })
        .collect();
    let grey = RGBColor(90, 90, 90);
    entries.push((Key::Line(grey, 3, 1.0), "thick: mean over seeds".into()));
    entries.push((Key::Line(grey, 1, 0.5), "thin: single seeds".into()));
    let panels = layout(root, &title, 3, &entries)?;
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
        &series(run, |r| Some(r.train_loss), true),
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
    )
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
        let (lo, hi) = log_range(lo, hi);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_curve_only_where_every_seed_has_a_point() {
        let m = mean_curve(&[vec![(1.0, 2.0), (2.0, 4.0)], vec![(1.0, 4.0)]]);
        assert_eq!(m, vec![(1.0, 3.0)]);
    }
}
