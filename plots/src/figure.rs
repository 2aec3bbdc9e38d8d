//! What every figure shares, RL's and SL's: the shipped font, the image formats, a title strip
//! with the panels side by side and a legend strip of its own at the bottom (so the legend never
//! covers data), tick labels, and writing one figure as PNG and SVG with the same code.
//!
//! Text is drawn with the DejaVu Sans file shipped in `fonts/` (through ab_glyph), so PNGs get
//! text without system font libraries.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::PlotError;
use crate::palette::group;

pub(crate) const FONT: &str = "sans-serif";
const TITLE_H: u32 = 50;
const LEGEND_ROW_H: i32 = 26;
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

/// A figure drawn with the same code on any plotters backend (PNG and SVG).
pub(crate) trait Figure {
    /// Pixel size.
    fn size(&self) -> (u32, u32);
    /// Draw everything on `root` (not yet presented).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Make `out` (and register the font) before figures are written into it.
pub(crate) fn prepare_dir(out: &Path) -> Result<(), PlotError> {
    register_fonts();
    std::fs::create_dir_all(out).map_err(|e| PlotError::io(out, e))
}

/// Write `figure` as `out/<stem>.<ext>` in `format`; the path written.
pub(crate) fn write_figure(
    figure: &impl Figure,
    out: &Path,
    stem: &str,
    format: Format,
) -> Result<PathBuf, PlotError> {
    let path = out.join(format!("{stem}.{}", format.ext()));
    let size = figure.size();
    let result = match format {
        Format::Png => {
            let root = BitMapBackend::new(&path, size).into_drawing_area();
            figure.draw(&root).and_then(|_| root.present().map_err(de))
        }
        Format::Svg => {
            let root = SVGBackend::new(&path, size).into_drawing_area();
            figure.draw(&root).and_then(|_| root.present().map_err(de))
        }
    };
    result.map_err(|message| PlotError::Draw {
        path: path.clone(),
        message,
    })?;
    Ok(path)
}

pub(crate) fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
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

/// A log axis from whole decades around `lo..hi`, at least two, so it has labelled ticks.
pub(crate) fn log_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil()),
    );
    if hi / lo < 100.0 {
        (lo / 10.0, hi * 10.0)
    } else {
        (lo, hi)
    }
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
pub(crate) fn legend_label(name: &str, seeds: usize) -> String {
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
