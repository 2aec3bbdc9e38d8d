//! `rl-report RUN_DIR...`: the Table-3 style comparison (see `lrfree_plots::cli`).
fn main() -> std::process::ExitCode {
    lrfree_plots::cli::report_main()
}
