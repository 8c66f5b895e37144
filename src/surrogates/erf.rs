//! braintools' `ERF`: `g'(x) = alpha / sqrt(pi) e^{-alpha^2 x^2}`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{gaussian, Real};

pub(crate) struct Erf;

impl Formula for Erf {
    const NAME: &'static str = "erf";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha / std::f64::consts::PI.sqrt(), -(alpha * alpha)])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        gaussian(c[0], c[1], x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference =
            |x: f64, p: &[f64]| p[0] / std::f64::consts::PI.sqrt() * (-p[0].powi(2) * x * x).exp();
        check::<Erf>(&[&[1.0], &[3.0], &[0.25], &[-2.0], &[0.0]], &[], reference);
    }
}
