//! The forward product `out = s @ W` in f32 and f64: per batch row, the
//! nonzero spikes, then the scaled rows of `W` added in blocks.
//!
//! - The nonzero spikes of every row are gathered once per call from bit
//!   masks of `SCAN_STEP` spikes (no branch per spike: firing is random).
//! - `W` goes by column slabs that stay in L2 while every row is added from
//!   them; a row's accumulators for a slab stay in L1 and take `PASS` rows of
//!   `W` per pass, each a long contiguous run.
//! - A slab narrower than `W` has rows `n_out` apart, which alias in the
//!   caches (4 KiB apart for 1024 f32 columns); when the rows of the call
//!   load the slab more than `PACK_MIN_WALKS` times over, it is first copied
//!   into contiguous rows.
//!
//! Each output element sums its products in increasing `k`, one multiply-add
//! at a time (fused where the target has FMA), so neither the blocking nor
//! the split of the rows over threads changes a bit.

use super::spike_matmul::{for_each_nonzero, Acc, Elem};

/// An accumulation type with a multiply-add, fused or not.
pub(crate) trait Madd: Acc {
    /// `self * b + c`, rounded once when `FMA`.
    fn madd<const FMA: bool>(self, b: Self, c: Self) -> Self;
}

impl Madd for f32 {
    #[inline(always)]
    fn madd<const FMA: bool>(self, b: f32, c: f32) -> f32 {
        if FMA {
            self.mul_add(b, c)
        } else {
            self * b + c
        }
    }
}

impl Madd for f64 {
    #[inline(always)]
    fn madd<const FMA: bool>(self, b: f64, c: f64) -> f64 {
        if FMA {
            self.mul_add(b, c)
        } else {
            self * b + c
        }
    }
}

/// Rows of `W` added per pass over a row's accumulators.
const PASS: usize = 8;

/// Loads of the whole slab (spikes per `n_in`) from which it is packed.
const PACK_MIN_WALKS: usize = 2;

/// Columns of `W` per slab: `n_in` rows of this width stay in L2 (~1 MiB);
/// a multiple of 16.
fn slab_cols<A>(n_in: usize, n_out: usize) -> usize {
    let fit = (1usize << 20) / (n_in.max(1) * std::mem::size_of::<A>());
    (fit / 16 * 16).max(64).min(n_out)
}

/// `acc = sum_e vs[e] * wt[ks[e] * stride + off..][..acc.len()]`, in
/// increasing `e`, `PASS` rows of `wt` per pass over `acc`.
#[inline(always)]
fn add_rows<A: Madd, const FMA: bool>(
    acc: &mut [A],
    ks: &[u32],
    vs: &[A],
    (wt, stride, off): (&[A], usize, usize),
) {
    let n = acc.len();
    acc.fill(A::default());
    let at = |k: u32| &wt[k as usize * stride + off..k as usize * stride + off + n];
    let mut kc = ks.chunks_exact(PASS);
    let mut vc = vs.chunks_exact(PASS);
    for (k8, v8) in (&mut kc).zip(&mut vc) {
        let [r0, r1, r2, r3, r4, r5, r6, r7] = std::array::from_fn(|p| at(k8[p]));
        let [v0, v1, v2, v3, v4, v5, v6, v7]: [A; PASS] = v8.try_into().unwrap();
        // Zipped slices: no bounds checks, so the loop vectorizes.
        let rows = r0
            .iter()
            .zip(r1)
            .zip(r2)
            .zip(r3)
            .zip(r4)
            .zip(r5)
            .zip(r6)
            .zip(r7);
        for (a, (((((((&x0, &x1), &x2), &x3), &x4), &x5), &x6), &x7)) in acc.iter_mut().zip(rows) {
            let mut x = v0.madd::<FMA>(x0, *a);
            x = v1.madd::<FMA>(x1, x);
            x = v2.madd::<FMA>(x2, x);
            x = v3.madd::<FMA>(x3, x);
            x = v4.madd::<FMA>(x4, x);
            x = v5.madd::<FMA>(x5, x);
            x = v6.madd::<FMA>(x6, x);
            *a = v7.madd::<FMA>(x7, x);
        }
    }
    for (&k, &v) in kc.remainder().iter().zip(vc.remainder()) {
        for (a, &x) in acc.iter_mut().zip(at(k)) {
            *a = v.madd::<FMA>(x, *a);
        }
    }
}

/// `out = s @ w` for `s: [rows, n_in]`, `w: [n_in, n_out]`, `out: [rows, n_out]`.
#[inline(always)]
pub(crate) fn forward<A: Madd + Elem<A>, const FMA: bool>(
    s: &[A],
    w: &[A],
    out: &mut [A],
    n_in: usize,
    n_out: usize,
) {
    if n_out == 0 {
        return;
    }
    if n_in == 0 {
        out.fill(A::default());
        return;
    }
    let rows = s.len() / n_in;
    let (mut ks, mut vs) = (Vec::new(), Vec::new());
    let mut ends = Vec::with_capacity(rows);
    for row in s.chunks_exact(n_in) {
        for_each_nonzero(row, |k, v: A| {
            ks.push(k as u32);
            vs.push(v);
        });
        ends.push(ks.len());
    }
    let tile = slab_cols::<A>(n_in, n_out);
    let pack = tile < n_out && ks.len() >= PACK_MIN_WALKS * n_in;
    let mut packed = Vec::new();
    for c0 in (0..n_out).step_by(tile) {
        let c1 = (c0 + tile).min(n_out);
        let slab = if pack {
            packed.clear();
            for row in w.chunks_exact(n_out) {
                packed.extend_from_slice(&row[c0..c1]);
            }
            (&packed[..], c1 - c0, 0)
        } else {
            (w, n_out, c0)
        };
        let mut start = 0;
        for (r, &end) in ends.iter().enumerate() {
            let acc = &mut out[r * n_out + c0..r * n_out + c1];
            add_rows::<A, FMA>(acc, &ks[start..end], &vs[start..end], slab);
            start = end;
        }
    }
}
