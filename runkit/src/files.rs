//! Files a run writes whole: atomically (a temporary file, then a rename), so a run killed at
//! any moment leaves either the old file or the new one; JSON read back with the file named in
//! errors; the run directory's creation and the `--out` checks, before anything is written.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{RecordError, RunError};

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| RunError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| RunError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, e))
}

/// Write `value` as pretty JSON to `path` atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| RunError::io(path, e))?;
    write_atomic(path, text.as_bytes())
}

/// Write `lines` to `path` atomically, each ended by a newline (`result.txt`).
pub fn write_lines_atomic(path: &Path, lines: &[String]) -> Result<(), RunError> {
    write_atomic(path, (lines.join("\n") + "\n").as_bytes())
}

/// Read a JSON record.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecordError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| RecordError::BadJson {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Create the run directory `out` and write `run.json` (`plan`) and `config.toml`.
pub fn create_run_dir<P: Serialize>(
    out: &Path,
    plan: &P,
    config_toml: &str,
) -> Result<(), RunError> {
    std::fs::create_dir_all(out)
        .map_err(|e| RunError::Usage(format!("cannot create --out {}: {e}", out.display())))?;
    write_json_atomic(&out.join("run.json"), plan)?;
    write_atomic(&out.join("config.toml"), config_toml.as_bytes())
}

/// Refuse a `--out` that is a file or a non-empty directory.
pub fn check_empty_out(out: &Path) -> Result<(), RunError> {
    if out.exists() && !out.is_dir() {
        return Err(RunError::Usage(format!(
            "--out {} exists and is not a directory",
            out.display()
        )));
    }
    if out.is_dir()
        && std::fs::read_dir(out)
            .map_err(|e| RunError::io(out, e))?
            .next()
            .is_some()
    {
        return Err(RunError::Usage(format!(
            "--out {} is not empty; choose another directory",
            out.display()
        )));
    }
    Ok(())
}

/// `runs/<name>-<optimizers>-<UTC date and time>`: a new directory for each run by default
/// (`<optimizers>` joined by `+`, or `<N>-optimizers` beyond three).
pub fn default_out(name: &str, optimizers: &[String]) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = civil_date(days);
    let opts = if optimizers.len() > 3 {
        format!("{}-optimizers", optimizers.len())
    } else {
        optimizers.join("+")
    };
    PathBuf::from("runs").join(format!(
        "{}-{opts}-{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        name.to_ascii_lowercase().replace(['/', ':'], "_"),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Year, month, day of `days` since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Write `bytes` to `path` only if no file is there yet, atomically: a complete file or none,
/// also when several processes (cluster tasks on a shared file system) race to create it.
/// `Ok(false)`: another process's file was already there, nothing written.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<bool, RunError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = File::create(&tmp).map_err(|e| RunError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| RunError::io(&tmp, e))?;
    // A hard link fails if the name exists: the one atomic create-if-absent for whole files
    // that network file systems honour.
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp).ok();
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(RunError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_writes_once_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("runkit-write-new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.json");
        assert!(write_new(&path, b"first").unwrap());
        assert!(!write_new(&path, b"second").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn civil_dates_are_right_across_leap_years_and_eras() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_819), (2027, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }

    #[test]
    fn default_out_names_the_run_and_its_optimizers() {
        let two = default_out("Hopper-v5", &["adam".into(), "ps-da-sgd".into()]);
        let name = two.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("hopper-v5-adam+ps-da-sgd-"), "{name}");
        let many: Vec<String> = (0..4).map(|i| format!("o{i}")).collect();
        let name = default_out("sl-digits-cnn", &many);
        assert!(
            name.to_str()
                .unwrap()
                .starts_with("runs/sl-digits-cnn-4-optimizers-"),
            "{}",
            name.display()
        );
    }

    #[test]
    fn out_must_be_absent_or_an_empty_directory() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check_empty_out(&tmp.path().join("new")).is_ok());
        assert!(check_empty_out(tmp.path()).is_ok());
        std::fs::write(tmp.path().join("f"), "x").unwrap();
        let e = check_empty_out(tmp.path()).unwrap_err();
        assert!(
            e.to_string().contains("is not empty") && e.exit_code() == 2,
            "{e}"
        );
        let e = check_empty_out(&tmp.path().join("f")).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file_and_json_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("summary.json");
        write_json_atomic(&path, &vec![1.5, -2.0]).unwrap();
        assert_eq!(read_json::<Vec<f64>>(&path).unwrap(), [1.5, -2.0]);
        assert!(!tmp.path().join("summary.tmp").exists());
        std::fs::write(&path, "[1.5,").unwrap();
        let e = read_json::<Vec<f64>>(&path).unwrap_err();
        assert!(
            matches!(e, RecordError::BadJson { .. }) && e.to_string().contains("summary.json"),
            "{e}"
        );
    }
}
