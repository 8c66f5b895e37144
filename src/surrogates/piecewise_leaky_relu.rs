//! braintools' `PiecewiseLeakyRelu`: `g'(x) = c` where `|x| > w`, else `1 / (2w)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::{nonzero, unpack};
use crate::math::Real;

pub(crate) struct PiecewiseLeakyRelu;

impl Formula for PiecewiseLeakyRelu {
    const NAME: &'static str = "piecewise_leaky_relu";
    const PARAMS: &'static [&'static str] = &["c", "w"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [c, w] = unpack(params)?;
        let w = nonzero("w", w)?;
        coeffs([w, c, 1.0 / (2.0 * w)])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        // A NaN input takes the inner value, as braintools' `where(|x| > w, ...)` does.
        if x.abs() > c[0] {
            c[1]
        } else {
            c[2]
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
            if x.abs() > p[1] {
                p[0]
            } else {
                1.0 / (2.0 * p[1])
            }
        };
        check::<PiecewiseLeakyRelu>(
            &[&[0.01, 1.0], &[0.1, 0.5], &[0.0, 2.0], &[0.01, -1.0]],
            &[1.0, 0.5, 2.0],
            reference,
        );
        rejects::<PiecewiseLeakyRelu>(&[&[0.01, 0.0]]);
    }
}
