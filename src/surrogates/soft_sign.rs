//! braintools' `SoftSign`: `g'(x) = alpha / (2 (1 + |alpha x|)^2)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct SoftSign;

impl Formula for SoftSign {
    const NAME: &'static str = "soft_sign";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha * 0.5, alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let d = R::from_f64(1.0) + (c[1] * x).abs();
        c[0] / (d * d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| p[0] * 0.5 / (1.0 + (p[0] * x).abs()).powi(2);
        check::<SoftSign>(&[&[1.0], &[4.0], &[0.3], &[-2.0], &[0.0]], &[], reference);
    }
}
