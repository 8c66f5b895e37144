//! Branch-free exponentials for f32 and f64, written so that LLVM vectorizes a
//! loop that calls them: no libm calls, no branches, no float-to-int conversions.
//!
//! The core is `2^-z` for `z >= 0` ([`exp2_neg_f32`], [`exp2_neg_f64`]):
//! `m = round(z)` by the "add 1.5 * 2^mantissa_bits" trick (the integer lands in
//! the low mantissa bits, so no conversion instruction is needed), `f = m - z`
//! exactly in `[-1/2, 1/2]`, a polynomial for `2^f` in Horner form with fused
//! multiply-adds, and `2^-m` built from exponent bits. Working in base 2 saves
//! the two-part `ln 2` reduction of a base-e exp; a surrogate folds `log2(e)`
//! into its coefficients once per call. [`exp_neg_f32`] / [`exp_neg_f64`] give
//! `e^a` for `a <= 0` on top of it for callers that have not folded it.
//!
//! Fused multiply-adds (`mul_add`) are exact-then-rounded everywhere: a vector
//! FMA instruction in the AVX2/AVX-512/NEON kernels, the libm `fma` on a CPU
//! without one. So every code path gives the same bits on every machine.
//!
//! Accuracy: the f32 polynomial (degree 5) is within 2.3e-7 relative of `2^f`,
//! the f64 one (degree 10) within 6e-16; with rounding, `exp2_neg_f32` is within
//! about 3e-7 relative and `exp2_neg_f64` within 1e-15 relative. Where the true
//! value is below the normal range it is computed with gradual underflow down
//! to `2^-126` (f32) / `2^-1022` (f64) times the polynomial, and flushed to 0
//! where `z >= 126.5` (f32) / `1022.5` (f64). A NaN argument gives NaN.

/// 1.5 * 2^23: adding it rounds an f32 in [0, 2^22) to an integer in the low mantissa bits.
const F32_MAGIC: f32 = 12_582_912.0;
/// 127 - m is the biased exponent of 2^-m; m = 127 gives the bits of +0.0.
const F32_MAX_Z: f32 = 127.0;
/// `(2^f - 1) / f` on `[-1/2, 1/2]`, Chebyshev fit, highest degree first.
/// (Fit coefficients as printed by the fit; the compiler rounds them once.)
#[allow(clippy::excessive_precision)]
const F32_POLY: [f32; 5] = [
    1.338_130_3e-3,
    9.666_368_5e-3,
    5.550_381e-2,
    2.402_234_9e-1,
    6.931_472e-1,
];

const F64_MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
const F64_MAX_Z: f64 = 1023.0;
/// A shorter fit (degree 4 in all), within 7e-6 relative of `2^f`: for terms
/// whose weight in a sum is small enough that this error is negligible.
#[allow(clippy::excessive_precision)]
const F32_POLY_SHORT: [f32; 4] = [
    9.656_710_288_54e-3,
    5.583_828_294_62e-2,
    2.402_253_009_74e-1,
    6.931_367_338_84e-1,
];
/// Relative error bound of `ScaledExp2F32::<5>` (fit 7e-6 plus rounding).
pub const SHORT_EXP2_F32_ERROR: f64 = 7.4e-6;

#[allow(clippy::excessive_precision)]
const F64_POLY: [f64; 10] = [
    7.070_977_866_508_138_6e-9,
    1.020_590_541_376_559_6e-7,
    1.321_545_163_322_143_4e-6,
    1.525_267_292_485_073_6e-5,
    1.540_353_042_477_652_8e-4,
    1.333_355_820_079_459_3e-3,
    9.618_129_107_618_665_6e-3,
    5.550_410_866_465_167_2e-2,
    2.402_265_069_591_007_6e-1,
    6.931_471_805_599_461_6e-1,
];

/// Range reduction for f32: `(f, 2^-m)` with `z = m - f`, `m = round(min(z, 127))`.
#[inline(always)]
fn reduce_f32(z: f32) -> (f32, f32) {
    // `z > MAX` is false for NaN, so NaN survives the clamp.
    let z = if z > F32_MAX_Z { F32_MAX_Z } else { z };
    let shifted = z + F32_MAGIC;
    let f = (shifted - F32_MAGIC) - z; // exact: m and z are within 1/2 of each other
                                       // shifted's bits are MAGIC's plus m, so this is (127 - m) << 23.
    let scale = f32::from_bits(
        (F32_MAGIC.to_bits() + 127)
            .wrapping_sub(shifted.to_bits())
            .wrapping_shl(23),
    );
    (f, scale)
}

/// Range reduction for f64, as [`reduce_f32`] with `m <= 1023`.
#[inline(always)]
fn reduce_f64(z: f64) -> (f64, f64) {
    let z = if z > F64_MAX_Z { F64_MAX_Z } else { z };
    let shifted = z + F64_MAGIC;
    let f = (shifted - F64_MAGIC) - z;
    let scale = f64::from_bits(
        (F64_MAGIC.to_bits() + 1023)
            .wrapping_sub(shifted.to_bits())
            .wrapping_shl(52),
    );
    (f, scale)
}

/// Horner evaluation with fused multiply-adds, highest degree first.
#[inline(always)]
fn horner_f32(poly: &[f32], f: f32) -> f32 {
    let mut p = poly[0];
    for &c in &poly[1..] {
        p = p.mul_add(f, c);
    }
    p
}

#[inline(always)]
fn horner_f64(poly: &[f64], f: f64) -> f64 {
    let mut p = poly[0];
    for &c in &poly[1..] {
        p = p.mul_add(f, c);
    }
    p
}

/// `2^-z` for `z >= 0` (or NaN) in f32. See the module docs for accuracy.
#[inline(always)]
pub fn exp2_neg_f32(z: f32) -> f32 {
    let (f, scale) = reduce_f32(z);
    horner_f32(&F32_POLY, f).mul_add(f, 1.0) * scale
}

/// `2^-z` for `z >= 0` (or NaN) in f64. See the module docs for accuracy.
#[inline(always)]
pub fn exp2_neg_f64(z: f64) -> f64 {
    let (f, scale) = reduce_f64(z);
    horner_f64(&F64_POLY, f).mul_add(f, 1.0) * scale
}

/// `a * 2^-z` for a fixed coefficient `a`, with `a` folded into the
/// polynomial (one multiply less per call). `N` is the number of polynomial
/// coefficients: 6 (the default) has the accuracy of [`exp2_neg_f32`]; 5 is
/// one fused multiply-add cheaper, within [`SHORT_EXP2_F32_ERROR`] relative.
/// The two factors are returned separately as `(a p(f), 2^-m)` so that a
/// caller can fuse their product into a sum.
#[derive(Debug, Clone, Copy)]
pub struct ScaledExp2F32<const N: usize = 6> {
    poly: [f32; N],
}

impl<const N: usize> ScaledExp2F32<N> {
    pub fn new(a: f64) -> Self {
        let fit: &[f32] = match N {
            6 => &F32_POLY,
            5 => &F32_POLY_SHORT,
            _ => panic!("ScaledExp2F32 has polynomials with 5 or 6 coefficients, not {N}"),
        };
        let mut poly = [a as f32; N];
        for (p, c) in poly.iter_mut().zip(fit) {
            *p = (a * *c as f64) as f32;
        }
        Self { poly }
    }

    /// `(a p(f), 2^-m)` with `a * 2^-z = a p(f) * 2^-m`, for `z >= 0` or NaN.
    #[inline(always)]
    pub fn parts(&self, z: f32) -> (f32, f32) {
        let (f, scale) = reduce_f32(z);
        (horner_f32(&self.poly, f), scale)
    }

    #[inline(always)]
    pub fn eval(&self, z: f32) -> f32 {
        let (p, scale) = self.parts(z);
        p * scale
    }
}

/// The f64 counterpart of [`ScaledExp2F32`].
#[derive(Debug, Clone, Copy)]
pub struct ScaledExp2F64 {
    poly: [f64; 11],
}

impl ScaledExp2F64 {
    pub fn new(a: f64) -> Self {
        let mut poly = [a; 11];
        for (p, c) in poly.iter_mut().zip(F64_POLY) {
            *p = a * c;
        }
        Self { poly }
    }

    /// `(a p(f), 2^-m)` with `a * 2^-z = a p(f) * 2^-m`, for `z >= 0` or NaN.
    #[inline(always)]
    pub fn parts(&self, z: f64) -> (f64, f64) {
        let (f, scale) = reduce_f64(z);
        (horner_f64(&self.poly, f), scale)
    }

    #[inline(always)]
    pub fn eval(&self, z: f64) -> f64 {
        let (p, scale) = self.parts(z);
        p * scale
    }
}

/// `e^a` for `a <= 0` (or NaN) in f32: `2^(-a log2 e)`. The rounding of the
/// product adds a relative error of about `6e-8 |a|`, which never exceeds
/// `2.2e-8` of `e^0 = 1` in absolute terms.
#[inline(always)]
pub fn exp_neg_f32(a: f32) -> f32 {
    exp2_neg_f32(a * -std::f32::consts::LOG2_E)
}

/// `e^a` for `a <= 0` (or NaN) in f64: relative error below `1e-13` for `a >= -708`
/// (mostly the rounding of `a log2 e`, about `1.1e-16 |a|`).
#[inline(always)]
pub fn exp_neg_f64(a: f64) -> f64 {
    exp2_neg_f64(a * -std::f64::consts::LOG2_E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp2_f32_matches_f64_reference() {
        let mut worst = 0.0f64;
        let mut z = 0.0f32;
        while z <= 125.0 {
            let got = exp2_neg_f32(z) as f64;
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
            let got = exp2_neg_f64(z);
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
            let got = exp_neg_f32(a) as f64;
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
            let got = exp_neg_f64(a);
            let want = a.exp();
            worst = worst.max(((got - want) / want).abs());
            a += 0.0137;
        }
        assert!(worst < 1e-13, "worst relative error {worst}");
    }

    #[test]
    fn scaled_matches_coefficient_times_exp2() {
        for a in [1.0, 0.39894, -3.7e5, 1.3e-20] {
            let (e32, e64) = (ScaledExp2F32::<6>::new(a), ScaledExp2F64::new(a));
            let short = ScaledExp2F32::<5>::new(a);
            for i in 0..17_600 {
                let z = i as f64 * 0.0071;
                let want = a * (-z).exp2();
                let got = e32.eval(z as f32) as f64;
                let want32 = a * (-(z as f32 as f64)).exp2();
                assert!(
                    (got - want32).abs() <= 4e-7 * want32.abs() + 3e-45,
                    "a={a} z={z}"
                );
                let got = short.eval(z as f32) as f64;
                assert!(
                    (got - want32).abs() <= SHORT_EXP2_F32_ERROR * want32.abs() + 3e-45,
                    "a={a} z={z}"
                );
                assert!(
                    (e64.eval(z) - want).abs() <= 2e-15 * want.abs(),
                    "a={a} z={z}"
                );
            }
            assert_eq!(e32.eval(f32::INFINITY), 0.0);
            assert!(e32.eval(f32::NAN).is_nan() && e64.eval(f64::NAN).is_nan());
        }
    }

    #[test]
    fn exp_special_values() {
        assert!(exp_neg_f32(f32::NAN).is_nan());
        assert!(exp_neg_f64(f64::NAN).is_nan());
        assert!(exp2_neg_f32(f32::NAN).is_nan());
        assert_eq!(exp_neg_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_neg_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp2_neg_f32(f32::INFINITY), 0.0);
        assert_eq!(exp2_neg_f64(f64::INFINITY), 0.0);
        assert_eq!(exp_neg_f32(-1e30), 0.0);
        assert_eq!(exp_neg_f64(-1e300), 0.0);
        assert_eq!(exp2_neg_f32(127.0), 0.0);
        assert_eq!(exp2_neg_f64(1023.0), 0.0);
        assert_eq!(exp_neg_f32(0.0), 1.0);
        assert_eq!(exp_neg_f32(-0.0), 1.0);
        assert_eq!(exp_neg_f64(0.0), 1.0);
        assert_eq!(exp2_neg_f32(1.0), 0.5);
        assert_eq!(exp2_neg_f64(3.0), 0.125);
        // Gradual underflow below the normal range, never negative or NaN.
        let tiny = exp2_neg_f32(126.0);
        assert!(tiny > 0.0 && tiny < 2e-38, "{tiny}");
        for z in [125.7f32, 126.2, 126.49, 126.51, 126.9] {
            let v = exp2_neg_f32(z);
            assert!((0.0..2e-38).contains(&v), "z={z} v={v}");
        }
    }
}
