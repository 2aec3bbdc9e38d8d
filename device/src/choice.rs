//! Which device a run trains on (`device = "cpu" | "cuda" | "auto"`, `--device`), decided and
//! checked before the run directory is created, so a missing GPU is one line (exit 2), never a
//! panic at the first seed and a half-written run.
//!
//! What is decided here needs no Burn (the crate root maps it to a Burn device). With the
//! `cuda` feature, [`cuda_driver`] asks the CUDA driver (through `cudarc`, as burn-cuda does)
//! without panicking.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use lrfree_runkit::RunError;

/// A run's device: chosen (`auto` included) in a config or by `--device`; recorded as the one it
/// ran on (`cpu` or `cuda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The CPU (Burn's Flex backend).
    Cpu,
    /// CUDA device 0 (burn-cuda; needs a build with the `cuda` feature, a driver and a GPU).
    Cuda,
    /// CUDA if it is usable, else the CPU (saying so in one line).
    Auto,
}

impl DeviceChoice {
    /// The values of `device` / `--device`.
    pub const NAMES: [&str; 3] = ["cpu", "cuda", "auto"];

    /// The default: `cuda` in a build with the `cuda` feature (`cuda_built`), else `cpu`.
    pub fn build_default(cuda_built: bool) -> Self {
        if cuda_built { Self::Cuda } else { Self::Cpu }
    }

    /// As written in configs and records.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Auto => "auto",
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeviceChoice {
    type Err = RunError;

    /// `--device`'s value; anything else is one usage line.
    fn from_str(s: &str) -> Result<Self, RunError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            _ => Err(RunError::Usage(format!(
                "--device {s}: unknown device; devices: {}",
                Self::NAMES.join(", ")
            ))),
        }
    }
}

/// The device a run trains on, decided: `Cpu` or `Cuda`, and for `auto` falling back to the CPU
/// the line that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// `Cpu` or `Cuda`, never `Auto`.
    pub device: DeviceChoice,
    /// Why `auto` chose the CPU (to print), `None` otherwise.
    pub fallback: Option<String>,
}

/// Decide the device of `choice` in a build with (`cuda_built`) or without the `cuda` feature.
/// `probe_cuda` checks that CUDA is usable (driver, a GPU, a first operation) and says why not;
/// it is called only for `cuda` and `auto` in a CUDA build. `cuda` that cannot run is a usage
/// error (exit 2); `auto` then gives the CPU with the reason.
pub fn select(
    choice: DeviceChoice,
    cuda_built: bool,
    probe_cuda: impl FnOnce() -> Result<(), String>,
) -> Result<Selected, RunError> {
    let cpu = |fallback| Selected {
        device: DeviceChoice::Cpu,
        fallback,
    };
    match (choice, cuda_built) {
        (DeviceChoice::Cpu, _) => Ok(cpu(None)),
        (DeviceChoice::Cuda, false) => Err(RunError::Usage(NOT_BUILT.into())),
        (DeviceChoice::Auto, false) => Ok(cpu(Some(
            "device auto: built without the `cuda` feature; training on the CPU".into(),
        ))),
        (_, true) => match probe_cuda() {
            Ok(()) => Ok(Selected {
                device: DeviceChoice::Cuda,
                fallback: None,
            }),
            Err(why) if choice == DeviceChoice::Auto => Ok(cpu(Some(format!(
                "device auto: CUDA is not usable ({why}); training on the CPU"
            )))),
            Err(why) => Err(RunError::Usage(format!(
                "device cuda: {why} (--device cpu trains on the CPU, --device auto falls back to it)"
            ))),
        },
    }
}

/// Why `cuda` is refused by a build without the feature.
const NOT_BUILT: &str = "device cuda: this binary was built without the `cuda` feature \
     (cargo build --release --features cuda; README \"GPU\"); --device cpu trains on the CPU";

/// Whether the CUDA driver is there and sees a GPU, asked without panicking: the driver library
/// (`libcuda.so`) loads, `cuInit` succeeds, and it counts at least one device. (Only the first
/// answer counts: cudarc keeps the library it loaded for the process.)
#[cfg(feature = "cuda")]
pub fn cuda_driver() -> Result<(), String> {
    use cudarc::driver::{result, sys};
    // SAFETY: only tries to open the library (libloading), calling nothing in it.
    if !unsafe { sys::is_culib_present() } {
        return Err("no CUDA driver: libcuda.so could not be loaded".into());
    }
    // cudarc panics when the library lacks a function it calls (a stub or foreign libcuda.so).
    catch_panic(|| {
        result::init().map_err(|e| format!("the CUDA driver did not initialise: {e:?}"))?;
        match result::device::get_count() {
            Ok(0) => Err("the CUDA driver sees no GPU".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("the CUDA driver cannot count its GPUs: {e:?}")),
        }
    })
    .unwrap_or_else(|why| Err(format!("the CUDA driver library is unusable: {why}")))
}

/// Run `f`, turning a panic into a message on one line, printed by nobody (the panic hook is
/// silenced meanwhile). For a device's first use, whose backends panic on what they cannot do.
/// The message is the first panic's, on any thread: a backend's worker thread may panic with the
/// cause while `f` only sees the channel to it closed. The hook is process-wide: call this
/// before other threads of the program run.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let hook = std::panic::take_hook();
    let seen = Arc::clone(&first);
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut seen) = seen.lock()
            && seen.is_none()
        {
            *seen = Some(panic_message(info.payload()));
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|payload| {
        let first = first.lock().ok().and_then(|mut m| m.take());
        lrfree_runkit::config::one_line(&first.unwrap_or_else(|| panic_message(&*payload)))
    })
}

/// A panic's message (`panic!`'s text), or "panicked" for another payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_probe() -> Result<(), String> {
        panic!("the probe must not run")
    }

    #[test]
    fn names_parse_and_unknown_ones_are_one_usage_line() {
        for name in DeviceChoice::NAMES {
            assert_eq!(name.parse::<DeviceChoice>().unwrap().name(), name);
        }
        assert_eq!(" CUDA".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda);
        let e = "gpu".parse::<DeviceChoice>().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "--device gpu: unknown device; devices: cpu, cuda, auto"
        );
        assert_eq!(DeviceChoice::build_default(false), DeviceChoice::Cpu);
        assert_eq!(DeviceChoice::build_default(true), DeviceChoice::Cuda);
    }

    #[test]
    fn a_config_names_the_device_in_lowercase() {
        #[derive(Debug, Deserialize, Serialize)]
        struct C {
            device: DeviceChoice,
        }
        let c: C = toml::from_str("device = \"auto\"").unwrap();
        assert_eq!(c.device, DeviceChoice::Auto);
        assert_eq!(
            toml::to_string(&C {
                device: DeviceChoice::Cuda
            })
            .unwrap()
            .trim(),
            "device = \"cuda\""
        );
        let e = lrfree_runkit::config::parse_toml::<C>("device = \"gpu\"", "c.toml").unwrap_err();
        assert!(e.to_string().contains("cpu"), "{e}");
    }

    #[test]
    fn cpu_never_probes_and_cuda_without_the_feature_is_refused() {
        let cpu = Selected {
            device: DeviceChoice::Cpu,
            fallback: None,
        };
        assert_eq!(select(DeviceChoice::Cpu, false, no_probe).unwrap(), cpu);
        assert_eq!(select(DeviceChoice::Cpu, true, no_probe).unwrap(), cpu);
        let e = select(DeviceChoice::Cuda, false, no_probe).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--features cuda"), "{e}");
        let auto = select(DeviceChoice::Auto, false, no_probe).unwrap();
        assert_eq!(auto.device, DeviceChoice::Cpu);
        assert!(
            auto.fallback
                .unwrap()
                .contains("without the `cuda` feature")
        );
    }

    #[test]
    fn cuda_that_cannot_run_is_refused_and_auto_falls_back_saying_why() {
        let broken = || Err("no CUDA driver: libcuda.so could not be loaded".to_string());
        let e = select(DeviceChoice::Cuda, true, broken).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("device cuda: no CUDA driver"),
            "{e}"
        );
        assert!(!e.to_string().contains('\n'));
        let auto = select(DeviceChoice::Auto, true, broken).unwrap();
        assert_eq!(auto.device, DeviceChoice::Cpu);
        assert!(auto.fallback.unwrap().contains("libcuda.so"));
        for choice in [DeviceChoice::Cuda, DeviceChoice::Auto] {
            assert_eq!(
                select(choice, true, || Ok(())).unwrap(),
                Selected {
                    device: DeviceChoice::Cuda,
                    fallback: None
                }
            );
        }
    }

    #[test]
    fn a_panic_becomes_its_message_on_one_line() {
        assert_eq!(catch_panic(|| 3), Ok(3));
        let e = catch_panic::<()>(|| panic!("cannot\nload {}", "libcuda")).unwrap_err();
        assert_eq!(e, "cannot load libcuda");
        let e = catch_panic::<()>(|| std::panic::panic_any(7)).unwrap_err();
        assert_eq!(e, "panicked");
        // A worker's panic is the cause; the caller's own is what the worker's death did to it.
        let e = catch_panic::<()>(|| {
            let worker = std::thread::spawn(|| panic!("Missing symbol cuDeviceGet"));
            worker.join().expect("RecvError");
        })
        .unwrap_err();
        assert_eq!(e, "Missing symbol cuDeviceGet");
    }
}
