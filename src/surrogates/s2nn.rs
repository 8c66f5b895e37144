//! braintools' `S2NN`: `g'(x) = alpha s(alpha x) (1 - s(alpha x))` for `x < 0`,
//! `beta / (x + 1)` otherwise (`epsilon` only enters `surrogate_fun`).

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{logistic_slope, Real};

pub(crate) struct S2nn;

impl Formula for S2nn {
    const NAME: &'static str = "s2nn";
    const PARAMS: &'static [&'static str] = &["alpha", "beta", "epsilon"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha, beta, _epsilon] = unpack(params)?;
        coeffs([alpha, beta])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let left = c[0] * logistic_slope(c[0] * x);
        let right = c[1] / (x + R::from_f64(1.0));
        // NaN is not < 0: it takes the right branch (NaN), as in braintools.
        if x < R::from_f64(0.0) {
            left
        } else {
            right
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| {
            if x < 0.0 {
                let e = (-(p[0] * x).abs()).exp();
                p[0] * e / ((1.0 + e) * (1.0 + e))
            } else {
                p[1] / (x + 1.0)
            }
        };
        check::<S2nn>(
            &[&[4.0, 1.0, 1e-8], &[1.0, 0.5, 0.0], &[-2.0, 2.0, 1e-3]],
            &[],
            reference,
        );
    }
}
