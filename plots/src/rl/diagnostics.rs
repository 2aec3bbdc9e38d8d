//! The `diagnostics` figure of a run recorded with `diagnostics = true`: per network (rows)
//! what moved its optimizer's D (columns): D itself, the lower bound d̂ each step proposed, the
//! numerator r, ‖s‖, G and the gradient's norm, one line per seed (log axes but for d̂ and the
//! numerator, which go negative), with each seed's
//! evaluation return in the first column so a collapse and what moved before it line up.
//!
//! D-Adaptation's D is a ratchet, `D = max(D, d̂)`: this figure is where one reads why D jumped
//! (d̂ crossed D because the numerator grew faster than ‖s‖, or because the gradients' scale
//! grew while G stayed fixed). Seeds recorded without diagnostics, and optimizers without a D
//! (Adam, COCOB: no rows), are simply absent.

use std::path::{Path, PathBuf};

use lrfree_runkit::records::rl::{DiagnosticRecord, Net, read_diagnostics};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::fmt_steps;
use super::read::{RunRecords, SeedRecord};
use super::series::eval_curve;
use crate::error::PlotError;
use crate::figure::{
    FONT, Figure, Format, Key, de, fmt_log, fmt_value, layout, log_range, note, write_figure,
};
use crate::palette::colour;

/// The quantities drawn: (`diagnostics.csv` column, panel title, log axis). d̂ and the
/// numerator are negative while gradients oppose the accumulated step, so they get linear axes,
/// and the d̂ panel repeats D as thin lines: D jumps where d̂ crosses it.
const QUANTITIES: [(&str, &str, bool); 6] = [
    ("d", "D (the estimate each step used)", true),
    ("d_hat", "d-hat, the lower bound proposed (thin: D)", false),
    ("numerator", "numerator r", false),
    ("s_norm", "norm of s", true),
    ("g0_norm", "G (first-gradient norm, as used)", true),
    (
        "grad_norm",
        "gradient norm of the step (scaled for PS)",
        true,
    ),
];

/// Pixel size of one panel.
const PANEL: (u32, u32) = (430, 330);

/// One seed's diagnostics: its records and its `diagnostics.csv` rows.
struct SeedDiagnostics<'a> {
    seed: &'a SeedRecord,
    rows: Vec<DiagnosticRecord>,
}

/// The figure: the nets with rows, and every seed with a `diagnostics.csv`.
struct DiagnosticsFigure<'a> {
    run: &'a RunRecords,
    nets: Vec<Net>,
    seeds: Vec<SeedDiagnostics<'a>>,
    x_max: f64,
}

/// Read every seed's `diagnostics.csv` and draw `diagnostics.{png,svg}` into `out`; nothing
/// (an empty list) when no seed has one. Partial files read as far as they are complete, with
/// warnings added to `warnings`.
pub fn draw_diagnostics(
    run: &RunRecords,
    formats: &[Format],
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, PlotError> {
    let mut seeds = Vec::new();
    for seed in &run.seeds {
        let path = seed.dir.join("diagnostics.csv");
        if !path.is_file() {
            continue;
        }
        let (rows, mut w) = read_diagnostics(&path)?;
        warnings.append(&mut w);
        seeds.push(SeedDiagnostics { seed, rows });
    }
    let nets: Vec<Net> = Net::ALL
        .into_iter()
        .filter(|net| seeds.iter().any(|s| s.rows.iter().any(|r| r.1 == *net)))
        .collect();
    if nets.is_empty() {
        return Ok(Vec::new());
    }
    let x_max = seeds
        .iter()
        .flat_map(|s| {
            s.seed
                .last_step()
                .into_iter()
                .chain(s.rows.last().map(|r| r.0))
        })
        .max()
        .unwrap_or(1)
        .max(run.steps.unwrap_or(1)) as f64;
    let figure = DiagnosticsFigure {
        run,
        nets,
        seeds,
        x_max,
    };
    formats
        .iter()
        .map(|&format| write_figure(&figure, out, "diagnostics", format))
        .collect()
}

impl DiagnosticsFigure<'_> {
    /// A seed's colour: its optimizer's, unless the figure has a single optimizer, where the
    /// seeds get distinct colours (a remedy study draws one method on several seeds).
    fn colour(&self, index: usize) -> RGBColor {
        let one_optimizer = self
            .seeds
            .iter()
            .all(|s| s.seed.optimizer == self.seeds[0].seed.optimizer);
        if one_optimizer {
            let (r, g, b) = Palette99::pick(index).rgb();
            RGBColor(r, g, b)
        } else {
            colour(&self.seeds[index].seed.optimizer)
        }
    }

    /// The points of `column` for `net` of seed `index`: finite, and positive on a log axis.
    fn points(&self, index: usize, net: Net, column: &str, log: bool) -> Vec<(f64, f64)> {
        self.seeds[index]
            .rows
            .iter()
            .filter(|r| r.1 == net)
            .filter_map(|(step, _, row)| row.get(column).map(|v| (*step as f64, v)))
            .filter(|(_, v)| v.is_finite() && (!log || *v > 0.0))
            .collect()
    }

    /// One panel of `net`'s `column`, one line per seed.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        net: Net,
        (column, title, log): (&str, &str, bool),
    ) -> Result<(), String> {
        let caption = format!("{}: {title}", net.name());
        let seeds = 0..self.seeds.len();
        let curves = seeds.clone().map(|i| self.points(i, net, column, log));
        let thin = seeds
            .filter(|_| column == "d_hat")
            .map(|i| self.points(i, net, "d", log));
        self.lines(area, &caption, curves.collect(), thin.collect(), log)
    }

    /// Each seed's evaluation return, so a collapse lines up with the panels beside it.
    fn returns_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let curves = self
            .seeds
            .iter()
            .map(|s| {
                eval_curve(s.seed)
                    .iter()
                    .map(|p| (p.0 as f64, p.1))
                    .collect()
            })
            .collect();
        self.lines(area, "evaluation return", curves, Vec::new(), false)
    }

    /// Draw `curves` (seed `i` in its colour) and `thin` ones (the same colours, faint) on a
    /// log or linear axis fitted to them.
    fn lines<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        curves: Vec<Vec<(f64, f64)>>,
        thin: Vec<Vec<(f64, f64)>>,
        log: bool,
    ) -> Result<(), String> {
        let values = curves.iter().chain(&thin).flatten().map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            return note(area, caption, "none recorded");
        }
        let x = 0f64..self.x_max;
        // The two axis kinds are two chart types: one body for both.
        macro_rules! draw {
            ($y:expr, $fmt:expr) => {{
                let mut chart = chart(area, caption).build_cartesian_2d(x, $y).map_err(de)?;
                chart
                    .configure_mesh()
                    .x_label_formatter(&fmt_steps)
                    .y_label_formatter($fmt)
                    .x_labels(5)
                    .label_style((FONT, 13))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(de)?;
                for (i, points) in thin.into_iter().enumerate() {
                    let style = self.colour(i).mix(0.45).stroke_width(1);
                    chart
                        .draw_series(LineSeries::new(points, style))
                        .map_err(de)?;
                }
                for (i, points) in curves.into_iter().enumerate() {
                    let style = self.colour(i).stroke_width(2);
                    chart
                        .draw_series(LineSeries::new(points, style))
                        .map_err(de)?;
                }
                Ok(())
            }};
        }
        if log {
            let (lo, hi) = log_range(lo, hi);
            draw!((lo..hi).log_scale(), &fmt_log)
        } else {
            let pad = ((hi - lo) * 0.05).max(1e-9 * hi.abs().max(1.0));
            draw!((lo - pad)..(hi + pad), &fmt_value(hi - lo))
        }
    }
}

/// A panel's chart frame, captioned.
fn chart<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, (FONT, 17))
        .margin(8)
        .margin_right(18)
        .x_label_area_size(36)
        .y_label_area_size(64);
    builder
}

impl Figure for DiagnosticsFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let cols = QUANTITIES.len() as u32 + 1;
        (
            PANEL.0 * cols,
            PANEL.1 * self.nets.len() as u32 + 50 + 16 + 26 * 3,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let title = format!(
            "{}: what moved D, per network (rows), one line per seed",
            self.run.env
        );
        let entries: Vec<(Key, String)> = self
            .seeds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    Key::Line(self.colour(i), 2, 1.0),
                    format!("{} seed {}", s.seed.optimizer, s.seed.seed),
                )
            })
            .collect();
        let rows = layout(root, &title, 1, &entries)?;
        let grid = rows[0].split_evenly((self.nets.len(), QUANTITIES.len() + 1));
        for (r, &net) in self.nets.iter().enumerate() {
            let row = &grid[r * (QUANTITIES.len() + 1)..(r + 1) * (QUANTITIES.len() + 1)];
            self.returns_panel(&row[0])?;
            for (area, quantity) in row[1..].iter().zip(QUANTITIES) {
                self.panel(area, net, quantity)?;
            }
        }
        Ok(())
    }
}
