//! braintools' `QPseudoSpike`: `g'(x) = (1 + 2/(alpha+1) |x|)^{-alpha}`, with the
//! special cases of C's `pow` (which jnp.power follows): `b^0 = 1` even for NaN or
//! inf `b`, a negative base gives a signed result for an integer exponent and NaN otherwise.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{exp, ln, Real};

pub(crate) struct QPseudoSpike;

impl Formula for QPseudoSpike {
    const NAME: &'static str = "q_pseudo_spike";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        if alpha == -1.0 {
            return Err("alpha must not be -1 (2 / (alpha + 1) divides by zero)".into());
        }
        let p = -alpha;
        // b^p for b < 0 is |b|^p times this: -1 for an odd p, 1 for an even p, and
        // for other p NaN, except at b = -inf (+inf or 0, as C's pow).
        let odd = (p * 0.5).fract().abs() == 0.5;
        let sign = if odd { -1.0 } else { 1.0 };
        let finite_negative = if p.fract() != 0.0 { f64::NAN } else { sign };
        coeffs([2.0 / (alpha + 1.0), p, finite_negative, sign])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let zero = R::from_f64(0.0);
        let b = R::from_f64(1.0) + c[0] * x.abs();
        let magnitude = exp(c[1] * ln(b.abs()));
        let negative = if b == R::from_f64(f64::NEG_INFINITY) {
            c[3]
        } else {
            c[2]
        };
        let signed = if b < zero {
            magnitude * negative
        } else {
            magnitude
        };
        if c[1] == zero {
            R::from_f64(1.0)
        } else {
            signed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::{check, rejects};

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| (1.0 + 2.0 / (p[0] + 1.0) * x.abs()).powf(-p[0]);
        let params: &[&[f64]] = &[&[2.0], &[0.5], &[5.0], &[0.0], &[-0.5], &[-3.0], &[-2.5]];
        check::<QPseudoSpike>(params, &[0.75, 1.0], reference);
        rejects::<QPseudoSpike>(&[&[-1.0]]);
    }
}
