//! The cxx bridge: the functions the C++ shim calls. Each one checks slice
//! lengths, runs the kernel under `catch_unwind`, and reports any failure as
//! an `Err` (a `rust::Error` exception on the C++ side, which the shim turns
//! into an `ffi::Error`). No panic crosses the FFI boundary.

use std::panic::{catch_unwind, AssertUnwindSafe};

use half::slice::HalfBitsSliceExt;

use crate::kernels::{self, GradKernel};
use crate::registry;

#[cxx::bridge(namespace = "spikegrad")]
mod ffi {
    extern "Rust" {
        /// A surrogate's fused `t * g'(x)` kernel with validated parameters.
        type FusedGrad;

        fn new_fused_grad(surrogate: &str, params: &[f64]) -> Result<Box<FusedGrad>>;

        fn grad_f32(k: &FusedGrad, x: &[f32], t: &[f32], out: &mut [f32]) -> Result<()>;
        fn grad_f64(k: &FusedGrad, x: &[f64], t: &[f64], out: &mut [f64]) -> Result<()>;
        fn grad_f16(k: &FusedGrad, x: &[u16], t: &[u16], out: &mut [u16]) -> Result<()>;
        fn grad_bf16(k: &FusedGrad, x: &[u16], t: &[u16], out: &mut [u16]) -> Result<()>;

        fn heaviside_f32(x: &[f32], out: &mut [f32]) -> Result<()>;
        fn heaviside_f64(x: &[f64], out: &mut [f64]) -> Result<()>;
        fn heaviside_f16(x: &[u16], out: &mut [u16]) -> Result<()>;
        fn heaviside_bf16(x: &[u16], out: &mut [u16]) -> Result<()>;
    }
}

pub(crate) struct FusedGrad(Box<dyn GradKernel>);

/// Run `f` with panics caught and turned into an error message.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(format!("spikegrad: panic in {what}: {msg}"))
        }
    }
}

fn same_len(what: &str, lens: &[usize]) -> Result<(), String> {
    if lens.windows(2).all(|w| w[0] == w[1]) {
        Ok(())
    } else {
        Err(format!(
            "spikegrad: {what}: operand lengths differ: {lens:?}"
        ))
    }
}

fn new_fused_grad(surrogate: &str, params: &[f64]) -> Result<Box<FusedGrad>, String> {
    guarded("new_fused_grad", || {
        registry::grad_kernel(surrogate, params).map(|k| Box::new(FusedGrad(k)))
    })
}

/// Check that the operands have one length, then run one kernel call under `guarded`.
fn checked(what: &str, lens: &[usize], run: impl FnOnce()) -> Result<(), String> {
    guarded(what, || {
        same_len(what, lens)?;
        run();
        Ok(())
    })
}

fn grad_f32(k: &FusedGrad, x: &[f32], t: &[f32], out: &mut [f32]) -> Result<(), String> {
    checked("grad_f32", &[x.len(), t.len(), out.len()], || {
        k.0.f32(x, t, out)
    })
}

fn grad_f64(k: &FusedGrad, x: &[f64], t: &[f64], out: &mut [f64]) -> Result<(), String> {
    checked("grad_f64", &[x.len(), t.len(), out.len()], || {
        k.0.f64(x, t, out)
    })
}

// Halves cross the bridge as u16 bits and are reinterpreted (same size and alignment).
fn grad_f16(k: &FusedGrad, x: &[u16], t: &[u16], out: &mut [u16]) -> Result<(), String> {
    checked("grad_f16", &[x.len(), t.len(), out.len()], || {
        k.0.f16(
            x.reinterpret_cast(),
            t.reinterpret_cast(),
            out.reinterpret_cast_mut(),
        )
    })
}

fn grad_bf16(k: &FusedGrad, x: &[u16], t: &[u16], out: &mut [u16]) -> Result<(), String> {
    checked("grad_bf16", &[x.len(), t.len(), out.len()], || {
        k.0.bf16(
            x.reinterpret_cast(),
            t.reinterpret_cast(),
            out.reinterpret_cast_mut(),
        )
    })
}

fn heaviside_f32(x: &[f32], out: &mut [f32]) -> Result<(), String> {
    checked("heaviside_f32", &[x.len(), out.len()], || {
        kernels::heaviside_f32(x, out)
    })
}

fn heaviside_f64(x: &[f64], out: &mut [f64]) -> Result<(), String> {
    checked("heaviside_f64", &[x.len(), out.len()], || {
        kernels::heaviside_f64(x, out)
    })
}

fn heaviside_f16(x: &[u16], out: &mut [u16]) -> Result<(), String> {
    checked("heaviside_f16", &[x.len(), out.len()], || {
        kernels::heaviside_f16(x, out)
    })
}

fn heaviside_bf16(x: &[u16], out: &mut [u16]) -> Result<(), String> {
    checked("heaviside_bf16", &[x.len(), out.len()], || {
        kernels::heaviside_bf16(x, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_reported_not_panicked() {
        assert!(new_fused_grad("nope", &[]).is_err());
        let err = new_fused_grad("multi_gaussian", &[0.15, 6.0, 0.0, 0.5])
            .err()
            .unwrap();
        assert!(err.contains("sigma"), "{err}");
        let k = new_fused_grad("multi_gaussian", &[0.15, 6.0, 0.5, 0.5]).unwrap();
        let mut out = [0f32; 2];
        let err = grad_f32(&k, &[1.0, 2.0, 3.0], &[1.0, 1.0], &mut out).unwrap_err();
        assert!(err.contains("lengths differ"), "{err}");
        assert!(heaviside_f64(&[1.0], &mut []).is_err());
    }

    #[test]
    fn panics_become_errors() {
        let err = guarded::<()>("test", || panic!("boom")).unwrap_err();
        assert!(err.contains("boom"), "{err}");
    }
}
