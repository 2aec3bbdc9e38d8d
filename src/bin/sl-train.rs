//! `sl-train`: see `lrfree_rl::sl::cli`.
fn main() -> std::process::ExitCode {
    lrfree_rl::sl::cli::main()
}
