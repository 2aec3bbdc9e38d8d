//! Which task of a job array this process is, read from the engine that started it: this
//! toolkit's own variable, a Kubernetes Indexed Job, or a Slurm job array (`--task auto`).
//!
//! | engine | index | the array's identity (same across a task's retries) |
//! |---|---|---|
//! | any (a shell loop, another scheduler) | `LRFREE_TASK_ID` | `LRFREE_JOB_ID`, if set |
//! | Kubernetes Indexed Job | `JOB_COMPLETION_INDEX` | `LRFREE_JOB_ID` (the manifest passes the Job's uid), else the pod's host name, `<job>-<index>` in an Indexed Job |
//! | Slurm job array | `SLURM_ARRAY_TASK_ID` | `SLURM_ARRAY_JOB_ID` |
//!
//! The identity is what lets a restarted task take over the cell lock its killed attempt
//! left ([`crate::lock`]): a retry of the same array task on another node is the only one
//! that may.

use std::fmt;

/// The engine-neutral index variable.
pub const TASK_ID: &str = "LRFREE_TASK_ID";
/// The engine-neutral identity of the array (optional).
pub const JOB_ID: &str = "LRFREE_JOB_ID";
/// Kubernetes' index of a pod in an Indexed Job.
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// Slurm's index of a task in a job array.
pub const SLURM_INDEX: &str = "SLURM_ARRAY_TASK_ID";

/// What started this task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `LRFREE_TASK_ID`.
    Neutral,
    /// A Kubernetes Indexed Job.
    Kubernetes,
    /// A Slurm job array.
    Slurm,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Neutral => "lrfree",
            Engine::Kubernetes => "kubernetes",
            Engine::Slurm => "slurm",
        })
    }
}

/// One task of a job array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayTask {
    /// The engine whose variable gave the index.
    pub engine: Engine,
    /// The index (`--task K`).
    pub index: usize,
}

/// The index variables, in the order they are read.
const INDEX_VARS: [(&str, Engine); 3] = [
    (TASK_ID, Engine::Neutral),
    (K8S_INDEX, Engine::Kubernetes),
    (SLURM_INDEX, Engine::Slurm),
];

/// This process's array task from its environment; `Ok(None)` outside any job array, an
/// error naming the variable when one is not an index or two disagree.
pub fn from_env() -> Result<Option<ArrayTask>, String> {
    from_vars(|name| std::env::var(name).ok())
}

/// [`from_env`] over any variable lookup (tests give their own).
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<ArrayTask>, String> {
    let mut found: Option<(ArrayTask, &str)> = None;
    for (name, engine) in INDEX_VARS {
        let Some(value) = var(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let index = value
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("{name}={value:?} is not a task index (a whole number from 0)"))?;
        match &found {
            None => found = Some((ArrayTask { engine, index }, name)),
            Some((first, first_name)) if first.index != index => {
                return Err(format!(
                    "{first_name}={} and {name}={index} name different tasks: unset one",
                    first.index
                ));
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(task, _)| task))
}

/// The identity of this process's array task, the same for every retry of it and different
/// for every other task: `kubernetes:<job>/<index>` or `lrfree:<job>/<index>`; `None`
/// outside an array, under Slurm (whose `SLURM_ARRAY_JOB_ID` the lock records on its own), or
/// for `LRFREE_TASK_ID` without `LRFREE_JOB_ID`.
pub fn retry_identity(host: &str) -> Option<String> {
    retry_identity_from(host, |name| std::env::var(name).ok())
}

/// [`retry_identity`] over any variable lookup.
pub fn retry_identity_from(host: &str, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let task = from_vars(&var).ok().flatten()?;
    let job = var(JOB_ID).filter(|v| !v.trim().is_empty());
    let job = match task.engine {
        Engine::Slurm => return None,
        Engine::Neutral => job?,
        // An Indexed Job's pods are named `<job>-<index>`, retries too.
        Engine::Kubernetes => job.unwrap_or_else(|| host.to_string()),
    };
    Some(format!("{}:{}/{}", task.engine, job.trim(), task.index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn each_engine_gives_its_index_and_disagreement_is_an_error() {
        assert_eq!(from_vars(vars(&[])), Ok(None));
        let task = |pairs: &[(&str, &str)]| from_vars(vars(pairs)).unwrap().unwrap();
        assert_eq!(
            task(&[(K8S_INDEX, "3")]),
            ArrayTask {
                engine: Engine::Kubernetes,
                index: 3
            }
        );
        assert_eq!(task(&[(SLURM_INDEX, "7")]).engine, Engine::Slurm);
        assert_eq!(task(&[(TASK_ID, " 2 ")]).index, 2);
        // Two variables that agree: the neutral one names the engine.
        assert_eq!(
            task(&[(TASK_ID, "4"), (SLURM_INDEX, "4")]).engine,
            Engine::Neutral
        );
        let err = from_vars(vars(&[(TASK_ID, "1"), (K8S_INDEX, "2")])).unwrap_err();
        assert!(
            err.contains("LRFREE_TASK_ID=1 and JOB_COMPLETION_INDEX=2"),
            "{err}"
        );
        let err = from_vars(vars(&[(K8S_INDEX, "-1")])).unwrap_err();
        assert!(
            err.contains("JOB_COMPLETION_INDEX=\"-1\" is not a task index"),
            "{err}"
        );
        // An empty variable is no variable.
        assert_eq!(from_vars(vars(&[(TASK_ID, "")])), Ok(None));
    }

    #[test]
    fn a_retry_keeps_its_identity_and_another_task_has_another() {
        let id = |host, pairs: &[(&str, &str)]| retry_identity_from(host, vars(pairs));
        let uid = "0f5d-uid";
        let pod = |index| [(K8S_INDEX, index), (JOB_ID, uid)];
        assert_eq!(
            id("suite-3-abcde", &pod("3")),
            Some(format!("kubernetes:{uid}/3"))
        );
        // A retry runs on another node, in a pod with a new name: the same identity.
        assert_eq!(id("node-b", &pod("3")), id("node-a", &pod("3")));
        assert_ne!(id("node-a", &pod("3")), id("node-a", &pod("4")));
        // Without the Job's uid, the Indexed Job's stable pod host name stands in.
        assert_eq!(
            id("suite-3", &[(K8S_INDEX, "3")]),
            Some("kubernetes:suite-3/3".into())
        );
        assert_eq!(
            id("h", &[(TASK_ID, "1"), (JOB_ID, "sweep-9")]),
            Some("lrfree:sweep-9/1".into())
        );
        // No array identity: the neutral index alone, Slurm (recorded apart), no array.
        assert_eq!(id("h", &[(TASK_ID, "1")]), None);
        assert_eq!(id("h", &[(SLURM_INDEX, "1")]), None);
        assert_eq!(id("h", &[]), None);
    }
}
