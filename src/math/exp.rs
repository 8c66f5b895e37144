//! Branch-free exponentials, written once for f32 and f64 so that LLVM vectorizes a
//! loop that calls them: no libm calls, no branches, no float-to-int conversions.
//!
//! The core is `2^-z` for `z >= 0` ([`exp2_neg`]): `m = round(z)` by the "add
//! 1.5 * 2^mantissa_bits" trick (the integer lands in the low mantissa bits, so no
//! conversion instruction is needed), `f = m - z` exactly in `[-1/2, 1/2]`, a
//! polynomial for `2^f` in Horner form with fused multiply-adds, and `2^-m` built
//! from exponent bits. Working in base 2 saves the two-part `ln 2` reduction of a
//! base-e exp; a surrogate folds `log2(e)` into its coefficients once per call.
//! [`exp_neg`] gives `e^a` for `a <= 0` on top of it for callers that have not folded it.
//! [`exp2`] takes either sign with the same polynomial and two powers of two, so that
//! `e^a` of any sign needs no reciprocal (the exponential-Euler neurons call it every step).
//!
//! Fused multiply-adds (`mul_add`) are exact-then-rounded everywhere: a vector
//! FMA instruction in the AVX2/AVX-512/NEON kernels, the libm `fma` on a CPU
//! without one. So every code path gives the same bits on every machine.
//!
//! Accuracy: the f32 polynomial (degree 5) is within 2.3e-7 relative of `2^f`,
//! the f64 one (degree 10) within 6e-16; with rounding, `exp2_neg` is within
//! about 3e-7 relative in f32 and 1e-15 in f64. Where the true value is below the
//! normal range it is computed with gradual underflow down to `2^-126` (f32) /
//! `2^-1022` (f64) times the polynomial, and flushed to 0 where `z >= 126.5` (f32)
//! / `1022.5` (f64). A NaN argument gives NaN.

use super::coeffs::Exp2Fit;
use super::poly::horner_fma;
use super::real::{Bits, Real};

/// Range reduction: `(f, 2^-m)` with `z = m - f`, `m = round(min(z, EXP_BIAS))`.
#[inline(always)]
fn reduce<R: Real>(z: R) -> (R, R) {
    // EXP_BIAS - m is the biased exponent of 2^-m; m = EXP_BIAS gives the bits of +0.0.
    let max_z = R::from_f64(f64::from(R::EXP_BIAS));
    // `z > max_z` is false for NaN, so NaN survives the clamp.
    let z = if z > max_z { max_z } else { z };
    let shifted = z + R::ROUND_MAGIC;
    let f = (shifted - R::ROUND_MAGIC) - z; // exact: m and z are within 1/2 of each other
                                            // shifted's bits are ROUND_MAGIC's plus m, so this is (EXP_BIAS - m) << MANTISSA_BITS.
    let exponent = (R::ROUND_MAGIC.to_bits() + R::EXP_BIAS.into()).wrapping_sub(shifted.to_bits());
    (f, R::from_bits(exponent.wrapping_shl(R::MANTISSA_BITS)))
}

/// `(a p(f), 2^-m)` with `a 2^-z = a p(f) 2^-m`, `a p` given as its coefficients
/// `fit` (all but the constant term) and its constant term `a`.
#[inline(always)]
fn scaled_parts<R: Real>(fit: &[R], a: R, z: R) -> (R, R) {
    let (f, scale) = reduce(z);
    (horner_fma(fit, f).mul_add(f, a), scale)
}

/// `2^-z` for `z >= 0` (or NaN). See the module docs for accuracy.
#[inline(always)]
pub(crate) fn exp2_neg<R: Real>(z: R) -> R {
    let fit = <R::Exp2 as Exp2Fit<R>>::COEFFS;
    let (p, scale) = scaled_parts(fit.as_ref(), R::from_f64(1.0), z);
    p * scale
}

/// `a * 2^-z` for a fixed coefficient `a`, with `a` folded into the polynomial
/// `P` (one multiply less per call): `R`'s own fit by default, or a shorter one
/// such as [`Exp2F32Short`](super::Exp2F32Short). The two factors are returned
/// separately so that a caller can fuse their product into a sum.
pub(crate) struct ScaledExp2<R: Real, P: Exp2Fit<R> = <R as Real>::Exp2> {
    poly: P::Coeffs,
    a: R,
}

impl<R: Real, P: Exp2Fit<R>> ScaledExp2<R, P> {
    pub(crate) fn new(a: f64) -> Self {
        let mut poly = P::COEFFS;
        for c in poly.as_mut() {
            *c = R::from_f64(a * c.to_f64());
        }
        Self {
            poly,
            a: R::from_f64(a),
        }
    }

    /// `(a p(f), 2^-m)` with `a * 2^-z = a p(f) * 2^-m`, for `z >= 0` or NaN.
    #[inline(always)]
    pub(crate) fn parts(&self, z: R) -> (R, R) {
        scaled_parts(self.poly.as_ref(), self.a, z)
    }
}

/// `2^m` for an integer-valued `m` with `1 <= m + EXP_BIAS <= 2 EXP_BIAS`, from
/// exponent bits: after adding `ROUND_MAGIC` the low mantissa bits hold `m + EXP_BIAS`.
#[inline(always)]
fn pow2_int<R: Real>(m: R) -> R {
    let biased = (m + R::from_f64(f64::from(R::EXP_BIAS))) + R::ROUND_MAGIC;
    let field = biased.to_bits().wrapping_sub(R::ROUND_MAGIC.to_bits());
    R::from_bits(field.wrapping_shl(R::MANTISSA_BITS))
}

/// `2^y` for any `y`, without a division: `y = m1 + m2 + f` with `m1 = round(y/2)`,
/// `m2 = round(y - m1)` (both subtractions exact) and `f` in `[-1/2, 1/2]`; the
/// polynomial for `2^f` times two powers of two from exponent bits, each in the
/// normal range, so that overflow gives inf and underflow rounds once (gradual,
/// then 0). NaN gives NaN. Relative error as [`exp2_neg`]'s.
#[inline(always)]
pub(crate) fn exp2<R: Real>(y: R) -> R {
    let bias = f64::from(R::EXP_BIAS);
    // Past these 2^y is inf, or below half the smallest subnormal; the clamps
    // keep m1 and m2 within pow2_int's range. Comparisons are false for NaN.
    let hi = R::from_f64(bias + 2.0);
    let lo = R::from_f64(-(bias + f64::from(R::MANTISSA_BITS) + 2.0));
    let y = if y > hi {
        hi
    } else if y < lo {
        lo
    } else {
        y
    };
    let half = y * R::from_f64(0.5);
    let m1 = (half + R::ROUND_MAGIC) - R::ROUND_MAGIC;
    let r = y - m1;
    let m2 = (r + R::ROUND_MAGIC) - R::ROUND_MAGIC;
    let f = r - m2;
    let fit = <R::Exp2 as Exp2Fit<R>>::COEFFS;
    let p = horner_fma(fit.as_ref(), f).mul_add(f, R::from_f64(1.0));
    p * pow2_int(m1) * pow2_int(m2)
}

/// `e^a` for `a <= 0` (or NaN): `2^(-a log2 e)`. The rounding of the product adds a
/// relative error of about `6e-8 |a|` in f32, which never exceeds `2.2e-8` of
/// `e^0 = 1` in absolute terms, and `1.1e-16 |a|` in f64 (below `1e-13` for `a >= -708`).
#[inline(always)]
pub(crate) fn exp_neg<R: Real>(a: R) -> R {
    exp2_neg(a * -R::LOG2_E)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{Exp2F32Short, SHORT_EXP2_F32_ERROR};

    #[test]
    fn exp2_of_any_sign() {
        // f32 from below its subnormals to past its overflow, against f64's 2^y.
        for i in -16_000..=13_000 {
            let y = i as f32 * 0.01;
            let want = 2f64.powf(f64::from(y));
            let got = f64::from(exp2(y));
            if want > f64::from(f32::MAX) {
                assert_eq!(got, f64::INFINITY, "y={y}");
            } else if want >= f64::from(f32::MIN_POSITIVE) {
                assert!(
                    ((got - want) / want).abs() < 3.5e-7,
                    "y={y}: {got} vs {want}"
                );
            } else {
                // Subnormal: the polynomial's error and a spacing of the
                // subnormals (the result and powf's are each rounded to it).
                let tol = 2f64.powi(-149) + 3.5e-7 * want;
                assert!((got - want).abs() <= tol, "y={y}: {got} vs {want}");
            }
        }
        for i in -110_000..=103_000 {
            let y = i as f64 * 0.01;
            let want = 2f64.powf(y);
            let got = exp2(y);
            if want.is_infinite() {
                assert_eq!(got, f64::INFINITY, "y={y}");
            } else if want >= f64::MIN_POSITIVE {
                assert!(
                    ((got - want) / want).abs() < 1.5e-15,
                    "y={y}: {got} vs {want}"
                );
            } else {
                // Subnormal, as in f32. The spacing is the bits of 1:
                // `powi(-1074)` is 0 unoptimized (`2^1074` overflows first).
                let tol = f64::from_bits(1) + 1.5e-15 * want;
                assert!((got - want).abs() <= tol, "y={y}: {got} vs {want}");
            }
        }
        assert!(exp2(f32::NAN).is_nan() && exp2(f64::NAN).is_nan());
        assert_eq!(exp2(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp2(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp2(0.0f32), 1.0);
    }

    fn eval<R: Real, P: Exp2Fit<R>>(e: &ScaledExp2<R, P>, z: R) -> R {
        let (p, scale) = e.parts(z);
        p * scale
    }

    #[test]
    fn exp2_f32_matches_f64_reference() {
        let mut worst = 0.0f64;
        let mut z = 0.0f32;
        while z <= 125.0 {
            let got = exp2_neg::<f32>(z) as f64;
            let want = (-(z as f64)).exp2();
            worst = worst.max(((got - want) / want).abs());
            z += 0.000_7;
        }
        assert!(worst < 3.5e-7, "worst relative error {worst}");
    }

    #[test]
    fn exp2_f64_matches_reference() {
        let mut worst = 0.0f64;
        let mut z = 0.0f64;
        while z <= 1021.0 {
            let got = exp2_neg::<f64>(z);
            let want = (-z).exp2();
            worst = worst.max(((got - want) / want).abs());
            z += 0.003_7;
        }
        assert!(worst < 1.5e-15, "worst relative error {worst}");
    }

    #[test]
    fn exp_f32_error_is_small_against_one() {
        // The spec that matters: absolute error small against the peak value 1,
        // and relative error growing at most like the rounding of `a log2 e`.
        let mut a = -87.0f32;
        while a <= 0.0 {
            let got = exp_neg::<f32>(a) as f64;
            let want = (a as f64).exp();
            let err = (got - want).abs();
            assert!(
                err <= 3.5e-7 * want + 1e-7 * want * a.abs() as f64 + 1e-45,
                "a={a}"
            );
            assert!(err <= 2.5e-7, "a={a} err={err}");
            a += 0.001;
        }
    }

    #[test]
    fn exp_f64_is_accurate() {
        let mut worst = 0.0f64;
        let mut a = -708.0f64;
        while a <= 0.0 {
            let got = exp_neg::<f64>(a);
            let want = a.exp();
            worst = worst.max(((got - want) / want).abs());
            a += 0.0137;
        }
        assert!(worst < 1e-13, "worst relative error {worst}");
    }

    #[test]
    fn scaled_matches_coefficient_times_exp2() {
        for a in [1.0, 0.39894, -3.7e5, 1.3e-20] {
            let (e32, e64) = (ScaledExp2::<f32>::new(a), ScaledExp2::<f64>::new(a));
            let short = ScaledExp2::<f32, Exp2F32Short>::new(a);
            for i in 0..17_600 {
                let z = i as f64 * 0.0071;
                let want = a * (-z).exp2();
                let got = eval(&e32, z as f32) as f64;
                let want32 = a * (-(z as f32 as f64)).exp2();
                assert!(
                    (got - want32).abs() <= 4e-7 * want32.abs() + 3e-45,
                    "a={a} z={z}"
                );
                let got = eval(&short, z as f32) as f64;
                assert!(
                    (got - want32).abs() <= SHORT_EXP2_F32_ERROR * want32.abs() + 3e-45,
                    "a={a} z={z}"
                );
                assert!(
                    (eval(&e64, z) - want).abs() <= 2e-15 * want.abs(),
                    "a={a} z={z}"
                );
            }
            assert_eq!(eval(&e32, f32::INFINITY), 0.0);
            assert!(eval(&e32, f32::NAN).is_nan() && eval(&e64, f64::NAN).is_nan());
        }
    }

    #[test]
    fn exp_special_values() {
        assert!(exp_neg::<f32>(f32::NAN).is_nan());
        assert!(exp_neg::<f64>(f64::NAN).is_nan());
        assert!(exp2_neg::<f32>(f32::NAN).is_nan());
        assert_eq!(exp_neg::<f32>(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_neg::<f64>(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp2_neg::<f32>(f32::INFINITY), 0.0);
        assert_eq!(exp2_neg::<f64>(f64::INFINITY), 0.0);
        assert_eq!(exp_neg::<f32>(-1e30), 0.0);
        assert_eq!(exp_neg::<f64>(-1e300), 0.0);
        assert_eq!(exp2_neg::<f32>(127.0), 0.0);
        assert_eq!(exp2_neg::<f64>(1023.0), 0.0);
        assert_eq!(exp_neg::<f32>(0.0), 1.0);
        assert_eq!(exp_neg::<f32>(-0.0), 1.0);
        assert_eq!(exp_neg::<f64>(0.0), 1.0);
        assert_eq!(exp2_neg::<f32>(1.0), 0.5);
        assert_eq!(exp2_neg::<f64>(3.0), 0.125);
        // Gradual underflow below the normal range, never negative or NaN.
        let tiny = exp2_neg::<f32>(126.0);
        assert!(tiny > 0.0 && tiny < 2e-38, "{tiny}");
        for z in [125.7f32, 126.2, 126.49, 126.51, 126.9] {
            let v = exp2_neg::<f32>(z);
            assert!((0.0..2e-38).contains(&v), "z={z} v={v}");
        }
    }
}
