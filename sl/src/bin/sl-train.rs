//! `sl-train`: see `lrfree_sl::cli`.
/// mimalloc, as `rl-train`: keeps freed pages for Burn's per-op buffers (see the root Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lrfree_sl::cli::main()
}
