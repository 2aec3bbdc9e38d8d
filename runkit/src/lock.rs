//! One process per suite task: a lock file per (optimizer, seed) cell, so that two cluster
//! jobs never train the same cell into a shared run directory.
//!
//! The file names who holds it (host, process id, Slurm job, Kubernetes or `LRFREE_JOB_ID`
//! array task). A lock left by a process that died is taken over when that is certain: the
//! same Slurm array task requeued (Slurm keeps its job id), the same Kubernetes Indexed Job
//! index in a replacement pod ([`crate::array`]), or the same host with the process gone.
//! Otherwise the second start is refused with one line that says whose lock it is.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::RunError;

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The host name.
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
    /// The Slurm job: `<array job>_<array task>` in an array, else the job id; `None`
    /// outside Slurm.
    pub slurm_job: Option<String>,
    /// The Kubernetes Indexed Job task or `LRFREE_JOB_ID` task this process is
    /// ([`crate::array::retry_identity`]); `None` outside them (and absent from lock files
    /// written before Kubernetes was an engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_task: Option<String>,
}

impl Holder {
    /// This process.
    pub fn current() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let slurm_job = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
            (Some(job), Some(task)) => Some(format!("{job}_{task}")),
            _ => var("SLURM_JOB_ID"),
        };
        let host = host_name();
        Self {
            array_task: crate::array::retry_identity(&host),
            host,
            pid: std::process::id(),
            slurm_job,
        }
    }

    /// Whether `self`'s lock is certainly abandoned, seen from `me`: `me` is a retry of the
    /// same array task (a Slurm requeue, a Kubernetes pod replaced after its predecessor
    /// failed), or the holder's process is gone from this host.
    fn abandoned_for(&self, me: &Holder) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let retried =
            same(&self.slurm_job, &me.slurm_job) || same(&self.array_task, &me.array_task);
        let gone = self.host == me.host && !process_alive(self.pid);
        retried || gone
    }

    /// `, Slurm job 41_3` / `, kubernetes:<uid>/3`: who else the holder is, for a refusal.
    fn array_note(&self) -> String {
        let slurm = self.slurm_job.iter().map(|j| format!(", Slurm job {j}"));
        let array = self.array_task.iter().map(|t| format!(", array task {t}"));
        slurm.chain(array).collect()
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // cannot tell: never take over
    }
}

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct TaskLock {
    path: PathBuf,
}

impl TaskLock {
    /// Take the lock at `path` for `what` (named in the refusal), or refuse: a usage error
    /// (exit 2) when a live process, or one that may be live on another host, holds it.
    pub fn acquire(path: &Path, what: &str) -> Result<Self, RunError> {
        let me = Holder::current();
        let text = serde_json::to_string(&me).map_err(|e| RunError::io(path, e))?;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())
                        .and_then(|_| file.sync_all())
                        .map_err(|e| RunError::io(path, e))?;
                    return Ok(Self {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(path)
                        .ok()
                        .and_then(|t| serde_json::from_str::<Holder>(&t).ok());
                    match held {
                        Some(h) if !h.abandoned_for(&me) => {
                            return Err(RunError::Usage(format!(
                                "{what} is already running: {} is held by process {} on {}{} \
                                 (remove the file if that process is gone)",
                                path.display(),
                                h.pid,
                                h.host,
                                h.array_note()
                            )));
                        }
                        // Abandoned, or torn by a kill while being written: take it over.
                        _ => {
                            std::fs::remove_file(path).ok();
                        }
                    }
                }
                Err(e) => return Err(RunError::io(path, e)),
            }
        }
        Err(RunError::Usage(format!(
            "{what}: could not take the lock {} (another process keeps taking it)",
            path.display()
        )))
    }
}

impl Drop for TaskLock {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("runkit-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("cell.lock")
    }

    fn hold(path: &Path, holder: &Holder) {
        std::fs::write(path, serde_json::to_string(holder).unwrap()).unwrap();
    }

    #[test]
    fn a_second_acquire_is_refused_and_the_lock_goes_with_its_holder() {
        let path = temp("twice");
        let lock = TaskLock::acquire(&path, "task 3").unwrap();
        let err = TaskLock::acquire(&path, "task 3").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("task 3 is already running"),
            "{err}"
        );
        drop(lock);
        assert!(!path.exists());
        TaskLock::acquire(&path, "task 3").unwrap();
    }

    #[test]
    fn locks_of_dead_processes_and_of_this_slurm_task_are_taken_over_others_are_not() {
        let me = Holder::current();
        let path = temp("takeover");
        // The same host, a process that no longer exists (pids stay below 2^22 on Linux).
        hold(
            &path,
            &Holder {
                pid: u32::MAX - 1,
                ..me.clone()
            },
        );
        drop(TaskLock::acquire(&path, "t").unwrap());
        // Another host: cannot tell whether it lives, refused.
        let other = Holder {
            host: format!("{}-elsewhere", me.host),
            pid: 1,
            slurm_job: Some("99_1".into()),
            array_task: None,
        };
        hold(&path, &other);
        assert_eq!(TaskLock::acquire(&path, "t").unwrap_err().exit_code(), 2);
        // The same Slurm array task, requeued (on any host): its own old lock.
        let before = Holder {
            host: "node1".into(),
            pid: 7,
            slurm_job: Some("41_3".into()),
            array_task: None,
        };
        let requeued = Holder {
            host: "node2".into(),
            pid: 9,
            slurm_job: Some("41_3".into()),
            array_task: None,
        };
        let sibling = Holder {
            slurm_job: Some("41_4".into()),
            ..requeued.clone()
        };
        assert!(before.abandoned_for(&requeued));
        assert!(!before.abandoned_for(&sibling));
        // The same for a Kubernetes Indexed Job's pod replaced on another node.
        let pod = |host: &str, index| Holder {
            host: host.into(),
            pid: 1,
            slurm_job: None,
            array_task: Some(format!("kubernetes:uid-7/{index}")),
        };
        assert!(pod("node1", 3).abandoned_for(&pod("node2", 3)));
        assert!(!pod("node1", 3).abandoned_for(&pod("node2", 4)));
        let outside = Holder {
            array_task: None,
            ..pod("node2", 3)
        };
        assert!(!pod("node1", 3).abandoned_for(&outside));
        // A lock file from before `array_task` still reads.
        let old: Holder = serde_json::from_str(r#"{"host":"n","pid":3,"slurm_job":null}"#).unwrap();
        assert_eq!(old.array_task, None);
        // A torn lock file (killed while writing it) is abandoned.
        std::fs::write(&path, "{\"host\": \"x").unwrap();
        drop(TaskLock::acquire(&path, "t").unwrap());
    }
}
