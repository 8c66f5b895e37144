//! [`Real`]: the few operations the generic special functions and surrogate
//! formulas need, implemented for f32 and f64, so each formula is written once.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::{exp_neg_f32, exp_neg_f64};

/// A float type the kernels compute in (f32 or f64).
pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Send
    + Sync
    + 'static
{
    /// Taylor coefficients of `sin(pi r) / r` in powers of `r^2`, enough for this precision on `|r| <= 1/2`.
    const SINPI: &'static [Self];
    /// Coefficients `1/(2k+1)` of `atanh(s)/s` in powers of `s^2`, enough for `|s| <= 0.172`.
    const ATANH: &'static [Self];
    /// `1.5 * 2^(mantissa bits)`: adding and subtracting it rounds to an integer.
    const ROUND_MAGIC: Self;
    /// `ln 2` split so that `e * LN2_HI` is exact for every exponent `e`.
    const LN2_HI: Self;
    const LN2_LO: Self;
    /// The smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// `2^k` that lifts every subnormal into the normal range, and `k`.
    const SUBNORMAL_SCALE: Self;
    const SUBNORMAL_LOG2: Self;

    /// Rounding from f64 (how parameters reach the kernels).
    fn from_f64(v: f64) -> Self;
    fn abs(self) -> Self;
    /// `self * a + b` with one rounding (a fused multiply-add).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `e^a` for `a <= 0` or NaN (the vectorizable exp of `math::exp`).
    fn exp_neg(self) -> Self;
    /// `(m, e)` with `self = m * 2^e`, `m` in `[sqrt(1/2), sqrt(2))`, for positive normal `self`.
    fn split_exponent(self) -> (Self, Self);
}

/// `1 / (2k+1)` for `k = 0..N` (the atanh series).
const fn atanh_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut k = 0;
    while k < N {
        c[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    c
}

/// `(-1)^k pi^(2k+1) / (2k+1)!` for `k = 0..N` (the Taylor series of `sin(pi r)`).
const fn sinpi_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut term = std::f64::consts::PI;
    let mut k = 0;
    while k < N {
        c[k] = term;
        let (a, b) = ((2 * k + 2) as f64, (2 * k + 3) as f64);
        term = -term * std::f64::consts::PI * std::f64::consts::PI / (a * b);
        k += 1;
    }
    c
}

const fn narrow<const N: usize>(c: [f64; N]) -> [f32; N] {
    let mut out = [0.0f32; N];
    let mut k = 0;
    while k < N {
        out[k] = c[k] as f32;
        k += 1;
    }
    out
}

// Truncation errors: sin(pi r) to degree 17 leaves < 2e-11 relative (f32 needs 6e-8),
// to degree 25 < 3e-21; atanh to s^13 leaves < 1e-11, to s^27 < 3e-22.
const SINPI_F32: [f32; 9] = narrow(sinpi_coeffs::<9>());
const SINPI_F64: [f64; 13] = sinpi_coeffs::<13>();
const ATANH_F32: [f32; 7] = narrow(atanh_coeffs::<7>());
const ATANH_F64: [f64; 14] = atanh_coeffs::<14>();

impl Real for f32 {
    const SINPI: &'static [f32] = &SINPI_F32;
    const ATANH: &'static [f32] = &ATANH_F32;
    const ROUND_MAGIC: f32 = 12_582_912.0;
    const LN2_HI: f32 = 355.0 / 512.0; // 9 significant bits
    const LN2_LO: f32 = -2.121_944_4e-4;
    const MIN_POSITIVE: f32 = f32::MIN_POSITIVE;
    const SUBNORMAL_SCALE: f32 = 16_777_216.0; // 2^24
    const SUBNORMAL_LOG2: f32 = 24.0;

    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn abs(self) -> f32 {
        f32::abs(self)
    }
    #[inline(always)]
    fn mul_add(self, a: f32, b: f32) -> f32 {
        f32::mul_add(self, a, b)
    }
    #[inline(always)]
    fn exp_neg(self) -> f32 {
        exp_neg_f32(self)
    }
    #[inline(always)]
    fn split_exponent(self) -> (f32, f32) {
        let bits = self.to_bits();
        // Bias the split point so that m lands in [sqrt(1/2), sqrt(2)).
        let shifted = bits.wrapping_sub(0x3f35_04f3);
        let e = (shifted as i32) >> 23;
        let m = f32::from_bits((shifted & 0x007f_ffff).wrapping_add(0x3f35_04f3));
        (m, e as f32)
    }
}

impl Real for f64 {
    const SINPI: &'static [f64] = &SINPI_F64;
    const ATANH: &'static [f64] = &ATANH_F64;
    const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 32 significant bits
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // ln 2 - LN2_HI
    const MIN_POSITIVE: f64 = f64::MIN_POSITIVE;
    const SUBNORMAL_SCALE: f64 = 18_014_398_509_481_984.0; // 2^54
    const SUBNORMAL_LOG2: f64 = 54.0;

    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn abs(self) -> f64 {
        f64::abs(self)
    }
    #[inline(always)]
    fn mul_add(self, a: f64, b: f64) -> f64 {
        f64::mul_add(self, a, b)
    }
    #[inline(always)]
    fn exp_neg(self) -> f64 {
        exp_neg_f64(self)
    }
    #[inline(always)]
    fn split_exponent(self) -> (f64, f64) {
        const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
        let shifted = self.to_bits().wrapping_sub(SQRT_HALF_BITS);
        // The exponent as a float without an int->float conversion (not vectorizable on
        // AVX2): put the biased exponent in the low bits of 2^52 and subtract 2^52.
        // The shift leaves e mod 4096; offsetting by 2048 makes every e in [-1075, 1024] positive.
        let biased = (shifted >> 52).wrapping_add(2048) & 0xfff;
        let e = f64::from_bits(0x4330_0000_0000_0000 | biased) - 4_503_599_627_370_496.0 - 2048.0;
        let m = f64::from_bits((shifted & 0x000f_ffff_ffff_ffff).wrapping_add(SQRT_HALF_BITS));
        (m, e)
    }
}
