//! braintools' `InvSquareGrad`: `g'(x) = 1 / (alpha |x| + 1)^2`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct InvSquareGrad;

impl Formula for InvSquareGrad {
    const NAME: &'static str = "inv_square_grad";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let d = c[0] * x.abs() + R::from_f64(1.0);
        R::from_f64(1.0) / (d * d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| 1.0 / (p[0] * x.abs() + 1.0).powi(2);
        check::<InvSquareGrad>(&[&[100.0], &[1.0], &[0.3], &[0.0]], &[], reference);
    }
}
