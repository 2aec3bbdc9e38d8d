//! lrfree-rl: the `rl-train` runner and its records (filled by the SAC/runner issue).
