//! braintools' `PiecewiseQuadratic`: `g'(x) = alpha - alpha^2 |x|` where `|x| <= 1/alpha`, else 0.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::{nonzero, unpack};
use crate::math::Real;

pub(crate) struct PiecewiseQuadratic;

impl Formula for PiecewiseQuadratic {
    const NAME: &'static str = "piecewise_quadratic";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        let alpha = nonzero("alpha", alpha)?;
        coeffs([1.0 / alpha, alpha, alpha * alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let ax = x.abs();
        let inside = c[1] - c[2] * ax;
        if ax > c[0] {
            R::from_f64(0.0)
        } else {
            inside
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::{check, rejects};

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| {
            if x.abs() > 1.0 / p[0] {
                0.0
            } else {
                p[0] - p[0] * p[0] * x.abs()
            }
        };
        check::<PiecewiseQuadratic>(
            &[&[1.0], &[2.0], &[0.7], &[-1.0]],
            &[1.0, 0.5, 1.0 / 0.7],
            reference,
        );
        rejects::<PiecewiseQuadratic>(&[&[0.0], &[]]);
    }
}
