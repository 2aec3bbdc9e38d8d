//! `rl-train`: see `lrfree_rl::cli`.
fn main() -> std::process::ExitCode {
    lrfree_rl::cli::main()
}
