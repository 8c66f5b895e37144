//! braintools' `Arctan`: `g'(x) = alpha / (2 (1 + (pi/2 alpha x)^2))`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct Arctan;

impl Formula for Arctan {
    const NAME: &'static str = "arctan";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha * 0.5, std::f64::consts::FRAC_PI_2 * alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let z = c[1] * x;
        c[0] / (R::from_f64(1.0) + z * z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| {
            p[0] * 0.5 / (1.0 + (std::f64::consts::PI / 2.0 * p[0] * x).powi(2))
        };
        check::<Arctan>(&[&[1.0], &[3.0], &[0.2], &[-2.0], &[0.0]], &[], reference);
    }
}
