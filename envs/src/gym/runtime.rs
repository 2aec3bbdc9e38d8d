//! Starting the embedded interpreter so it finds the same packages `pip` installed.
//!
//! We initialise CPython ourselves instead of using pyo3's `auto-initialize`, for two reasons:
//! * `program_name` is set to a real `python3` executable, because that is what CPython derives
//!   `sys.prefix` (and so `site-packages`) from. Left to itself, an embedded interpreter only
//!   knows its libpython's compiled-in prefix, which on a pyenv machine with a system Python of
//!   the same minor version is the system's, not pyenv's (see `build.rs`);
//! * a failed start becomes an [`EnvError`] instead of aborting the process, and Python does not
//!   install its SIGINT handler, so Ctrl-C still stops a Rust training run.

use std::ffi::CString;
use std::path::Path;
use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::EnvError;

/// `requirements.txt` pins, repeated here for error messages (a unit test keeps them in sync).
pub(crate) const PINNED_PACKAGES: &str = "\"gymnasium[mujoco]==1.4.0\" \"mujoco==4.0.0\"";

/// The interpreter whose prefix the embedded Python adopts, in order of preference:
/// `LRFREE_PYTHON`, the active virtualenv's `python`, then the `python3` lrfree-envs was built
/// against.
fn chosen_python() -> Option<String> {
    if let Some(p) = std::env::var_os("LRFREE_PYTHON").filter(|p| !p.is_empty()) {
        return Some(p.to_string_lossy().into_owned());
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let python = Path::new(&venv).join("bin").join("python");
        if python.exists() {
            return Some(python.to_string_lossy().into_owned());
        }
    }
    let built = env!("LRFREE_BUILD_PYTHON");
    (!built.is_empty() && Path::new(built).exists()).then(|| built.to_owned())
}

fn describe(python: &Option<String>) -> String {
    python
        .clone()
        .unwrap_or_else(|| "libpython's built-in prefix".to_owned())
}

/// Starts Python once per process; later calls return the first outcome.
fn ensure_started() -> Result<(), EnvError> {
    static STARTED: OnceLock<Result<(), (String, String)>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            let python = chosen_python();
            if let Some(p) = python.as_deref().filter(|p| !Path::new(p).exists()) {
                return Err((
                    p.to_owned(),
                    format!("no such file: {p} (from LRFREE_PYTHON); point it at a python3 with gymnasium installed, or unset it"),
                ));
            }
            start(python.as_deref())
                .and_then(|()| add_site_packages())
                .map_err(|detail| (describe(&python), detail))
        })
        .clone()
        .map_err(|(python, detail)| EnvError::PythonUnavailable { python, detail })
}

fn start(python: Option<&str>) -> Result<(), String> {
    // SAFETY: called once (OnceLock) before any other Python API use by this crate; if someone
    // else already started Python we leave it alone. The config is initialised by CPython before
    // use and cleared after.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return Ok(());
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        if let Some(python) = python {
            let name = CString::new(python)
                .map_err(|_| "interpreter path contains a NUL byte".to_owned())?;
            let status =
                ffi::PyConfig_SetBytesString(&mut config, &mut config.program_name, name.as_ptr());
            if ffi::PyStatus_Exception(status) != 0 {
                ffi::PyConfig_Clear(&mut config);
                return Err(status_message(status));
            }
        }
        let status = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            return Err(status_message(status));
        }
        // Release the GIL taken by initialisation, so every thread can attach per call.
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

/// Makes sure `<sys.prefix>/lib/pythonX.Y/site-packages` is on `sys.path`.
///
/// Needed when the dynamic loader picked another build's libpython (e.g. Debian's, in a binary
/// without our rpath): its frozen, distro-patched `site` module only knows `dist-packages`, so
/// pip's `site-packages` under the adopted prefix would be missing. `addsitedir` also runs the
/// directory's `.pth` files, as normal start-up does.
fn add_site_packages() -> Result<(), String> {
    const CODE: &std::ffi::CStr = c"
import os, site, sys
_lrfree_sp = os.path.join(sys.prefix, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages')
if os.path.isdir(_lrfree_sp) and _lrfree_sp not in sys.path:
    site.addsitedir(_lrfree_sp)
del _lrfree_sp
";
    Python::attach(|py| py.run(CODE, None, None))
        .map_err(|e| format!("could not extend sys.path: {e}"))
}

fn status_message(status: ffi::PyStatus) -> String {
    let text = |p: *const std::ffi::c_char| {
        // SAFETY: CPython sets these to static NUL-terminated strings or NULL.
        (!p.is_null()).then(|| {
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        })
    };
    match (text(status.func), text(status.err_msg)) {
        (Some(func), Some(msg)) => format!("{func}: {msg}"),
        (None, Some(msg)) => msg,
        _ => format!(
            "Python initialisation failed (exit code {})",
            status.exitcode
        ),
    }
}

/// Runs `f` attached to the interpreter (taking the GIL for this call only), starting Python on
/// first use.
pub(crate) fn with_python<R>(
    f: impl for<'py> FnOnce(Python<'py>) -> Result<R, EnvError>,
) -> Result<R, EnvError> {
    ensure_started()?;
    Python::attach(f)
}

/// The command that installs the bridge's Python dependencies into the embedded interpreter.
pub(crate) fn install_command(py: Python<'_>) -> String {
    let exe = py
        .import("sys")
        .and_then(|sys| sys.getattr("executable"))
        .and_then(|e| e.extract::<String>())
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "python3".to_owned());
    format!(
        "`{exe} -m pip install -r requirements.txt` (from the lrfree-rl checkout) or `{exe} -m pip install {PINNED_PACKAGES}`"
    )
}

/// `sys.executable`, for error messages.
pub(crate) fn executable(py: Python<'_>) -> String {
    py.import("sys")
        .and_then(|s| s.getattr("executable"))
        .map(|e| e.to_string())
        .unwrap_or_default()
}
