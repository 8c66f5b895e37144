//! `exprel(z) = (e^z - 1)/z` and its slope: the factor of brainpy.state's
//! exponential-Euler step `x + dt exprel(dt J) f(x)` (the neurons whose `J`
//! depends on the state differentiate through it). Branch-free (selects
//! only), accurate near `z = 0` where the closed forms cancel.

use super::poly::horner_fma;
use super::special::exp;
use super::Real;

/// `|z|` up to which the Taylor series are used (their coefficients,
/// `Real::EXPREL*`, are enough for the precision there).
const SERIES_RADIUS: f64 = 1.0;

/// `(exprel(z), exprel'(z))`: the Taylor series for `|z| <= 1`, else
/// `(e^z - 1)/z` and `((z - 1) exprel(z) + 1)/z`, which lose at most about two
/// bits to cancellation there. Overflow gives `inf` for both (`z > 709` in
/// f64, `88` in f32, as `expm1(z)/z` does), `z -> -inf` gives `(-1/z, 1/z^2)`,
/// NaN gives NaN.
#[inline(always)]
pub(crate) fn exprel_and_slope<R: Real>(z: R) -> (R, R) {
    let one = R::from_f64(1.0);
    let near = z.abs() <= R::from_f64(SERIES_RADIUS);
    // The closed forms at a safe argument where the series is taken (no 0/0).
    let zf = if near { R::from_f64(2.0) } else { z };
    // One division for both (a multiply by the reciprocal costs one more rounding).
    let inv = one / zf;
    let value_far = (exp(zf) - one) * inv;
    let slope_far = ((zf - one) * value_far + one) * inv;
    let value_near = horner_fma(R::EXPREL, z);
    let slope_near = horner_fma(R::EXPREL_SLOPE, z);
    if near {
        (value_near, slope_near)
    } else {
        (value_far, slope_far)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exprel and its slope in f64 from the expm1 closed forms far from 0
    /// and a long series near it.
    fn reference(z: f64) -> (f64, f64) {
        if z.abs() > 0.1 {
            let v = z.exp_m1() / z;
            (v, ((z - 1.0) * z.exp() + 1.0) / (z * z))
        } else {
            let (mut v, mut s, mut term) = (0.0, 0.0, 1.0); // term = z^k/(k+1)!
            for k in 0..30 {
                v += term;
                s += term * (k + 1) as f64 / (k + 2) as f64;
                term *= z / (k + 2) as f64;
            }
            (v, s)
        }
    }

    #[test]
    fn exprel_matches_the_reference() {
        let zs = (-4000..=4000).map(|i| i as f64 * 0.0025).chain([
            0.0,
            -0.0,
            1e-300,
            -1e-12,
            1.0,
            -1.0,
            1.0 + 1e-15,
            30.0,
            -50.0,
            700.0,
        ]);
        for z in zs {
            let (v, s) = reference(z);
            let (gv, gs) = exprel_and_slope(z);
            // `exp`'s own error grows like the rounding of its argument.
            let tol = 3e-14 + 5e-16 * z.abs();
            assert!(
                (gv - v).abs() <= tol * v.abs(),
                "f64 value z={z}: {gv} vs {v}"
            );
            assert!(
                (gs - s).abs() <= 2.0 * tol * s.abs(),
                "f64 slope z={z}: {gs} vs {s}"
            );
            if z.abs() < 80.0 {
                let zf = z as f32;
                let (v, s) = reference(zf as f64);
                let (gv, gs) = exprel_and_slope(zf);
                let tol = 5e-6 + 2e-7 * z.abs();
                assert!((gv as f64 - v).abs() <= tol * v.abs(), "f32 value z={zf}");
                assert!(
                    (gs as f64 - s).abs() <= 4.0 * tol * s.abs(),
                    "f32 slope z={zf}"
                );
            }
        }
        assert_eq!(exprel_and_slope(0.0f64), (1.0, 0.5));
        assert_eq!(exprel_and_slope(0.0f32), (1.0, 0.5));
        let (v, s) = exprel_and_slope(1000.0f64);
        assert!(v == f64::INFINITY && s == f64::INFINITY);
        // Far below 0 the slope's closed form cancels (z - 1) exprel(z) against -1:
        // relative error about 1/(|z| ulp), as in brainpy.state's own form.
        let (v, s) = exprel_and_slope(-1e6f64);
        assert!((v - 1e-6).abs() < 1e-20 && (s - 1e-12).abs() < 1e-9 * 1e-12);
        assert!(exprel_and_slope(f32::NAN).0.is_nan());
    }
}
