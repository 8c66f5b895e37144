//! braintools' `Sigmoid`: `g'(x) = alpha s(alpha x) (1 - s(alpha x))`, `s` the logistic function.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{logistic_slope, Real};

pub(crate) struct Sigmoid;

impl Formula for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        c[0] * logistic_slope(x * c[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        // s (1 - s) written as e / (1 + e)^2, e = exp(-|z|), exact in both tails.
        check::<Sigmoid>(&[&[4.0], &[1.0], &[0.3], &[-2.0], &[0.0]], &[], |x, p| {
            let e = (-(x * p[0]).abs()).exp();
            p[0] * e / ((1.0 + e) * (1.0 + e))
        });
    }
}
