//! braintools' `PiecewiseExp`: `g'(x) = alpha/2 e^{-alpha |x|}`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{exp, Real};

pub(crate) struct PiecewiseExp;

impl Formula for PiecewiseExp {
    const NAME: &'static str = "piecewise_exp";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha / 2.0, -alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        c[0] * exp(c[1] * x.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| p[0] / 2.0 * (-p[0] * x.abs()).exp();
        check::<PiecewiseExp>(&[&[1.0], &[3.0], &[0.5], &[-0.5], &[0.0]], &[], reference);
    }
}
