//! `rl-train`: see `lrfree_rl::cli`.
/// mimalloc keeps freed pages for reuse (see the root Cargo.toml); measured in bench/README.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lrfree_rl::cli::main()
}
