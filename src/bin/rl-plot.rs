//! `rl-plot RUN_DIR...`: reward and learning-rate figures (see `lrfree_plots::cli`).
fn main() -> std::process::ExitCode {
    lrfree_plots::cli::plot_main()
}
