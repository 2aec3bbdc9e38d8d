//! Drawing the two figures, each as PNG and SVG, with the same code for both backends.
//!
//! Every figure has a title strip, its panels side by side, and a legend strip of its own at
//! the bottom, so the legend never covers data. Text is drawn with the DejaVu Sans file
//! shipped in `fonts/` (through ab_glyph), so PNGs get text without system font libraries.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::PlotError;
use crate::palette::{colour, group};
use crate::records::{Net, RunRecords, SeedRecord};
use crate::series::{
    Band, Curve, Stat, aggregate_at_steps, aggregate_on_grid, episode_curve, eval_curve, lr_curve,
};

/// Pixel size of `rewards.{png,svg}`: two panels side by side.
pub const REWARDS_SIZE: (u32, u32) = (1600, 720);
/// Pixel size of `learning-rates.{png,svg}`: three panels side by side.
pub const LR_SIZE: (u32, u32) = (1950, 720);

pub(crate) const FONT: &str = "sans-serif";
const TITLE_H: u32 = 50;
const LEGEND_ROW_H: i32 = 26;
/// Grid points of the aggregated episode-return curve.
const EPISODE_GRID: usize = 200;

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Make the shipped DejaVu Sans the `sans-serif` family for every figure.
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The file is compiled in and known to parse; a failure would show as missing text,
        // reported by the drawing calls themselves.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raster, for viewing and slides.
    Png,
    /// Vector, for papers; text stays text.
    Svg,
}

impl Format {
    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

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
    seeds: usize,
    eval: Vec<Curve>,
    eval_stat: Vec<Stat>,
    episode: Vec<Curve>,
    episode_stat: Vec<Stat>,
    /// Per net: per seed `(points, divergence step)`.
    lr: Vec<Vec<(Curve, Option<u64>)>>,
}

fn curves(run: &RunRecords, style: &Style) -> Vec<Curves> {
    run.optimizers()
        .into_iter()
        .map(|name| {
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
                eval,
                episode,
                lr,
            }
        })
        .collect()
}

/// Draw `rewards` and `learning-rates` for `run` into `out` in each format; the paths written.
pub fn draw_all(
    run: &RunRecords,
    style: &Style,
    formats: &[Format],
    out: &Path,
) -> Result<Vec<PathBuf>, PlotError> {
    register_fonts();
    std::fs::create_dir_all(out).map_err(|e| PlotError::io(out, e))?;
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
        for (stem, size) in [("rewards", REWARDS_SIZE), ("learning-rates", LR_SIZE)] {
            let path = out.join(format!("{stem}.{}", format.ext()));
            let result = match format {
                Format::Png => draw_one(
                    BitMapBackend::new(&path, size).into_drawing_area(),
                    stem,
                    run,
                    &data,
                    style,
                    x_max,
                ),
                Format::Svg => draw_one(
                    SVGBackend::new(&path, size).into_drawing_area(),
                    stem,
                    run,
                    &data,
                    style,
                    x_max,
                ),
            };
            result.map_err(|message| PlotError::Draw {
                path: path.clone(),
                message,
            })?;
            written.push(path);
        }
    }
    Ok(written)
}

fn draw_one<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    stem: &str,
    run: &RunRecords,
    data: &[Curves],
    style: &Style,
    x_max: f64,
) -> Result<(), String> {
    if stem == "rewards" {
        rewards(&root, run, data, style, x_max)?;
    } else {
        learning_rates(&root, run, data, x_max)?;
    }
    root.present().map_err(de)
}

pub(crate) fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// `12000` → `12k`, `1500000` → `1.5M`: step ticks that stay short.
fn fmt_steps(x: &f64) -> String {
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

/// Tick labels with as many decimals as the axis range needs (none for returns in the hundreds).
pub(crate) fn fmt_value(range: f64) -> impl Fn(&f64) -> String {
    let decimals = if range >= 20.0 {
        0
    } else if range >= 2.0 {
        1
    } else {
        3
    };
    move |y| format!("{y:.decimals$}")
}

pub(crate) fn fmt_log(y: &f64) -> String {
    format!("{y:.0e}")
}

/// Title strip, panels, and a legend strip as tall as its entries need (drawn here).
pub(crate) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: usize,
    entries: &[(Key, String)],
) -> Result<Vec<DrawingArea<DB, Shift>>, String> {
    root.fill(&WHITE).map_err(de)?;
    let (w, h) = root.dim_in_pixel();
    let (col_w, cols) = legend_columns(root, entries, w)?;
    let rows = entries.len().div_ceil(cols as usize) as u32;
    let legend_h = 16 + rows * LEGEND_ROW_H as u32;
    let (top, rest) = root.split_vertically(TITLE_H);
    let (body, legend_area) = rest.split_vertically(h - TITLE_H - legend_h);
    let title_style =
        TextStyle::from((FONT, 26).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
    top.draw(&Text::new(
        title.to_string(),
        ((w / 2) as i32, 14),
        title_style,
    ))
    .map_err(de)?;
    legend(&legend_area, entries, col_w, cols)?;
    Ok(body.split_evenly((1, panels)))
}

const LEGEND_FONT: u32 = 17;

/// Column width (the widest entry) and how many columns fit across `w` pixels.
fn legend_columns<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Key, String)],
    w: u32,
) -> Result<(i32, i32), String> {
    let font = TextStyle::from((FONT, LEGEND_FONT).into_font());
    let mut widest = 0;
    for (_, label) in entries {
        widest = widest.max(area.estimate_text_size(label, &font).map_err(de)?.0 as i32);
    }
    let col_w = 42 + widest + 28;
    Ok((col_w, ((w as i32 - 40) / col_w).max(1)))
}

/// An optimizer's legend label with its group of Table 3, so the legend (in Table 3's order)
/// reads as the table's groups: `adam (adaptive, 5 seeds)`.
fn legend_label(name: &str, seeds: usize) -> String {
    match group(name) {
        "other" => format!("{name} ({seeds} seeds)"),
        g => format!("{name} ({g}, {seeds} seeds)"),
    }
}

/// A legend entry: a short line (or a swatch, or a cross) and its label.
pub(crate) enum Key {
    Line(RGBColor, u32, f64),
    Swatch(RGBColor, f64),
    Cross(RGBColor),
}

/// Lay the entries out in rows of equal-width columns across the legend strip.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Key, String)],
    col_w: i32,
    cols: i32,
) -> Result<(), String> {
    let font = (FONT, LEGEND_FONT).into_font();
    for (i, (key, label)) in entries.iter().enumerate() {
        let x = 30 + (i as i32 % cols) * col_w;
        let y = 14 + (i as i32 / cols) * LEGEND_ROW_H;
        match key {
            Key::Line(c, width, alpha) => area.draw(&PathElement::new(
                vec![(x, y), (x + 34, y)],
                c.mix(*alpha).stroke_width(*width),
            )),
            Key::Swatch(c, alpha) => area.draw(&Rectangle::new(
                [(x, y - 7), (x + 34, y + 7)],
                c.mix(*alpha).filled(),
            )),
            Key::Cross(c) => area.draw(&Cross::new((x + 17, y), 7, c.stroke_width(3))),
        }
        .map_err(de)?;
        area.draw(&Text::new(label.clone(), (x + 42, y - 9), font.clone()))
            .map_err(de)?;
    }
    Ok(())
}

pub(crate) fn note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    message: &str,
) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        caption.to_string(),
        (30, 10),
        (FONT, 21).into_font(),
    ))
    .map_err(de)?;
    area.draw(&Text::new(
        message.to_string(),
        ((w / 4) as i32, (h / 2) as i32),
        (FONT, 20).into_font().color(&RGBColor(120, 120, 120)),
    ))
    .map_err(de)
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
        .map(|c| {
            (
                Key::Line(colour(&c.name), 3, 1.0),
                legend_label(&c.name, c.seeds),
            )
        })
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
        let col = colour(&c.name);
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
        let col = colour(&c.name);
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
        .map(|c| {
            (
                Key::Line(colour(&c.name), 2, 1.0),
                legend_label(&c.name, c.seeds),
            )
        })
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
    // Whole decades around the data, at least two, so the log axis has labelled ticks.
    let (mut lo, mut hi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil()),
    );
    if hi / lo < 100.0 {
        lo /= 10.0;
        hi *= 10.0;
    }
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
        let col = colour(&c.name);
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
        let col = colour(&c.name);
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
