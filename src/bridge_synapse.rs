//! The cxx bridge of the event-driven synapse kernels
//! (cpp_shim/synapse_handlers.cc, src/synapse/).
//!
//! The shim splits the forward product over disjoint blocks of batch rows and
//! the weight gradient over disjoint blocks of weight rows, so each call gets
//! the slices of its own block plus the whole operands it reads. Every entry
//! checks the lengths against the shape, runs under `catch_unwind` and
//! reports failure as `Err`. Halves cross as `u16` bits.

use half::slice::HalfBitsSliceExt;

use crate::bridge::guarded;
use crate::synapse;

#[cxx::bridge(namespace = "spikegrad")]
mod ffi {
    extern "Rust" {
        /// `out = s @ w` for `rows` batch rows: `s: [rows, n_in]`,
        /// `w: [n_in, n_out]`, `out: [rows, n_out]`; `dtype`: 0 f32, 1 f64
        /// (the `*_f32`/`*_f64` entries), 2 f16, 3 bf16 (the `*_half` entry).
        fn spike_matmul_f32(
            s: &[f32],
            w: &[f32],
            out: &mut [f32],
            rows: usize,
            n_in: usize,
            n_out: usize,
        ) -> Result<()>;
        fn spike_matmul_f64(
            s: &[f64],
            w: &[f64],
            out: &mut [f64],
            rows: usize,
            n_in: usize,
            n_out: usize,
        ) -> Result<()>;
        fn spike_matmul_half(
            dtype: u8,
            s: &[u16],
            w: &[u16],
            out: &mut [u16],
            rows: usize,
            n_in: usize,
            n_out: usize,
        ) -> Result<()>;

        /// Rows `i0..i0 + out.len() / n_out` of `s^T @ ct` for the whole
        /// `s: [batch, n_in]` and `ct: [batch, n_out]`.
        fn spike_matmul_wgrad_f32(
            s: &[f32],
            ct: &[f32],
            out: &mut [f32],
            batch: usize,
            n_in: usize,
            n_out: usize,
            i0: usize,
        ) -> Result<()>;
        fn spike_matmul_wgrad_f64(
            s: &[f64],
            ct: &[f64],
            out: &mut [f64],
            batch: usize,
            n_in: usize,
            n_out: usize,
            i0: usize,
        ) -> Result<()>;
        #[allow(clippy::too_many_arguments)]
        fn spike_matmul_wgrad_half(
            dtype: u8,
            s: &[u16],
            ct: &[u16],
            out: &mut [u16],
            batch: usize,
            n_in: usize,
            n_out: usize,
            i0: usize,
        ) -> Result<()>;
    }
}

fn check(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "spikegrad spike_matmul: {what} has {got} elements, expected {want}"
        ))
    }
}

/// The forward operands' lengths for `rows` rows of an `n_in -> n_out` product.
fn forward_lengths(
    s: usize,
    w: usize,
    out: usize,
    rows: usize,
    n_in: usize,
    n_out: usize,
) -> Result<(), String> {
    check("spikes", s, rows * n_in)?;
    check("weight", w, n_in * n_out)?;
    check("output", out, rows * n_out)
}

/// The weight gradient's lengths; the rows of `out` must lie inside `0..n_in`.
#[allow(clippy::too_many_arguments)]
fn wgrad_lengths(
    s: usize,
    ct: usize,
    out: usize,
    batch: usize,
    n_in: usize,
    n_out: usize,
    i0: usize,
) -> Result<(), String> {
    check("spikes", s, batch * n_in)?;
    check("cotangent", ct, batch * n_out)?;
    if n_out == 0 {
        return check("weight gradient", out, 0);
    }
    if !out.is_multiple_of(n_out) || i0 + out / n_out > n_in {
        return Err(format!(
            "spikegrad spike_matmul: weight gradient block of {out} elements at row {i0} is not inside [{n_in}, {n_out}]"
        ));
    }
    Ok(())
}

fn spike_matmul_f32(
    s: &[f32],
    w: &[f32],
    out: &mut [f32],
    rows: usize,
    n_in: usize,
    n_out: usize,
) -> Result<(), String> {
    guarded("spike_matmul_f32", || {
        forward_lengths(s.len(), w.len(), out.len(), rows, n_in, n_out)?;
        synapse::forward_f32(s, w, out, n_in, n_out);
        Ok(())
    })
}

fn spike_matmul_f64(
    s: &[f64],
    w: &[f64],
    out: &mut [f64],
    rows: usize,
    n_in: usize,
    n_out: usize,
) -> Result<(), String> {
    guarded("spike_matmul_f64", || {
        forward_lengths(s.len(), w.len(), out.len(), rows, n_in, n_out)?;
        synapse::forward_f64(s, w, out, n_in, n_out);
        Ok(())
    })
}

fn spike_matmul_half(
    dtype: u8,
    s: &[u16],
    w: &[u16],
    out: &mut [u16],
    rows: usize,
    n_in: usize,
    n_out: usize,
) -> Result<(), String> {
    guarded("spike_matmul_half", || {
        forward_lengths(s.len(), w.len(), out.len(), rows, n_in, n_out)?;
        match dtype {
            2 => synapse::forward_f16(
                s.reinterpret_cast(),
                w.reinterpret_cast(),
                out.reinterpret_cast_mut(),
                n_in,
                n_out,
            ),
            3 => synapse::forward_bf16(
                s.reinterpret_cast(),
                w.reinterpret_cast(),
                out.reinterpret_cast_mut(),
                n_in,
                n_out,
            ),
            _ => {
                return Err(format!(
                    "spikegrad spike_matmul: unknown half dtype code {dtype}"
                ))
            }
        }
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn spike_matmul_wgrad_f32(
    s: &[f32],
    ct: &[f32],
    out: &mut [f32],
    batch: usize,
    n_in: usize,
    n_out: usize,
    i0: usize,
) -> Result<(), String> {
    guarded("spike_matmul_wgrad_f32", || {
        wgrad_lengths(s.len(), ct.len(), out.len(), batch, n_in, n_out, i0)?;
        synapse::wgrad_f32(s, ct, out, n_in, n_out, i0);
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn spike_matmul_wgrad_f64(
    s: &[f64],
    ct: &[f64],
    out: &mut [f64],
    batch: usize,
    n_in: usize,
    n_out: usize,
    i0: usize,
) -> Result<(), String> {
    guarded("spike_matmul_wgrad_f64", || {
        wgrad_lengths(s.len(), ct.len(), out.len(), batch, n_in, n_out, i0)?;
        synapse::wgrad_f64(s, ct, out, n_in, n_out, i0);
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn spike_matmul_wgrad_half(
    dtype: u8,
    s: &[u16],
    ct: &[u16],
    out: &mut [u16],
    batch: usize,
    n_in: usize,
    n_out: usize,
    i0: usize,
) -> Result<(), String> {
    guarded("spike_matmul_wgrad_half", || {
        wgrad_lengths(s.len(), ct.len(), out.len(), batch, n_in, n_out, i0)?;
        match dtype {
            2 => synapse::wgrad_f16(
                s.reinterpret_cast(),
                ct.reinterpret_cast(),
                out.reinterpret_cast_mut(),
                n_in,
                n_out,
                i0,
            ),
            3 => synapse::wgrad_bf16(
                s.reinterpret_cast(),
                ct.reinterpret_cast(),
                out.reinterpret_cast_mut(),
                n_in,
                n_out,
                i0,
            ),
            _ => {
                return Err(format!(
                    "spikegrad spike_matmul_wgrad: unknown half dtype code {dtype}"
                ))
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lengths_are_errors() {
        let mut out = [0f32; 2];
        spike_matmul_f32(&[1.0, 0.0], &[1.0; 4], &mut out, 1, 2, 2).unwrap();
        assert_eq!(out, [1.0, 1.0]);
        assert!(spike_matmul_f32(&[1.0], &[1.0; 4], &mut out, 1, 2, 2).is_err());
        assert!(spike_matmul_f32(&[1.0, 0.0], &[1.0; 3], &mut out, 1, 2, 2).is_err());
        let err = spike_matmul_wgrad_f32(&[1.0, 0.0], &[1.0, 1.0], &mut [0f32; 2], 1, 2, 2, 2)
            .unwrap_err();
        assert!(err.contains("not inside"), "{err}");
        assert!(spike_matmul_half(7, &[], &[], &mut [], 0, 0, 0).is_err());
    }
}
