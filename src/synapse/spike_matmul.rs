//! The event-driven product of spikes `s: [B, n_in]` and a dense weight
//! `W: [n_in, n_out]`, and its weight gradient. Matrices are row-major.
//!
//! - Forward, per batch row `b`: `y[b, :] = sum_i s[b, i] * W[i, :]` over the
//!   nonzero `s[b, i]`, in increasing `i`: the nonzero spikes of the row are
//!   gathered, then the scaled rows of `W` added (f32 and f64 in blocks of
//!   rows, src/synapse/blocked.rs; f16 and bf16 widened row by row).
//! - Weight gradient, per row `i` of `dW`: `dW[i, :] = sum_b s[b, i] * ct[b, :]`
//!   over the `b` with a nonzero `s[b, i]`, in increasing `b`; contiguous rows
//!   of `ct`, no strided column reads.
//!
//! A spike is nonzero when it is not `+0` or `-0`: NaN counts (and propagates
//! like a dense product). Zeros are skipped, so a `0 * inf` or `0 * NaN` of the
//! dense product is left out. Each output element is summed by one call in a
//! fixed order, so a split of the rows over threads never changes a bit.
//! f16 and bf16 are widened to f32, accumulated in f32 and rounded once.

use std::ops::{Add, Mul};

use half::{bf16, f16};
use multiversion::multiversion;
use multiversion::target::match_target;

use super::blocked;
use crate::convert;

/// The accumulation type: f32 or f64.
pub(crate) trait Acc: Copy + Default + Add<Output = Self> + Mul<Output = Self> {}
impl Acc for f32 {}
impl Acc for f64 {}

/// A spike or weight element.
pub(crate) trait Nonzero: Copy {
    /// Not `+0`/`-0` (NaN is nonzero).
    fn nonzero(self) -> bool;
}

/// An element with its accumulation type `A`.
pub(crate) trait Elem<A>: Nonzero {
    /// The value in the accumulation type (exact).
    fn widen(self) -> A;
}

impl Nonzero for f32 {
    #[inline(always)]
    fn nonzero(self) -> bool {
        self != 0.0
    }
}

impl Elem<f32> for f32 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

impl Nonzero for f64 {
    #[inline(always)]
    fn nonzero(self) -> bool {
        self != 0.0
    }
}

impl Elem<f64> for f64 {
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
}

impl Nonzero for f16 {
    #[inline(always)]
    fn nonzero(self) -> bool {
        self.to_bits() & 0x7fff != 0
    }
}

impl Elem<f32> for f16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

impl Nonzero for bf16 {
    #[inline(always)]
    fn nonzero(self) -> bool {
        self.to_bits() & 0x7fff != 0
    }
}

impl Elem<f32> for bf16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        f32::from_bits(u32::from(self.to_bits()) << 16)
    }
}

/// Spikes tested together: one vector compare gives a bit mask of the
/// nonzero ones, whose set bits are then visited (firing is random, so a
/// branch per spike would often miss).
const SCAN_STEP: usize = 16;

/// Bit `j` set for each nonzero `chunk[j]` (`chunk.len() <= SCAN_STEP`).
#[inline(always)]
fn nonzero_bits<E: Nonzero>(chunk: &[E]) -> u32 {
    if let Ok(full) = <&[E; SCAN_STEP]>::try_from(chunk) {
        // A fixed length: one vector compare and mask.
        return (0..SCAN_STEP).fold(0, |a, j| a | u32::from(full[j].nonzero()) << j);
    }
    chunk
        .iter()
        .enumerate()
        .fold(0, |a, (j, v)| a | u32::from(v.nonzero()) << j)
}

/// Calls `f(k, s)` for each nonzero `row[k]`, in increasing `k`.
#[inline(always)]
pub(crate) fn for_each_nonzero<E: Nonzero>(row: &[E], mut f: impl FnMut(usize, E)) {
    for (c, chunk) in row.chunks(SCAN_STEP).enumerate() {
        let mut bits = nonzero_bits(chunk);
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            f(c * SCAN_STEP + j, chunk[j]);
            bits &= bits - 1;
        }
    }
}

/// Appends the nonzero entries of one spike row: their indices and widened values.
#[inline(always)]
fn gather<A: Acc, E: Elem<A>>(row: &[E], idx: &mut Vec<usize>, val: &mut Vec<A>) {
    for_each_nonzero(row, |i, s| {
        idx.push(i);
        val.push(s.widen());
    });
}

/// `acc[j] += v * x[j]`.
#[inline(always)]
fn axpy<A: Acc>(acc: &mut [A], v: A, x: &[A]) {
    for (a, &x) in acc.iter_mut().zip(x) {
        *a = *a + v * x;
    }
}

/// Forward pass, f16 or bf16: rows of `w` widened to f32 as they are used.
#[inline(always)]
fn forward_half<H: Elem<f32>>(
    s: &[H],
    w: &[H],
    out: &mut [H],
    n_in: usize,
    n_out: usize,
    widen: impl Fn(&[H], &mut [f32]),
    narrow: impl Fn(&[f32], &mut [H]),
) {
    if n_out == 0 {
        return;
    }
    let (mut idx, mut val) = (Vec::with_capacity(n_in), Vec::with_capacity(n_in));
    let mut acc = vec![0f32; n_out];
    let mut wrow = vec![0f32; n_out];
    for (b, orow) in out.chunks_exact_mut(n_out).enumerate() {
        idx.clear();
        val.clear();
        gather(&s[b * n_in..(b + 1) * n_in], &mut idx, &mut val);
        acc.fill(0.0);
        for (&i, &v) in idx.iter().zip(&val) {
            widen(&w[i * n_out..(i + 1) * n_out], &mut wrow);
            axpy(&mut acc, v, &wrow);
        }
        narrow(&acc, orow);
    }
}

/// Rows of `dW` accumulated per block, so that the block (and the `ct` row
/// being added) stays in cache while every batch row is visited: ~128 KiB.
const WGRAD_BLOCK_BYTES: usize = 1 << 17;

fn block_rows<A>(n_out: usize) -> usize {
    (WGRAD_BLOCK_BYTES / (n_out * std::mem::size_of::<A>()).max(1)).max(1)
}

/// Weight gradient, f32 or f64: rows `i0..i0 + rows` of `dW = s^T @ ct`,
/// written to `out` (`rows * n_out`). `s` and `ct` are the whole `[B, n_in]`
/// and `[B, n_out]`.
#[inline(always)]
fn wgrad_same<A: Acc + Elem<A>>(
    s: &[A],
    ct: &[A],
    out: &mut [A],
    n_in: usize,
    n_out: usize,
    i0: usize,
) {
    if n_out == 0 {
        return;
    }
    out.fill(A::default());
    let batch = s.len().checked_div(n_in).unwrap_or(0);
    let rows = out.len() / n_out;
    let block = block_rows::<A>(n_out);
    for r0 in (0..rows).step_by(block) {
        let r1 = (r0 + block).min(rows);
        for b in 0..batch {
            let srow = &s[b * n_in + i0 + r0..b * n_in + i0 + r1];
            let crow = &ct[b * n_out..(b + 1) * n_out];
            for_each_nonzero(srow, |r, v| {
                let o = (r0 + r) * n_out;
                axpy(&mut out[o..o + n_out], v, crow);
            });
        }
    }
}

/// Weight gradient, f16 or bf16: a block of `dW` accumulated in f32, the `ct`
/// rows widened once per block and batch row that has a spike there.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn wgrad_half<H: Elem<f32>>(
    s: &[H],
    ct: &[H],
    out: &mut [H],
    n_in: usize,
    n_out: usize,
    i0: usize,
    widen: impl Fn(&[H], &mut [f32]),
    narrow: impl Fn(&[f32], &mut [H]),
) {
    if n_out == 0 {
        return;
    }
    let batch = s.len().checked_div(n_in).unwrap_or(0);
    let rows = out.len() / n_out;
    let block = block_rows::<f32>(n_out);
    let mut acc = vec![0f32; block.min(rows.max(1)) * n_out];
    let mut crow = vec![0f32; n_out];
    for r0 in (0..rows).step_by(block) {
        let r1 = (r0 + block).min(rows);
        let acc = &mut acc[..(r1 - r0) * n_out];
        acc.fill(0.0);
        for b in 0..batch {
            let srow = &s[b * n_in + i0 + r0..b * n_in + i0 + r1];
            if !srow.iter().any(|v| v.nonzero()) {
                continue;
            }
            widen(&ct[b * n_out..(b + 1) * n_out], &mut crow);
            for_each_nonzero(srow, |r, v: H| {
                axpy(&mut acc[r * n_out..(r + 1) * n_out], v.widen(), &crow);
            });
        }
        narrow(acc, &mut out[r0 * n_out..r1 * n_out]);
    }
}

/// Compiled for each CPU target the other kernels are (src/kernels.rs), plus
/// the baseline, and picked at run time.
macro_rules! multiversioned {
    ($($function:tt)*) => {
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        $($function)*
    };
}

multiversioned! {
    /// `out = s @ w` for `s: [rows, n_in]`, `w: [n_in, n_out]`, `out: [rows, n_out]`
    /// (src/synapse/blocked.rs), summed with fused multiply-adds where the
    /// target has them.
    pub(crate) fn forward_f32(s: &[f32], w: &[f32], out: &mut [f32], n_in: usize, n_out: usize) {
        if match_target! { "x86_64+fma" => true, "aarch64+neon" => true, _ => false } {
            blocked::forward::<f32, true>(s, w, out, n_in, n_out)
        } else {
            blocked::forward::<f32, false>(s, w, out, n_in, n_out)
        }
    }
}

multiversioned! {
    /// As [`forward_f32`], in f64.
    pub(crate) fn forward_f64(s: &[f64], w: &[f64], out: &mut [f64], n_in: usize, n_out: usize) {
        if match_target! { "x86_64+fma" => true, "aarch64+neon" => true, _ => false } {
            blocked::forward::<f64, true>(s, w, out, n_in, n_out)
        } else {
            blocked::forward::<f64, false>(s, w, out, n_in, n_out)
        }
    }
}

multiversioned! {
    /// As [`forward_f32`], in f16 (accumulated in f32).
    pub(crate) fn forward_f16(s: &[f16], w: &[f16], out: &mut [f16], n_in: usize, n_out: usize) {
        let f16c = match_target! { "x86_64+avx+f16c" => true, _ => false };
        forward_half(
            s, w, out, n_in, n_out,
            |a: &[f16], b: &mut [f32]| convert::widen_f16(f16c, a, b),
            |a: &[f32], b: &mut [f16]| convert::narrow_f16(f16c, a, b),
        )
    }
}

multiversioned! {
    /// As [`forward_f32`], in bf16 (accumulated in f32).
    pub(crate) fn forward_bf16(s: &[bf16], w: &[bf16], out: &mut [bf16], n_in: usize, n_out: usize) {
        forward_half(s, w, out, n_in, n_out, convert::widen_bf16, convert::narrow_bf16)
    }
}

multiversioned! {
    /// Rows `i0..` of `s^T @ ct` into `out: [rows, n_out]`, for the whole
    /// `s: [B, n_in]` and `ct: [B, n_out]`.
    pub(crate) fn wgrad_f32(s: &[f32], ct: &[f32], out: &mut [f32], n_in: usize, n_out: usize, i0: usize) {
        wgrad_same(s, ct, out, n_in, n_out, i0)
    }
}

multiversioned! {
    /// As [`wgrad_f32`], in f64.
    pub(crate) fn wgrad_f64(s: &[f64], ct: &[f64], out: &mut [f64], n_in: usize, n_out: usize, i0: usize) {
        wgrad_same(s, ct, out, n_in, n_out, i0)
    }
}

multiversioned! {
    /// As [`wgrad_f32`], in f16 (accumulated in f32).
    pub(crate) fn wgrad_f16(s: &[f16], ct: &[f16], out: &mut [f16], n_in: usize, n_out: usize, i0: usize) {
        let f16c = match_target! { "x86_64+avx+f16c" => true, _ => false };
        wgrad_half(
            s, ct, out, n_in, n_out, i0,
            |a: &[f16], b: &mut [f32]| convert::widen_f16(f16c, a, b),
            |a: &[f32], b: &mut [f16]| convert::narrow_f16(f16c, a, b),
        )
    }
}

multiversioned! {
    /// As [`wgrad_f32`], in bf16 (accumulated in f32).
    pub(crate) fn wgrad_bf16(s: &[bf16], ct: &[bf16], out: &mut [bf16], n_in: usize, n_out: usize, i0: usize) {
        wgrad_half(s, ct, out, n_in, n_out, i0, convert::widen_bf16, convert::narrow_bf16)
    }
}
