//! The `diagnostics` figure of a run recorded with `diagnostics = true`: per network (rows)
//! what moved its optimizer's D (columns): D itself, the lower bound d̂ each step proposed, the
//! numerator r, ‖s‖, G and the gradient's norm, one line per seed on log axes, with each seed's
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

use super::read::{RunRecords, SeedRecord};
use super::series::eval_curve;
use crate::error::PlotError;
use crate::figure::{
    FONT, Figure, Format, Key, de, fmt_log, fmt_value, layout, log_range, note, write_figure,
};
use crate::palette::colour;

/// The quantities drawn, as (`diagnostics.csv` column, panel title).
const QUANTITIES: [(&str, &str); 6] = [
    ("d", "D (the estimate each step used)"),
    ("d_hat", "d̂, the lower bound proposed"),
    ("numerator", "numerator r"),
    ("s_norm", "‖s‖"),
    ("g0_norm", "G (first-gradient norm, as used)"),
    ("grad_norm", "‖g‖ of the step (scaled for PS)"),
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

    /// The points of `column` for `net` of seed `index`, positive and finite only (log axes).
    fn points(&self, index: usize, net: Net, column: &str) -> Vec<(f64, f64)> {
        self.seeds[index]
            .rows
            .iter()
            .filter(|r| r.1 == net)
            .filter_map(|(step, _, row)| row.get(column).map(|v| (*step as f64, v)))
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .collect()
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        net: Net,
        (column, title): (&str, &str),
    ) -> Result<(), String> {
        let caption = format!("{}: {title}", net.name());
        let curves: Vec<Vec<(f64, f64)>> = (0..self.seeds.len())
            .map(|i| self.points(i, net, column))
            .collect();
        let values = curves.iter().flatten().map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            return note(area, &caption, "none recorded (or not positive)");
        }
        let (lo, hi) = log_range(lo, hi);
        let mut chart = chart(area, &caption)
            .build_cartesian_2d(0f64..self.x_max, (lo..hi).log_scale())
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_label_formatter(&fmt_k)
            .y_label_formatter(&fmt_log)
            .x_labels(5)
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(de)?;
        for (i, points) in curves.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(points, self.colour(i).stroke_width(2)))
                .map_err(de)?;
        }
        Ok(())
    }

    fn returns_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let caption = "evaluation return";
        let curves: Vec<Vec<(f64, f64)>> = self
            .seeds
            .iter()
            .map(|s| {
                eval_curve(s.seed)
                    .iter()
                    .map(|p| (p.0 as f64, p.1))
                    .collect()
            })
            .collect();
        let values = curves.iter().flatten().map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            return note(area, caption, "no evaluation yet");
        }
        let pad = ((hi - lo) * 0.05).max(1.0);
        let mut chart = chart(area, caption)
            .build_cartesian_2d(0f64..self.x_max, (lo - pad)..(hi + pad))
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_label_formatter(&fmt_k)
            .y_label_formatter(&fmt_value(hi - lo))
            .x_labels(5)
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(de)?;
        for (i, points) in curves.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(points, self.colour(i).stroke_width(2)))
                .map_err(de)?;
        }
        Ok(())
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

/// `12000` → `12k`: short step ticks.
fn fmt_k(x: &f64) -> String {
    format!("{}k", (x / 1e3).round())
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
            "{}: what moved D, per network (rows), one line per seed (log axes)",
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
