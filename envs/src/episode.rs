//! Episode bookkeeping shared by all environments: the reset/step protocol and time limits.

use crate::EnvError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Running,
    Ended,
    Closed,
}

/// Tracks where an environment is in its episode, so protocol errors are caught uniformly.
#[derive(Clone, Debug)]
pub(crate) struct Episode {
    phase: Phase,
    steps: usize,
    max_steps: Option<usize>,
}

impl Episode {
    pub(crate) fn new(max_steps: Option<usize>) -> Self {
        Self {
            phase: Phase::NotStarted,
            steps: 0,
            max_steps,
        }
    }

    pub(crate) fn max_steps(&self) -> Option<usize> {
        self.max_steps
    }

    /// Fails if the environment is closed; otherwise starts a new episode.
    pub(crate) fn begin(&mut self, env: &str) -> Result<(), EnvError> {
        if self.phase == Phase::Closed {
            return Err(EnvError::Closed {
                env: env.to_owned(),
            });
        }
        self.phase = Phase::Running;
        self.steps = 0;
        Ok(())
    }

    /// Fails unless an episode is running.
    pub(crate) fn check_step(&self, env: &str) -> Result<(), EnvError> {
        let when = match self.phase {
            Phase::Running => return Ok(()),
            Phase::NotStarted => "before the first reset()",
            Phase::Ended => "after the episode ended (terminated or truncated)",
            Phase::Closed => {
                return Err(EnvError::Closed {
                    env: env.to_owned(),
                });
            }
        };
        Err(EnvError::NeedsReset {
            env: env.to_owned(),
            when,
        })
    }

    /// Counts a step; returns whether the time limit truncates the episode here.
    pub(crate) fn count_step(&mut self) -> bool {
        self.steps += 1;
        self.max_steps.is_some_and(|m| self.steps >= m)
    }

    /// Records the end of the step; `done` ends the episode.
    pub(crate) fn finish_step(&mut self, done: bool) {
        if done {
            self.phase = Phase::Ended;
        }
    }

    pub(crate) fn close(&mut self) {
        self.phase = Phase::Closed;
    }

    #[cfg_attr(not(feature = "gym"), allow(dead_code))]
    pub(crate) fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }
}
