//! Text output shared by the RL report ([`crate::report`]) and the supervised one
//! ([`crate::sl`]): padded Markdown tables, their footnote, and writing the files.

use std::path::{Path, PathBuf};

use crate::error::PlotError;

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
pub(crate) fn unfinished_note(unfinished: usize) -> String {
    if unfinished == 0 {
        return String::new();
    }
    format!("\n{unfinished} seed(s) without summary.json (still running or killed) are left out.\n")
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
