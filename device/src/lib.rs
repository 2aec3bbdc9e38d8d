//! # lrfree-device: the Burn device a run trains on
//!
//! The device's one home: `device` / `--device` of `rl-train` and `sl-train` is decided by
//! [`choice::select`] (CUDA checked before anything is written), then opened here as the CPU's
//! flex device or CUDA device 0, constructed explicitly (never `Device::default()`, which
//! picks CUDA in a `cuda` build whatever was asked).

pub mod choice;

use burn::tensor::Device;
pub use choice::{DeviceChoice, Selected, select};
use lrfree_runkit::RunError;

/// The default of `device`: `cuda` in a build with the `cuda` feature, else `cpu`.
pub fn default_device() -> DeviceChoice {
    DeviceChoice::build_default(cfg!(feature = "cuda"))
}

/// Decide `choice` (printing `auto`'s fallback line, prefixed by `program`): the device to
/// record (`cpu` or `cuda`) and its Burn device, without autodiff. A `cuda` that cannot run is
/// a usage error.
pub fn open(choice: DeviceChoice, program: &str) -> Result<(DeviceChoice, Device), RunError> {
    let selected = select(choice, cfg!(feature = "cuda"), probe_cuda)?;
    if let Some(line) = &selected.fallback {
        eprintln!("{program}: {line}");
    }
    Ok((selected.device, burn_device(selected.device)))
}

/// The Burn device of a decided device (`select` gives `cuda` only in a `cuda` build).
fn burn_device(device: DeviceChoice) -> Device {
    match device {
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => Device::cuda(0),
        _ => Device::flex(),
    }
}

/// CUDA is usable: the driver sees a GPU, and a first operation on it runs (it compiles a
/// kernel, so a missing CUDA toolkit shows here), its panic caught.
#[cfg(feature = "cuda")]
fn probe_cuda() -> Result<(), String> {
    choice::cuda_driver()?;
    let sum = choice::catch_panic(|| {
        burn::tensor::Tensor::<1>::ones([8], &Device::cuda(0))
            .sum()
            .into_scalar::<f32>()
    })
    .map_err(|why| format!("the first operation on the GPU failed: {why}"))?;
    if sum == 8.0 {
        Ok(())
    } else {
        Err(format!("the GPU summed eight ones to {sum}"))
    }
}

#[cfg(not(feature = "cuda"))]
fn probe_cuda() -> Result<(), String> {
    Err("built without the `cuda` feature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_flex_device_in_every_build() {
        let (device, burn) = open(DeviceChoice::Cpu, "test").unwrap();
        assert_eq!(device, DeviceChoice::Cpu);
        assert_eq!(burn, Device::flex());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_feature_cuda_is_refused_and_auto_is_the_cpu() {
        assert_eq!(default_device(), DeviceChoice::Cpu);
        assert_eq!(open(DeviceChoice::Cuda, "test").unwrap_err().exit_code(), 2);
        assert_eq!(
            open(DeviceChoice::Auto, "test").unwrap().0,
            DeviceChoice::Cpu
        );
    }
}
