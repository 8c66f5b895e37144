//! Special functions written once for every [`Real`] type, branch-free (selects
//! only) and without libm calls, so that loops over them vectorize.

use super::exp::{exp2, exp_neg};
use super::poly::horner;
use super::Real;

#[inline(always)]
fn c<R: Real>(v: f64) -> R {
    R::from_f64(v)
}

/// `e^a` for any `a` (NaN gives NaN, overflow gives inf), relative error a few ulp:
/// `2^(a log2 e)` ([`exp2`], no division).
#[inline(always)]
pub(crate) fn exp<R: Real>(a: R) -> R {
    exp2(a * R::LOG2_E)
}

/// `a e^{k x^2}` for `k <= 0`: a Gaussian bell (NaN gives NaN, `±inf` gives 0 for `k < 0`).
#[inline(always)]
pub(crate) fn gaussian<R: Real>(a: R, k: R, x: R) -> R {
    a * exp_neg(k * (x * x))
}

/// The slope of the logistic function at `z`: `s(z) (1 - s(z)) = e / (1 + e)^2`
/// with `e = e^{-|z|}`, accurate in both tails (NaN gives NaN, `±inf` gives 0).
#[inline(always)]
pub(crate) fn logistic_slope<R: Real>(z: R) -> R {
    let e = exp_neg(-z.abs());
    let d = c::<R>(1.0) + e;
    e / (d * d)
}

/// The natural logarithm: `ln 0 = -inf`, `ln inf = inf`, NaN for `x < 0` or NaN.
/// Relative error a few ulp (the atanh series of the mantissa).
#[inline(always)]
pub(crate) fn ln<R: Real>(x: R) -> R {
    let tiny = x < R::MIN_POSITIVE;
    let scaled = if tiny { x * R::SUBNORMAL_SCALE } else { x };
    let (m, e) = scaled.split_exponent();
    let e = if tiny { e - R::SUBNORMAL_LOG2 } else { e };
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172.
    let s = (m - c(1.0)) / (m + c(1.0));
    let ln_m = c::<R>(2.0) * s * horner(R::ATANH, s * s);
    let y = e * R::LN2_HI + (e * R::LN2_LO + ln_m);
    let inf = c::<R>(f64::INFINITY);
    if x == c(0.0) {
        -inf
    } else if x == inf {
        inf
    } else if x > c(0.0) {
        y
    } else {
        c(f64::NAN)
    }
}

/// `sin(pi y)`, exact at integers (0) and half-integers (±1); NaN for NaN or `±inf`.
#[inline(always)]
pub(crate) fn sinpi<R: Real>(y: R) -> R {
    let k = round(y);
    // Beyond 2^(mantissa bits - 1) every float is an even integer: sin = 0 (y * 0 keeps NaN, inf -> NaN).
    let exact_range = R::ROUND_MAGIC * c(1.0 / 3.0);
    let r = if y.abs() < exact_range {
        y - k
    } else {
        y * c(0.0)
    };
    // (-1)^k: k/2 minus its nearest integer is ±1/2 for odd k, 0 for even k.
    parity_sign(k) * r * horner(R::SINPI, r * r)
}

/// `y` rounded to the nearest integer (ties to even), for `|y| < 2^(mantissa bits - 1)`.
#[inline(always)]
pub(crate) fn round<R: Real>(y: R) -> R {
    (y + R::ROUND_MAGIC) - R::ROUND_MAGIC
}

/// `(-1)^k` for an integer-valued `k`: `k/2` minus its nearest integer is ±1/2 for odd `k`.
#[inline(always)]
pub(crate) fn parity_sign<R: Real>(k: R) -> R {
    let half = k * c(0.5);
    let odd = (half - round(half)).abs();
    c::<R>(1.0) - c::<R>(4.0) * odd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f64> {
        (-2000..=2000).map(|i| i as f64 * 0.0173)
    }

    #[test]
    fn exp_any_sign() {
        for a in grid().map(|v| v * 20.0) {
            let want = a.exp();
            let rel = |got: f64| ((got - want) / want).abs();
            // exp2 in f64 is within ~1e-15 relative, plus 1.1e-16 |a| from the
            // rounding of a log2 e.
            assert!(rel(exp(a)) < 4e-15 + 2.5e-16 * a.abs(), "a={a}");
            if a.abs() < 87.0 {
                assert!(
                    // f32: ~3e-7 relative, plus 6e-8 |a| from the rounding of a log2 e.
                    rel(exp(a as f32) as f64 / (a as f32 as f64 - a).exp())
                        < 8e-7 + 1.2e-7 * a.abs(),
                    "a={a}"
                );
            }
        }
        assert_eq!(exp(1000.0f64), f64::INFINITY);
        assert_eq!(exp(89.0f32), f32::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn ln_is_accurate() {
        for v in
            grid()
                .map(|v| (v * 10.0).exp())
                .chain([1.0, 1.5, 2.0, 0.7, 1e-310, 1e300, f64::MAX])
        {
            let want = v.ln();
            let got = ln(v);
            assert!(
                (got - want).abs() <= 4e-16 * want.abs().max(1e-300) + 1e-300,
                "v={v} {got} {want}"
            );
            let vf = v as f32;
            if vf > 0.0 && vf.is_finite() {
                let wf = (vf as f64).ln();
                assert!(
                    (ln(vf) as f64 - wf).abs() <= 3e-7 * wf.abs().max(1e-7),
                    "v={vf}"
                );
            }
        }
        assert_eq!(ln(0.0f64), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0f32), f32::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1.0f32).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(1.0f64), 0.0);
        assert!((ln(1e-40f32) as f64 - (1e-40f32 as f64).ln()).abs() < 1e-5);
    }

    #[test]
    fn sinpi_is_accurate() {
        for y in grid().chain([0.5, 1.0, -2.5, 1e10 + 0.25, 3e15]) {
            let want = (std::f64::consts::PI * (y - y.round())).sin()
                * if y.round() as i64 % 2 == 0 { 1.0 } else { -1.0 };
            assert!(
                (sinpi(y) - want).abs() <= 4e-16 * want.abs() + 1e-300,
                "y={y}"
            );
            let yf = y as f32;
            let wf = sinpi(yf as f64);
            assert!(
                (sinpi(yf) as f64 - wf).abs() <= 2.5e-7 * wf.abs().max(1e-30),
                "y={yf}"
            );
        }
        assert_eq!(sinpi(1.0f64), 0.0);
        assert_eq!(sinpi(0.5f32), 1.0);
        assert_eq!(sinpi(-1.5f64), 1.0);
        assert_eq!(sinpi(1e20f64), 0.0);
        assert!(sinpi(f32::INFINITY).is_nan() && sinpi(f64::NAN).is_nan());
    }

    #[test]
    fn logistic_slope_tails() {
        for z in grid().map(|v| v * 10.0) {
            let e = (-z.abs()).exp();
            let want = e / ((1.0 + e) * (1.0 + e));
            assert!((logistic_slope(z) - want).abs() <= 1e-13 * want, "z={z}");
        }
        assert_eq!(logistic_slope(f64::INFINITY), 0.0);
        assert!(logistic_slope(f32::NAN).is_nan());
    }
}
