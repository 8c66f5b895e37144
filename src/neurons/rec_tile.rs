//! The register tile of the recurrent cotangent's product
//! ([`super::recurrent`]'s `delta @ w_rec^T`) written with AVX-512
//! intrinsics: `M` rows of `delta` against two vectors of `wt` columns, one
//! fused multiply-add per entry and `k`, summed over `k` in ascending order.
//!
//! The portable tile in `recurrent.rs` computes the same sums in the same
//! order (so both give the same bits), but LLVM's choices for it vary with
//! the element type and the context: it kept the accumulators in registers
//! only in some builds, stored them to the stack on every `k` in others,
//! and vectorized the `f64` tile along `k` with gathers. Here the
//! accumulators are vector registers by construction.

/// `out[r][j] = sum_k d[r][k] wt[k np + j]` for `j < w`, `r < M`, with this
/// CPU's AVX-512 registers; `false` (nothing written) where it has none or
/// the type has no such tile, and the caller runs the portable tile.
///
/// # Safety
/// `d[r]` is readable for `n` elements, `wt` for `n` rows of `np` from the
/// tile's first column, each row for [`SimdTile::COLS`] elements; `out[r]`
/// is writable for `w <= COLS` elements.
pub(crate) trait SimdTile: Sized {
    /// The tile's columns: two AVX-512 vectors.
    const COLS: usize;

    unsafe fn simd_tile<const M: usize>(
        wt: *const Self,
        np: usize,
        n: usize,
        d: [*const Self; M],
        out: [*mut Self; M],
        w: usize,
    ) -> bool;
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

macro_rules! simd_tile {
    ($r:ty, $cols:expr, $kernel:ident) => {
        impl SimdTile for $r {
            const COLS: usize = $cols;

            #[inline(always)]
            unsafe fn simd_tile<const M: usize>(
                wt: *const $r,
                np: usize,
                n: usize,
                d: [*const $r; M],
                out: [*mut $r; M],
                w: usize,
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                if has_avx512() {
                    // SAFETY: the CPU has AVX-512F; the caller's bounds.
                    unsafe { x86::$kernel::<M>(wt, np, n, d, out, w) };
                    return true;
                }
                let _ = (wt, np, n, d, out, w);
                false
            }
        }
    };
}

simd_tile!(f32, 32, tile_f32);
simd_tile!(f64, 16, tile_f64);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The mask of the first `w` of `lanes` lanes.
    #[inline(always)]
    fn mask(w: usize, lanes: usize) -> u32 {
        let w = w.min(lanes) as u32;
        ((1u64 << w) - 1) as u32
    }

    macro_rules! tile {
        ($name:ident, $r:ty, $lanes:expr, $vec:ty, $zero:ident, $load:ident, $set1:ident,
         $fmadd:ident, $store:ident, $mask:ty) => {
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn $name<const M: usize>(
                wt: *const $r,
                np: usize,
                n: usize,
                d: [*const $r; M],
                out: [*mut $r; M],
                w: usize,
            ) {
                let mut lo: [$vec; M] = [$zero(); M];
                let mut hi: [$vec; M] = [$zero(); M];
                let mut wp = wt;
                for k in 0..n {
                    // SAFETY (all three blocks): the trait's contract.
                    let (w0, w1) = unsafe { ($load(wp), $load(wp.add($lanes))) };
                    for r in 0..M {
                        let a = $set1(unsafe { *d[r].add(k) });
                        lo[r] = $fmadd(a, w0, lo[r]);
                        hi[r] = $fmadd(a, w1, hi[r]);
                    }
                    wp = unsafe { wp.add(np) };
                }
                let (m0, m1) = (
                    mask(w, $lanes) as $mask,
                    mask(w.saturating_sub($lanes), $lanes) as $mask,
                );
                for r in 0..M {
                    unsafe {
                        $store(out[r], m0, lo[r]);
                        // Past the row's end where w <= lanes: masked off, never touched.
                        $store(out[r].wrapping_add($lanes), m1, hi[r]);
                    }
                }
            }
        };
    }

    tile!(
        tile_f32,
        f32,
        16,
        __m512,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_mask_storeu_ps,
        u16
    );
    tile!(
        tile_f64,
        f64,
        8,
        __m512d,
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_mask_storeu_pd,
        u8
    );
}

#[cfg(test)]
mod tests {
    use super::SimdTile;

    /// The tile against one `mul_add` per entry and `k` in ascending order,
    /// bit for bit; the columns past `w` and the rows past `M` untouched.
    fn check<R: SimdTile + Copy + PartialEq + std::fmt::Debug, const M: usize>(
        of: fn(f64) -> R,
        fma: fn(R, R, R) -> R,
        w: usize,
    ) {
        let (n, np) = (37, 2 * R::COLS + 8);
        let wt: Vec<R> = (0..n * np)
            .map(|i| of(((i * 7919) % 1000) as f64 / 500.0 - 1.0))
            .collect();
        let d: Vec<R> = (0..(M + 1) * n)
            .map(|i| of(((i * 104_729) % 997) as f64 / 300.0 - 1.5))
            .collect();
        let (j0, sentinel) = (8, of(12345.0));
        let mut out = vec![sentinel; (M + 1) * np];
        let done = unsafe {
            R::simd_tile::<M>(
                wt.as_ptr().add(j0),
                np,
                n,
                std::array::from_fn(|r| d.as_ptr().add(r * n)),
                std::array::from_fn(|r| out.as_mut_ptr().add(r * np)),
                w,
            )
        };
        #[cfg(target_arch = "x86_64")]
        assert_eq!(done, std::arch::is_x86_feature_detected!("avx512f"));
        if !done {
            assert!(out.iter().all(|&v| v == sentinel));
            return;
        }
        for r in 0..=M {
            for j in 0..np {
                let got = out[r * np + j];
                if r < M && j < w {
                    let want = (0..n).fold(of(0.0), |acc, k| {
                        fma(d[r * n + k], wt[k * np + j0 + j], acc)
                    });
                    assert_eq!(got, want, "row {r} column {j}");
                } else {
                    assert_eq!(got, sentinel, "row {r} column {j} written");
                }
            }
        }
    }

    #[test]
    fn simd_tile_sums_like_mul_add_in_order() {
        for w in [32, 17, 16, 5, 1] {
            check::<f32, 8>(|v| v as f32, f32::mul_add, w);
            check::<f32, 4>(|v| v as f32, f32::mul_add, w);
            check::<f32, 1>(|v| v as f32, f32::mul_add, w);
        }
        for w in [16, 9, 8, 3] {
            check::<f64, 8>(|v| v, f64::mul_add, w);
            check::<f64, 1>(|v| v, f64::mul_add, w);
        }
    }
}
