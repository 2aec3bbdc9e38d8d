//! Soft Actor-Critic agents for the lrfree-rl toolkit. Empty until the SAC issue lands.
