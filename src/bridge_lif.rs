//! The cxx bridge of the fused neuron kernels (cpp_shim/lif_handlers.cc).
//!
//! The shim splits a population into disjoint neuron column ranges run on
//! different threads, so buffers cross as raw pointers with their `[steps, n]`
//! shape and each call's `begin..end` columns; every function checks the
//! range, runs the kernel under `catch_unwind` and reports failure as `Err`.

// The cxx declarations and entries take a kernel, a shape, a column range
// and every buffer of a pass.
#![allow(clippy::too_many_arguments)]

use std::ops::Range;

use crate::bridge::guarded;
use crate::neurons::lif::LifKernel;
use crate::neurons::{Grid, GridMut};
use crate::registry::lif_kernel;

#[cxx::bridge(namespace = "spikegrad")]
mod ffi {
    extern "Rust" {
        /// A LIF kernel with a validated surrogate and validated constants.
        type LifFused;

        fn new_lif(
            surrogate: &str,
            params: &[f64],
            lif: &[f64],
            hard_reset: bool,
        ) -> Result<Box<LifFused>>;

        unsafe fn lif_forward_f32(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            x: *const f32,
            v0: *const f32,
            spikes: *mut f32,
            v: *mut f32,
        ) -> Result<()>;
        unsafe fn lif_forward_f64(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            x: *const f64,
            v0: *const f64,
            spikes: *mut f64,
            v: *mut f64,
        ) -> Result<()>;
        unsafe fn lif_tangent_f32(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const f32,
            v0: *const f32,
            dx: *const f32,
            dv0: *const f32,
            dspikes: *mut f32,
            dv: *mut f32,
        ) -> Result<()>;
        unsafe fn lif_tangent_f64(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const f64,
            v0: *const f64,
            dx: *const f64,
            dv0: *const f64,
            dspikes: *mut f64,
            dv: *mut f64,
        ) -> Result<()>;
        unsafe fn lif_bptt_f32(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const f32,
            v0: *const f32,
            ct_spikes: *const f32,
            ct_v: *const f32,
            ct_x: *mut f32,
            ct_v0: *mut f32,
        ) -> Result<()>;
        unsafe fn lif_bptt_f64(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const f64,
            v0: *const f64,
            ct_spikes: *const f64,
            ct_v: *const f64,
            ct_x: *mut f64,
            ct_v0: *mut f64,
        ) -> Result<()>;
    }
}

pub struct LifFused(Box<dyn LifKernel>);

fn new_lif(
    surrogate: &str,
    params: &[f64],
    lif: &[f64],
    hard_reset: bool,
) -> Result<Box<LifFused>, String> {
    guarded("new_lif", || {
        lif_kernel(surrogate, params, lif, hard_reset).map(|k| Box::new(LifFused(k)))
    })
}

fn columns(what: &str, n: usize, begin: usize, end: usize) -> Result<Range<usize>, String> {
    if begin <= end && end <= n {
        Ok(begin..end)
    } else {
        Err(format!(
            "spikegrad: {what}: columns {begin}..{end} outside 0..{n}"
        ))
    }
}

fn nonnull<T>(what: &str, ptrs: &[*const T]) -> Result<(), String> {
    if ptrs.iter().any(|p| p.is_null()) {
        Err(format!("spikegrad: {what}: null buffer"))
    } else {
        Ok(())
    }
}

macro_rules! entries {
    ($fwd:ident, $tan:ident, $bwd:ident, $kfwd:ident, $ktan:ident, $kbwd:ident, $r:ty) => {
        /// # Safety
        /// Buffers hold `steps * n` (`v0`: `n`) elements; no concurrent call
        /// writes the same columns. `v` may be null: the potentials are not kept.
        #[allow(clippy::too_many_arguments)]
        unsafe fn $fwd(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            x: *const $r,
            v0: *const $r,
            spikes: *mut $r,
            v: *mut $r,
        ) -> Result<(), String> {
            guarded(stringify!($fwd), || {
                let cols = columns(stringify!($fwd), n, begin, end)?;
                nonnull(stringify!($fwd), &[x, v0, spikes as *const $r])?;
                k.0.$kfwd(
                    cols,
                    Grid::new(x, steps, n),
                    Grid::new(v0, 1, n),
                    GridMut::new(spikes, steps, n),
                    (!v.is_null()).then(|| GridMut::new(v, steps, n)),
                );
                Ok(())
            })
        }

        /// # Safety
        /// As for the forward pass.
        #[allow(clippy::too_many_arguments)]
        unsafe fn $tan(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const $r,
            v0: *const $r,
            dx: *const $r,
            dv0: *const $r,
            dspikes: *mut $r,
            dv: *mut $r,
        ) -> Result<(), String> {
            guarded(stringify!($tan), || {
                let cols = columns(stringify!($tan), n, begin, end)?;
                nonnull(
                    stringify!($tan),
                    &[v, v0, dx, dv0, dspikes as *const $r, dv as *const $r],
                )?;
                k.0.$ktan(
                    cols,
                    Grid::new(v, steps, n),
                    Grid::new(v0, 1, n),
                    Grid::new(dx, steps, n),
                    Grid::new(dv0, 1, n),
                    GridMut::new(dspikes, steps, n),
                    GridMut::new(dv, steps, n),
                );
                Ok(())
            })
        }

        /// # Safety
        /// As for the forward pass; `ct_v` may be null (a zero cotangent).
        #[allow(clippy::too_many_arguments)]
        unsafe fn $bwd(
            k: &LifFused,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            v: *const $r,
            v0: *const $r,
            ct_spikes: *const $r,
            ct_v: *const $r,
            ct_x: *mut $r,
            ct_v0: *mut $r,
        ) -> Result<(), String> {
            guarded(stringify!($bwd), || {
                let cols = columns(stringify!($bwd), n, begin, end)?;
                nonnull(
                    stringify!($bwd),
                    &[v, v0, ct_spikes, ct_x as *const $r, ct_v0 as *const $r],
                )?;
                let ct_v = (!ct_v.is_null()).then(|| Grid::new(ct_v, steps, n));
                k.0.$kbwd(
                    cols,
                    Grid::new(v, steps, n),
                    Grid::new(v0, 1, n),
                    Grid::new(ct_spikes, steps, n),
                    ct_v,
                    GridMut::new(ct_x, steps, n),
                    GridMut::new(ct_v0, 1, n),
                );
                Ok(())
            })
        }
    };
}

entries!(
    lif_forward_f32,
    lif_tangent_f32,
    lif_bptt_f32,
    forward_f32,
    tangent_f32,
    bptt_f32,
    f32
);
entries!(
    lif_forward_f64,
    lif_tangent_f64,
    lif_bptt_f64,
    forward_f64,
    tangent_f64,
    bptt_f64,
    f64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_reported_not_panicked() {
        assert!(new_lif("relu_grad", &[0.3, 1.0], &[0.9, 0.0, 0.1, 1.0, 1.0], false).is_err());
        let k = new_lif("relu_grad", &[0.3, 1.0], &[0.9, 0.0, 0.1, 1.0, 0.0], false).unwrap();
        let x = [0f32; 4];
        let mut s = [0f32; 4];
        let mut v = [0f32; 4];
        let err = unsafe {
            lif_forward_f32(
                &k,
                2,
                2,
                1,
                3,
                x.as_ptr(),
                x.as_ptr(),
                s.as_mut_ptr(),
                v.as_mut_ptr(),
            )
        }
        .unwrap_err();
        assert!(err.contains("outside"), "{err}");
        let err = unsafe {
            lif_forward_f32(
                &k,
                2,
                2,
                0,
                2,
                std::ptr::null(),
                x.as_ptr(),
                s.as_mut_ptr(),
                v.as_mut_ptr(),
            )
        }
        .unwrap_err();
        assert!(err.contains("null"), "{err}");
    }
}
