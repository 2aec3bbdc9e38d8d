//! Build script: only does something with the `gym` feature.
//!
//! pyo3 links against the `libpython` of the interpreter it finds at build time (`PYO3_PYTHON`,
//! else `python3` on `PATH`), but it does not tell the dynamic loader where that library lives.
//! On a machine with pyenv *and* a system Python of the same minor version, the loader then
//! picks the system `libpython`, whose compiled-in prefix hides pyenv's `site-packages`
//! (gymnasium "not installed" although `pip` installed it). So we:
//! * record the interpreter's path, so the bridge can initialise Python with it as
//!   `program_name` (that is how CPython finds its prefix and `site-packages`);
//! * add an rpath to that `libpython` directory for this package's own tests and examples;
//! * export the directory as `DEP_LRFREE_PYTHON_LIBDIR` so dependents' build scripts can do
//!   the same for their binaries (cargo does not propagate rpaths).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(feature = "gym")]
    gym();
}

#[cfg(feature = "gym")]
fn gym() {
    let config = pyo3_build_config::get();
    let executable = config.executable().map(str::to_owned).unwrap_or_default();
    println!("cargo::rustc-env=LRFREE_BUILD_PYTHON={executable}");
    if let Some(lib_dir) = config.lib_dir() {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{lib_dir}");
        println!("cargo::metadata=libdir={lib_dir}");
    }
}
