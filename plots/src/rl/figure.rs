//! The two figures of an `rl-train` run: `rewards` (evaluation and smoothed episode returns,
//! mean over seeds with a band) and `learning-rates` (each seed's estimated learning rate, log
//! axis, critic/actor/temperature panels: the paper's Figure 1).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::read::{RunRecords, SeedRecord};
use super::series::{
    Band, Curve, Stat, aggregate_at_steps, aggregate_on_grid, episode_curve, eval_curve, lr_curve,
};
use crate::error::PlotError;
use crate::figure::{
    FONT, Figure, Format, Key, de, fmt_log, fmt_value, layout, legend_label, log_range, note,
    prepare_dir, write_figure,
};
use crate::palette::distinct_colours;
use lrfree_runkit::records::rl::Net;

/// Pixel size of `rewards.{png,svg}`: two panels side by side.
pub const REWARDS_SIZE: (u32, u32) = (1600, 720);
/// Pixel size of `learning-rates.{png,svg}`: three panels side by side.
pub const LR_SIZE: (u32, u32) = (1950, 720);
/// Grid points of the aggregated episode-return curve.
const EPISODE_GRID: usize = 200;

/// How the figures are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// Moving-average window for the episode returns.
    pub smooth: usize,
    /// What the shaded band shows.
    pub band: Band,
    /// Draw each seed's evaluation and episode curve as a thin line too.
    pub per_seed: bool,
}

/// One optimizer's curves, ready to draw.
struct Curves {
    name: String,
    /// Its colour in this figure ([`distinct_colours`]).
    colour: RGBColor,
    seeds: usize,
    eval: Vec<Curve>,
    eval_stat: Vec<Stat>,
    episode: Vec<Curve>,
    episode_stat: Vec<Stat>,
    /// Per net: per seed `(points, divergence step)`.
    lr: Vec<Vec<(Curve, Option<u64>)>>,
}

fn curves(run: &RunRecords, style: &Style) -> Vec<Curves> {
    let names = run.optimizers();
    let colours = distinct_colours(&names);
    names
        .into_iter()
        .zip(colours)
        .map(|(name, colour)| {
            let seeds: Vec<&SeedRecord> = run.seeds_of(&name).collect();
            let eval: Vec<_> = seeds.iter().map(|s| eval_curve(s)).collect();
            let episode: Vec<_> = seeds
                .iter()
                .map(|s| episode_curve(s, style.smooth))
                .collect();
            let lr = Net::ALL
                .iter()
                .map(|&net| {
                    seeds
                        .iter()
                        .map(|s| (lr_curve(s, net), s.divergence_step()))
                        .collect()
                })
                .collect();
            Curves {
                eval_stat: aggregate_at_steps(&eval, style.band),
                episode_stat: aggregate_on_grid(&episode, style.band, EPISODE_GRID),
                seeds: seeds.len(),
                name,
                colour,
                eval,
                episode,
                lr,
            }
        })
        .collect()
}

/// The `rewards` figure or the `learning-rates` one.
struct RunFigure<'a> {
    rewards: bool,
    run: &'a RunRecords,
    data: &'a [Curves],
    style: &'a Style,
    x_max: f64,
}

impl Figure for RunFigure<'_> {
    fn size(&self) -> (u32, u32) {
        if self.rewards { REWARDS_SIZE } else { LR_SIZE }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        if self.rewards {
            rewards(root, self.run, self.data, self.style, self.x_max)
        } else {
            learning_rates(root, self.run, self.data, self.x_max)
        }
    }
}

/// Draw `rewards` and `learning-rates` for `run` into `out` in each format; the paths written.
pub fn draw_all(
    run: &RunRecords,
    style: &Style,
    formats: &[Format],
    out: &Path,
) -> Result<Vec<PathBuf>, PlotError> {
    prepare_dir(out)?;
    let data = curves(run, style);
    let x_max = run
        .steps
        .unwrap_or(0)
        .max(
            run.seeds
                .iter()
                .filter_map(|s| s.last_step())
                .max()
                .unwrap_or(0),
        )
        .max(1) as f64;
    let mut written = Vec::new();
    for &format in formats {
        for (stem, rewards) in [("rewards", true), ("learning-rates", false)] {
            let figure = RunFigure {
                rewards,
                run,
                data: &data,
                style,
                x_max,
            };
            written.push(write_figure(&figure, out, stem, format)?);
        }
    }
    Ok(written)
}

/// `12000` → `12k`, `1500000` → `1.5M`: step ticks that stay short.
pub(super) fn fmt_steps(x: &f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if x.abs() >= 1e6 {
        format!("{}M", trim(format!("{:.2}", x / 1e6)))
    } else if x.abs() >= 1e3 {
        format!("{}k", trim(format!("{:.1}", x / 1e3)))
    } else {
        format!("{x:.0}")
    }
}

fn rewards<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunRecords,
    data: &[Curves],
    style: &Style,
    x_max: f64,
) -> Result<(), String> {
    let seeds = data.iter().map(|c| c.seeds).max().unwrap_or(0);
    let title = format!(
        "{}: return against environment steps ({} optimizers, up to {seeds} seeds each)",
        run.env,
        data.len()
    );
    let mut entries: Vec<(Key, String)> = data
        .iter()
        .map(|c| (Key::Line(c.colour, 3, 1.0), legend_label(&c.name, c.seeds)))
        .collect();
    let grey = RGBColor(90, 90, 90);
    entries.push((Key::Line(grey, 3, 1.0), "line: mean over seeds".into()));
    entries.push((Key::Swatch(grey, 0.25), style.band.describe().into()));
    if style.per_seed {
        entries.push((Key::Line(grey, 1, 0.45), "thin: single seeds".into()));
    }
    let panels = layout(root, &title, 2, &entries)?;
    let eval = data
        .iter()
        .map(|c| (c.eval.as_slice(), c.eval_stat.as_slice()));
    return_panel(
        &panels[0],
        "evaluation return (deterministic policy), mean over seeds",
        "evaluation return (mean over episodes)",
        data,
        eval.collect(),
        style.per_seed,
        x_max,
    )?;
    let episode = data
        .iter()
        .map(|c| (c.episode.as_slice(), c.episode_stat.as_slice()));
    let caption = format!(
        "training episode return, moving average of {} episodes",
        style.smooth.max(1)
    );
    return_panel(
        &panels[1],
        &caption,
        "episode return (smoothed)",
        data,
        episode.collect(),
        style.per_seed,
        x_max,
    )?;

    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn return_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    data: &[Curves],
    series: Vec<(&[Curve], &[Stat])>,
    per_seed: bool,
    x_max: f64,
) -> Result<(), String> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (seeds, stats) in &series {
        for s in stats.iter() {
            lo = lo.min(s.lo);
            hi = hi.max(s.hi);
        }
        if per_seed {
            for p in seeds.iter().flatten() {
                lo = lo.min(p.1);
                hi = hi.max(p.1);
            }
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return note(area, caption, "no data recorded yet");
    }
    let pad = ((hi - lo) * 0.05).max(1e-3 * hi.abs().max(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 21))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(58)
        .y_label_area_size(86)
        .build_cartesian_2d(0f64..x_max, (lo - pad)..(hi + pad))
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc(y_desc)
        .x_label_formatter(&fmt_steps)
        .y_label_formatter(&fmt_value(hi - lo))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(de)?;
    for (c, (_, stats)) in data.iter().zip(&series) {
        let col = c.colour;
        if stats.len() > 1 {
            let band: Vec<(f64, f64)> = stats
                .iter()
                .map(|s| (s.step as f64, s.hi))
                .chain(stats.iter().rev().map(|s| (s.step as f64, s.lo)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, col.mix(0.15).filled())))
                .map_err(de)?;
        }
    }
    for (c, (seeds, stats)) in data.iter().zip(&series) {
        let col = c.colour;
        if per_seed {
            for seed in seeds.iter() {
                chart
                    .draw_series(LineSeries::new(
                        seed.iter().map(|p| (p.0 as f64, p.1)),
                        col.mix(0.45).stroke_width(1),
                    ))
                    .map_err(de)?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                stats.iter().map(|s| (s.step as f64, s.mean)),
                col.stroke_width(3),
            ))
            .map_err(de)?;
        if stats.len() == 1 {
            let s = stats[0];
            chart
                .draw_series(std::iter::once(Circle::new(
                    (s.step as f64, s.mean),
                    4,
                    col.filled(),
                )))
                .map_err(de)?;
        }
    }
    Ok(())
}

fn learning_rates<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunRecords,
    data: &[Curves],
    x_max: f64,
) -> Result<(), String> {
    let title = format!(
        "{}: estimated learning rate against environment steps, one line per seed (log scale)",
        run.env
    );
    let any_diverged = data
        .iter()
        .any(|c| c.lr[0].iter().any(|(_, div)| div.is_some()));
    let mut entries: Vec<(Key, String)> = data
        .iter()
        .map(|c| (Key::Line(c.colour, 2, 1.0), legend_label(&c.name, c.seeds)))
        .collect();
    entries.push((
        Key::Line(RGBColor(90, 90, 90), 2, 1.0),
        "line: one seed".into(),
    ));
    if any_diverged {
        entries.push((
            Key::Cross(RGBColor(90, 90, 90)),
            "×: seed diverged (where it stopped)".into(),
        ));
    }
    let panels = layout(root, &title, Net::ALL.len(), &entries)?;
    for (k, net) in Net::ALL.iter().enumerate() {
        lr_panel(&panels[k], *net, k, data, x_max)?;
    }
    Ok(())
}

/// One learning-rate panel.
fn lr_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    net: Net,
    k: usize,
    data: &[Curves],
    x_max: f64,
) -> Result<(), String> {
    let caption = format!("{} ({}_lr)", net.title(), net.name());
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut diverged = false;
    for c in data {
        for (points, div) in &c.lr[k] {
            diverged |= div.is_some();
            for p in points {
                lo = lo.min(p.1);
                hi = hi.max(p.1);
            }
        }
    }
    if !lo.is_finite() {
        if !diverged {
            return note(area, &caption, "no learning-rate estimates recorded");
        }
        (lo, hi) = (1e-6, 1.0);
    }
    let (lo, hi) = log_range(lo, hi);
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, (FONT, 21))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(58)
        .y_label_area_size(86)
        .build_cartesian_2d(0f64..x_max, (lo..hi).log_scale())
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("estimated learning rate (log)")
        .x_label_formatter(&fmt_steps)
        .y_label_formatter(&fmt_log)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(de)?;
    for c in data {
        let col = c.colour;
        for (points, _) in &c.lr[k] {
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0 as f64, p.1)),
                    col.mix(0.85).stroke_width(2),
                ))
                .map_err(de)?;
        }
    }
    for c in data {
        let col = c.colour;
        for (points, div) in &c.lr[k] {
            let Some(step) = div else { continue };
            // At the last plotted estimate before the divergence; at the top without one.
            let y = points
                .iter()
                .take_while(|p| p.0 <= *step)
                .last()
                .map_or(hi, |p| p.1)
                .clamp(lo, hi);
            chart
                .draw_series(std::iter::once(Cross::new(
                    (*step as f64, y),
                    8,
                    col.stroke_width(3),
                )))
                .map_err(de)?;
        }
    }
    Ok(())
}
