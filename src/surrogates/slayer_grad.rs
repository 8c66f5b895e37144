//! braintools' `SlayerGrad`: `g'(x) = e^{-alpha |x|}`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::{exp, Real};

pub(crate) struct SlayerGrad;

impl Formula for SlayerGrad {
    const NAME: &'static str = "slayer_grad";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([-alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        exp(c[0] * x.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| (-p[0] * x.abs()).exp();
        check::<SlayerGrad>(&[&[1.0], &[5.0], &[0.2], &[-0.1], &[0.0]], &[], reference);
    }
}
