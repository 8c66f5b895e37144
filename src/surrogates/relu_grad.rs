//! braintools' `ReluGrad`: `g'(x) = max(alpha width - alpha |x|, 0)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct ReluGrad;

impl Formula for ReluGrad {
    const NAME: &'static str = "relu_grad";
    const PARAMS: &'static [&'static str] = &["alpha", "width"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha, width] = unpack(params)?;
        coeffs([alpha * width, alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let v = c[0] - x.abs() * c[1];
        // NaN stays NaN, as jnp.maximum propagates it.
        if v < R::from_f64(0.0) {
            R::from_f64(0.0)
        } else {
            v
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
            let v = p[0] * p[1] - x.abs() * p[0];
            if v.is_nan() {
                v
            } else {
                v.max(0.0)
            }
        };
        check::<ReluGrad>(
            &[&[0.3, 1.0], &[1.0, 0.5], &[-0.3, 1.0], &[0.0, 1.0]],
            &[1.0, 0.5],
            reference,
        );
    }
}
