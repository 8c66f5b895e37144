//! Branch-free `exp` for f32 and f64, written so that LLVM vectorizes a loop
//! that calls it (no libm calls, no float-to-int conversions, no branches).
//!
//! Both use the same scheme: `exp(a) = 2^n * e^r` with `n = round(a / ln 2)`
//! found by the "add 1.5 * 2^mantissa_bits" trick (the integer lands in the low
//! mantissa bits, so no conversion instruction is needed), a Cody-Waite
//! reduction `r = a - n ln2` with a two-part ln 2, a polynomial for `e^r` on
//! `|r| <= ln2 / 2`, and `2^n` assembled from exponent bits.
//!
//! Callers only pass arguments `<= 0` (Gaussian exponents) or NaN. Arguments
//! below the normal range are clamped, so the result is flushed to zero where
//! the true value is subnormal (below 1.2e-38 in f32, 2.3e-308 in f64). A NaN
//! argument gives NaN.

const F32_MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
const F32_LOG2E: f32 = std::f32::consts::LOG2_E;
const F32_LN2_HI: f32 = 0.693_359_375; // ln 2 split so that n * LN2_HI is exact
const F32_LN2_LO: f32 = -2.121_944_4e-4;
/// exp(-87.33) is the smallest normal f32; below it the result is flushed to 0.
const F32_MIN_ARG: f32 = -87.33;

/// `e^a` for `a <= 0` (or NaN), relative error about 1 ulp, flushed to 0 below 1.2e-38.
#[inline(always)]
pub fn exp_neg_f32(a: f32) -> f32 {
    // `a < MIN` is false for NaN, so NaN survives the clamp.
    let below = a < F32_MIN_ARG;
    let a = if below { F32_MIN_ARG } else { a };
    let shifted = a * F32_LOG2E + F32_MAGIC;
    let n = shifted - F32_MAGIC;
    let r = a - n * F32_LN2_HI - n * F32_LN2_LO;
    // Minimax polynomial for (e^r - 1 - r) / r^2 on |r| <= ln2/2 (Cephes expf).
    let mut p = 1.987_569_2e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let er = p * (r * r) + r + 1.0;
    // n sits in the low mantissa bits of `shifted`; n in [-126, 0] here.
    let n_bits = shifted.to_bits().wrapping_sub(F32_MAGIC.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    let y = er * scale;
    if below {
        0.0
    } else {
        y
    }
}

const F64_MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
const F64_LOG2E: f64 = std::f64::consts::LOG2_E;
const F64_LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const F64_LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// exp(-708.39) is the smallest normal f64; below it the result is flushed to 0.
const F64_MIN_ARG: f64 = -708.39;

/// `e^a` for `a <= 0` (or NaN), relative error a few 1e-16, flushed to 0 below 2.3e-308.
#[inline(always)]
pub fn exp_neg_f64(a: f64) -> f64 {
    let below = a < F64_MIN_ARG;
    let a = if below { F64_MIN_ARG } else { a };
    let shifted = a * F64_LOG2E + F64_MAGIC;
    let n = shifted - F64_MAGIC;
    let r = a - n * F64_LN2_HI - n * F64_LN2_LO;
    // Taylor series of e^r to degree 13: truncation below 2e-17 on |r| <= ln2/2.
    const C: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
        1.0 / 40320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let mut p = C[13];
    let mut i = 13;
    while i > 0 {
        i -= 1;
        p = p * r + C[i];
    }
    let n_bits = shifted.to_bits().wrapping_sub(F64_MAGIC.to_bits());
    let scale = f64::from_bits(n_bits.wrapping_add(1023) << 52);
    let y = p * scale;
    if below {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_matches_f64_exp() {
        let mut worst = 0.0f64;
        let mut a = -87.0f32;
        while a <= 0.0 {
            let got = exp_neg_f32(a) as f64;
            let want = (a as f64).exp();
            worst = worst.max(((got - want) / want).abs());
            a += 0.001;
        }
        assert!(worst < 2.5e-7, "worst relative error {worst}");
    }

    #[test]
    fn exp_f64_is_accurate() {
        let mut worst = 0.0f64;
        let mut a = -708.0f64;
        while a <= 0.0 {
            let got = exp_neg_f64(a);
            let want = a.exp();
            worst = worst.max(((got - want) / want).abs());
            a += 0.0137;
        }
        assert!(worst < 5e-16, "worst relative error {worst}");
    }

    #[test]
    fn exp_special_values() {
        assert!(exp_neg_f32(f32::NAN).is_nan());
        assert!(exp_neg_f64(f64::NAN).is_nan());
        assert_eq!(exp_neg_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_neg_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_neg_f32(-1e30), 0.0);
        assert_eq!(exp_neg_f64(-1e300), 0.0);
        assert_eq!(exp_neg_f32(0.0), 1.0);
        assert_eq!(exp_neg_f32(-0.0), 1.0);
        assert_eq!(exp_neg_f64(0.0), 1.0);
    }
}
