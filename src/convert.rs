//! Bulk conversion between 16-bit floats and f32 for the half-precision kernels.
//!
//! bf16 is the top half of an f32, so widening is a shift and narrowing is
//! round-to-nearest-even on the bits (NaN stays NaN, made quiet); both are
//! plain integer loops that LLVM vectorizes. f16 uses the F16C instructions
//! (8 lanes per instruction) where the caller's CPU has them, and `half`'s
//! conversions elsewhere; both are exact widening and round-to-nearest-even
//! narrowing, so every path gives the same bits (NaN payloads aside).

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

/// bf16 to f32: exact.
#[inline(always)]
pub fn widen_bf16(src: &[bf16], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f32::from_bits(u32::from(s.to_bits()) << 16);
    }
}

/// f32 to bf16, round to nearest even; NaN gives a quiet NaN.
#[inline(always)]
pub fn narrow_bf16(src: &[f32], dst: &mut [bf16]) {
    for (d, s) in dst.iter_mut().zip(src) {
        let b = s.to_bits();
        let rounded = b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16;
        let is_nan = b & 0x7fff_ffff > 0x7f80_0000;
        let bits = if is_nan { (b >> 16) | 0x0040 } else { rounded };
        *d = bf16::from_bits(bits as u16);
    }
}

/// f16 to f32: exact. `f16c`: the caller runs with the F16C and AVX features
/// enabled (a compile-time constant inside a `multiversion` clone).
#[inline(always)]
pub fn widen_f16(f16c: bool, src: &[f16], dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if f16c {
        // SAFETY: the caller guarantees the CPU has F16C and AVX.
        return unsafe { x86::widen_f16(src, dst) };
    }
    let _ = f16c;
    src.convert_to_f32_slice(dst);
}

/// f32 to f16, round to nearest even. `f16c` as in [`widen_f16`].
#[inline(always)]
pub fn narrow_f16(f16c: bool, src: &[f32], dst: &mut [f16]) {
    #[cfg(target_arch = "x86_64")]
    if f16c {
        // SAFETY: the caller guarantees the CPU has F16C and AVX.
        return unsafe { x86::narrow_f16(src, dst) };
    }
    let _ = f16c;
    dst.convert_from_f32_slice(src);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use half::f16;
    use std::arch::x86_64::{
        __m128i, _mm256_cvtph_ps, _mm256_cvtps_ph, _mm256_loadu_ps, _mm256_storeu_ps,
        _mm_loadu_si128, _mm_storeu_si128, _MM_FROUND_TO_NEAREST_INT,
    };

    const LANES: usize = 8;

    /// Zero-padded copy of a short tail, so the tail uses the same instruction.
    fn padded<T: Copy + Default>(src: &[T]) -> [T; LANES] {
        let mut buf = [T::default(); LANES];
        buf[..src.len()].copy_from_slice(src);
        buf
    }

    /// # Safety
    /// The CPU must support F16C and AVX; `dst` must be at least as long as `src`.
    #[inline]
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn widen_f16(src: &[f16], dst: &mut [f32]) {
        let n = src.len().min(dst.len());
        let (src, dst) = (&src[..n], &mut dst[..n]);
        let mut chunks = src.chunks_exact(LANES).zip(dst.chunks_exact_mut(LANES));
        for (s, d) in &mut chunks {
            // SAFETY: s has 8 halves (16 bytes) and d has 8 f32; unaligned load/store.
            unsafe {
                let v = _mm256_cvtph_ps(_mm_loadu_si128(s.as_ptr().cast::<__m128i>()));
                _mm256_storeu_ps(d.as_mut_ptr(), v);
            }
        }
        let done = n - n % LANES;
        if done < n {
            let tail = padded(&src[done..]);
            let mut out = [0f32; LANES];
            // SAFETY: both buffers hold 8 lanes.
            unsafe {
                let v = _mm256_cvtph_ps(_mm_loadu_si128(tail.as_ptr().cast::<__m128i>()));
                _mm256_storeu_ps(out.as_mut_ptr(), v);
            }
            dst[done..].copy_from_slice(&out[..n - done]);
        }
    }

    /// # Safety
    /// The CPU must support F16C and AVX; `dst` must be at least as long as `src`.
    #[inline]
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn narrow_f16(src: &[f32], dst: &mut [f16]) {
        let n = src.len().min(dst.len());
        let (src, dst) = (&src[..n], &mut dst[..n]);
        let mut chunks = src.chunks_exact(LANES).zip(dst.chunks_exact_mut(LANES));
        for (s, d) in &mut chunks {
            // SAFETY: s has 8 f32 and d has 8 halves (16 bytes); unaligned load/store.
            unsafe {
                let v = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(s.as_ptr()));
                _mm_storeu_si128(d.as_mut_ptr().cast::<__m128i>(), v);
            }
        }
        let done = n - n % LANES;
        if done < n {
            let tail = padded(&src[done..]);
            let mut out = [f16::ZERO; LANES];
            // SAFETY: both buffers hold 8 lanes.
            unsafe {
                let v =
                    _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(tail.as_ptr()));
                _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), v);
            }
            dst[done..].copy_from_slice(&out[..n - done]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_f16c() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("avx");
        #[allow(unreachable_code)]
        false
    }

    /// Every 16-bit pattern, widened and narrowed again, against `half`.
    #[test]
    fn all_halves_round_trip_like_half() {
        let bits: Vec<u16> = (0..=u16::MAX).collect();
        let hs: Vec<f16> = bits.iter().map(|&b| f16::from_bits(b)).collect();
        let bs: Vec<bf16> = bits.iter().map(|&b| bf16::from_bits(b)).collect();
        let mut wide = vec![0f32; bits.len()];
        let f16c = has_f16c();
        for use_f16c in [false, f16c] {
            widen_f16(use_f16c, &hs, &mut wide);
            for (h, w) in hs.iter().zip(&wide) {
                assert!(h.to_f32().to_bits() == w.to_bits() || (h.is_nan() && w.is_nan()));
            }
        }
        widen_bf16(&bs, &mut wide);
        for (b, w) in bs.iter().zip(&wide) {
            assert!(b.to_f32().to_bits() == w.to_bits() || (b.is_nan() && w.is_nan()));
        }
    }

    #[test]
    fn narrowing_matches_half_for_every_length() {
        let f16c = has_f16c();
        let mut vals: Vec<f32> = (0..5000).map(|i| (i as f32 - 2500.0) * 37.3e-3).collect();
        vals.extend([
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            65504.0,
            65520.0,
            6e-8,
            2.9e-8,
            3.0e-8,
            1e-40,
            f32::MAX,
            f32::MIN_POSITIVE,
            1.0 + 1.0 / 2048.0,
            1.0 + 3.0 / 2048.0,
            1.0 + 1.0 / 256.0,
            1.0 + 3.0 / 256.0,
            3.389e38,
            -3.4e38,
        ]);
        for n in [0usize, 1, 7, 8, 9, 17, vals.len()] {
            let src = &vals[vals.len() - n..];
            for use_f16c in [false, f16c] {
                let mut h = vec![f16::ZERO; n];
                narrow_f16(use_f16c, src, &mut h);
                for (v, got) in src.iter().zip(&h) {
                    let want = f16::from_f32(*v);
                    assert!(
                        want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                        "{v}"
                    );
                }
            }
            let mut b = vec![bf16::ZERO; n];
            narrow_bf16(src, &mut b);
            for (v, got) in src.iter().zip(&b) {
                let want = bf16::from_f32(*v);
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "{v}"
                );
                assert_eq!(want.is_nan(), got.is_nan());
            }
        }
    }
}
