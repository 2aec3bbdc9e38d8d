//! The table both reports are, the RL one ([`crate::rl::report`]) and the supervised one
//! ([`crate::sl::report`]): optimizers as rows in the paper's order, one column per
//! environment (RL) or `task / model` (SL), one cell per optimizer and column built from the
//! seeds' summaries under the same rules: a seed without a summary (running or killed) is
//! counted as unfinished and left out; the same seed found again (two runs of one column) is
//! counted once, with a warning. And the text both print: padded Markdown, the footnote for
//! unfinished seeds, the files.

use std::path::{Path, PathBuf};

use crate::error::PlotError;
use crate::palette::{group, order_key};
use crate::read::Seed;

/// A cell that counts seeds: what [`Table`] needs to know of it.
pub trait SeedCell: Default {
    /// Whether `seed` is counted in this cell already.
    fn has_seed(&self, seed: u64) -> bool;
    /// Seeds with records but no summary yet (left out of the numbers).
    fn unfinished_mut(&mut self) -> &mut usize;
}

/// Optimizers × columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<C> {
    /// Column headers, in the order the runs were given.
    pub columns: Vec<String>,
    /// Rows, in the paper's order once built.
    pub rows: Vec<TableRow<C>>,
    /// One line per skipped seed or file.
    pub warnings: Vec<String>,
}

/// One optimizer's row.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow<C> {
    /// Registry name.
    pub optimizer: String,
    /// The paper's group (`steepest descent`, `adaptive`, `proposed`).
    pub group: &'static str,
    /// One cell per column; `None` where it was not run.
    pub cells: Vec<Option<C>>,
}

impl<C: SeedCell> Table<C> {
    pub(crate) fn new() -> Self {
        Self {
            columns: Vec::new(),
            rows: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The index of column `name`, added (after the others) if new.
    pub(crate) fn column(&mut self, name: &str) -> usize {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return i;
        }
        self.columns.push(name.to_string());
        for row in &mut self.rows {
            row.cells.push(None);
        }
        self.columns.len() - 1
    }

    /// The row of `optimizer`, added if new (`–` in every column).
    pub(crate) fn row(&mut self, optimizer: &str) -> &mut TableRow<C> {
        let i = match self.rows.iter().position(|r| r.optimizer == optimizer) {
            Some(i) => i,
            None => {
                self.rows.push(TableRow {
                    optimizer: optimizer.to_string(),
                    group: group(optimizer),
                    cells: (0..self.columns.len()).map(|_| None).collect(),
                });
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }

    /// The cell of `optimizer` in column `col`, started if new.
    pub(crate) fn cell_mut(&mut self, col: usize, optimizer: &str) -> &mut C {
        self.row(optimizer).cells[col].get_or_insert_with(C::default)
    }

    /// Take `seed` into column `col`: the cell of its optimizer to count its summary in, or
    /// `None` when it has none (counted as unfinished) or is counted already (a warning says
    /// so).
    pub(crate) fn take_seed<'s, R, S>(
        &mut self,
        col: usize,
        seed: &'s Seed<R, S>,
    ) -> Option<(&mut C, &'s S)> {
        let column = self.columns[col].clone();
        let cell = self.cell_mut(col, &seed.optimizer);
        let Some(summary) = &seed.summary else {
            *cell.unfinished_mut() += 1;
            return None;
        };
        if cell.has_seed(seed.seed) {
            self.warnings.push(format!(
                "{}: {} seed {} on {column} already counted from an earlier run; skipped",
                seed.dir.display(),
                seed.optimizer,
                seed.seed
            ));
            return None;
        }
        Some((self.cell_mut(col, &seed.optimizer), summary))
    }

    /// Put the rows in the paper's order.
    pub(crate) fn sort(&mut self) {
        self.rows.sort_by_key(|r| order_key(&r.optimizer));
    }

    /// The cell of `optimizer` in column `column`.
    pub fn cell(&self, optimizer: &str, column: &str) -> Option<&C> {
        let col = self.columns.iter().position(|c| c == column)?;
        self.rows.iter().find(|r| r.optimizer == optimizer)?.cells[col].as_ref()
    }

    /// Every cell that was run.
    pub fn cells(&self) -> impl Iterator<Item = &C> {
        self.rows.iter().flat_map(|r| r.cells.iter().flatten())
    }

    /// Every cell that was run with its column's index and its row, row by row.
    pub fn cells_by_row(&self) -> impl Iterator<Item = (usize, &TableRow<C>, &C)> {
        self.rows.iter().flat_map(|row| {
            row.cells
                .iter()
                .enumerate()
                .filter_map(move |(col, cell)| cell.as_ref().map(|c| (col, row, c)))
        })
    }

    /// The footnote for seeds left out because they have no summary yet (`unfinished`
    /// counts them in a cell).
    pub(crate) fn unfinished_note(&self, unfinished: impl Fn(&C) -> usize) -> String {
        unfinished_note(self.cells().map(unfinished).sum())
    }
}

/// `table` (header first) as a Markdown table whose columns are padded, so it reads as plain
/// text too.
pub(crate) fn markdown(table: &[Vec<String>]) -> String {
    let Some(header) = table.first() else {
        return String::new();
    };
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            table
                .iter()
                .map(|r| r[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(header);
    out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in &table[1..] {
        out += &line(row);
    }
    out
}

/// The footnote for seeds left out of a report because they have no summary yet.
fn unfinished_note(unfinished: usize) -> String {
    if unfinished == 0 {
        return String::new();
    }
    format!("\n{unfinished} seed(s) without summary.json (still running or killed) are left out.\n")
}

/// `header` and `records` as CSV text (cells quoted where they need it).
pub(crate) fn csv_text(header: &[&str], records: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into a Vec cannot fail, and every cell is a UTF-8 string.
    w.write_record(header).expect("in memory");
    for record in records {
        w.write_record(&record).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("csv of UTF-8 strings")
}

/// Write each `(file name, text)` into `dir` (created if needed); the paths written.
pub(crate) fn write_files(
    dir: &Path,
    files: [(&str, String); 2],
) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError::io(dir, e))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| PlotError::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Seeds {
        counted: Vec<u64>,
        unfinished: usize,
    }

    impl SeedCell for Seeds {
        fn has_seed(&self, seed: u64) -> bool {
            self.counted.contains(&seed)
        }
        fn unfinished_mut(&mut self) -> &mut usize {
            &mut self.unfinished
        }
    }

    #[test]
    fn seeds_are_counted_once_unfinished_apart_and_rows_in_the_papers_order() {
        let mut t: Table<Seeds> = Table::new();
        let hopper = t.column("Hopper");
        for (optimizer, seed, summary) in [
            ("ps-da-sgd", 0, Some(())),
            ("adam", 0, Some(())),
            ("ps-da-sgd", 0, Some(())),
            ("ps-da-sgd", 1, None),
        ] {
            let seed: Seed<(), ()> = Seed {
                optimizer: optimizer.into(),
                seed,
                dir: "run".into(),
                rows: vec![],
                summary,
            };
            if let Some((cell, ())) = t.take_seed(hopper, &seed) {
                cell.counted.push(seed.seed);
            }
        }
        let pendulum = t.column("Pendulum");
        assert_eq!((hopper, pendulum, t.column("Hopper")), (0, 1, 0));
        t.sort();
        let names: Vec<&str> = t.rows.iter().map(|r| r.optimizer.as_str()).collect();
        assert_eq!(names, ["adam", "ps-da-sgd"]);
        assert_eq!(t.rows[1].group, "proposed");
        let cell = t.cell("ps-da-sgd", "Hopper").unwrap();
        assert_eq!((cell.counted.as_slice(), cell.unfinished), (&[0][..], 1));
        assert!(t.cell("ps-da-sgd", "Pendulum").is_none());
        assert_eq!(t.warnings.len(), 1);
        assert!(
            t.warnings[0].contains("ps-da-sgd seed 0 on Hopper already counted"),
            "{:?}",
            t.warnings
        );
        assert!(
            t.unfinished_note(|c| c.unfinished)
                .contains("1 seed(s) without summary.json")
        );
    }

    #[test]
    fn columns_are_padded_to_the_widest_cell_counting_characters() {
        let table = vec![
            vec!["optimizer".to_string(), "Hopper".into()],
            vec!["ps-da-sgd".into(), "–".into()],
        ];
        let text = markdown(&table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "| optimizer | Hopper |",
                "| --------- | ------ |",
                "| ps-da-sgd | –      |"
            ]
        );
        assert_eq!(unfinished_note(0), "");
        assert!(unfinished_note(2).contains("2 seed(s)"));
    }
}
