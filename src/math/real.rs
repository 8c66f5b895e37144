//! [`Real`]: the constants and few operations the generic special functions and
//! surrogate formulas need, implemented for f32 and f64, so each function is written once.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::coeffs::{Exp2F32, Exp2F64, Exp2Fit, ATANH_F32, ATANH_F64, SINPI_F32, SINPI_F64};
use super::coeffs::{EXPREL_F32, EXPREL_F64, EXPREL_SLOPE_F32, EXPREL_SLOPE_F64};

/// A float type the kernels compute in (f32 or f64).
pub(crate) trait Real:
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
    /// The unsigned integer of the same width (for bit manipulation).
    type Bits: Bits;
    /// The `2^f` polynomial of `exp` at this precision.
    type Exp2: Exp2Fit<Self>;
    /// Taylor coefficients of `sin(pi r) / r` in powers of `r^2`, highest first, enough for this precision on `|r| <= 1/2`.
    const SINPI: &'static [Self];
    /// Coefficients `1/(2k+1)` of `atanh(s)/s` in powers of `s^2`, highest first, enough for `|s| <= 0.172`.
    const ATANH: &'static [Self];
    /// Taylor coefficients of `exprel(z) = (e^z - 1)/z`, highest first, enough for this precision on `|z| <= 1`.
    const EXPREL: &'static [Self];
    /// Taylor coefficients of `exprel'(z)`, highest first, enough for this precision on `|z| <= 1`.
    const EXPREL_SLOPE: &'static [Self];
    /// `1.5 * 2^MANTISSA_BITS`: adding and subtracting it rounds to an integer.
    const ROUND_MAGIC: Self;
    /// Stored mantissa bits (the exponent field starts here).
    const MANTISSA_BITS: u32;
    /// The exponent bias: `2^-EXP_BIAS` has the exponent field of zero.
    const EXP_BIAS: u32;
    const LOG2_E: Self;
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
    /// Exact widening to f64.
    fn to_f64(self) -> f64;
    fn to_bits(self) -> Self::Bits;
    fn from_bits(bits: Self::Bits) -> Self;
    fn abs(self) -> Self;
    /// `self * a + b` with one rounding (a fused multiply-add).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `(m, e)` with `self = m * 2^e`, `m` in `[sqrt(1/2), sqrt(2))`, for positive normal `self`.
    fn split_exponent(self) -> (Self, Self);
}

/// The bit pattern of a [`Real`]: the integer operations `exp` builds `2^-m` with.
pub(crate) trait Bits: Copy + Add<Output = Self> + From<u32> {
    fn wrapping_sub(self, rhs: Self) -> Self;
    fn wrapping_shl(self, n: u32) -> Self;
}

/// The parts of a [`Real`] impl that only forward to the float's own methods.
macro_rules! forward {
    ($float:ident, $bits:ident) => {
        type Bits = $bits;
        #[inline(always)]
        fn from_f64(v: f64) -> $float {
            v as $float
        }
        #[inline(always)]
        fn to_f64(self) -> f64 {
            f64::from(self)
        }
        #[inline(always)]
        fn to_bits(self) -> $bits {
            $float::to_bits(self)
        }
        #[inline(always)]
        fn from_bits(bits: $bits) -> $float {
            $float::from_bits(bits)
        }
        #[inline(always)]
        fn abs(self) -> $float {
            $float::abs(self)
        }
        #[inline(always)]
        fn mul_add(self, a: $float, b: $float) -> $float {
            $float::mul_add(self, a, b)
        }
    };
}

macro_rules! bits {
    ($bits:ident) => {
        impl Bits for $bits {
            #[inline(always)]
            fn wrapping_sub(self, rhs: $bits) -> $bits {
                $bits::wrapping_sub(self, rhs)
            }
            #[inline(always)]
            fn wrapping_shl(self, n: u32) -> $bits {
                $bits::wrapping_shl(self, n)
            }
        }
    };
}

bits!(u32);
bits!(u64);

impl Real for f32 {
    forward!(f32, u32);
    type Exp2 = Exp2F32;
    const SINPI: &'static [f32] = &SINPI_F32;
    const ATANH: &'static [f32] = &ATANH_F32;
    const EXPREL: &'static [f32] = &EXPREL_F32;
    const EXPREL_SLOPE: &'static [f32] = &EXPREL_SLOPE_F32;
    const ROUND_MAGIC: f32 = 12_582_912.0;
    const MANTISSA_BITS: u32 = 23;
    const EXP_BIAS: u32 = 127;
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 355.0 / 512.0; // 9 significant bits
    const LN2_LO: f32 = -2.121_944_4e-4;
    const MIN_POSITIVE: f32 = f32::MIN_POSITIVE;
    const SUBNORMAL_SCALE: f32 = 16_777_216.0; // 2^24
    const SUBNORMAL_LOG2: f32 = 24.0;

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
    forward!(f64, u64);
    type Exp2 = Exp2F64;
    const SINPI: &'static [f64] = &SINPI_F64;
    const ATANH: &'static [f64] = &ATANH_F64;
    const EXPREL: &'static [f64] = &EXPREL_F64;
    const EXPREL_SLOPE: &'static [f64] = &EXPREL_SLOPE_F64;
    const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
    const MANTISSA_BITS: u32 = 52;
    const EXP_BIAS: u32 = 1023;
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 32 significant bits
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // ln 2 - LN2_HI
    const MIN_POSITIVE: f64 = f64::MIN_POSITIVE;
    const SUBNORMAL_SCALE: f64 = 18_014_398_509_481_984.0; // 2^54
    const SUBNORMAL_LOG2: f64 = 54.0;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants `exp` derives from the layout match the floats themselves.
    #[test]
    fn layout_constants() {
        assert_eq!(f32::MANTISSA_DIGITS - 1, <f32 as Real>::MANTISSA_BITS);
        assert_eq!(f64::MANTISSA_DIGITS - 1, <f64 as Real>::MANTISSA_BITS);
        assert_eq!(f32::MAX_EXP - 1, <f32 as Real>::EXP_BIAS as i32);
        assert_eq!(f64::MAX_EXP - 1, <f64 as Real>::EXP_BIAS as i32);
        assert_eq!(<f32 as Real>::ROUND_MAGIC, 1.5 * (1u32 << 23) as f32);
        assert_eq!(<f64 as Real>::ROUND_MAGIC, 1.5 * (1u64 << 52) as f64);
    }
}
