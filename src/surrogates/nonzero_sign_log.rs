//! braintools' `NonzeroSignLog`: `g'(x) = 1 / (1/alpha + |x|)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::{nonzero, unpack};
use crate::math::Real;

pub(crate) struct NonzeroSignLog;

impl Formula for NonzeroSignLog {
    const NAME: &'static str = "nonzero_sign_log";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([1.0 / nonzero("alpha", alpha)?])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        R::from_f64(1.0) / (c[0] + x.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::{check, rejects};

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| 1.0 / (1.0 / p[0] + x.abs());
        check::<NonzeroSignLog>(&[&[1.0], &[4.0], &[0.5], &[-1.0]], &[1.0], reference);
        rejects::<NonzeroSignLog>(&[&[0.0], &[1.0, 2.0]]);
    }
}
