//! braintools' `GaussianGrad`: `g'(x) = alpha * N(x; 0, sigma^2)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::{positive, unpack};
use crate::math::{gaussian, Real};

pub(crate) struct Gaussian;

impl Formula for Gaussian {
    const NAME: &'static str = "gaussian";
    const PARAMS: &'static [&'static str] = &["sigma", "alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [sigma, alpha] = unpack(params)?;
        let sigma = positive("sigma", sigma)?;
        coeffs([
            alpha / ((2.0 * std::f64::consts::PI).sqrt() * sigma),
            -0.5 / (sigma * sigma),
        ])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        gaussian(c[0], c[1], x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::{check, rejects};
    use crate::surrogates::{Native, Surrogate};

    /// Against the f64 formula at the f64 input (so the f32 bound includes the
    /// rounding of `x` to f32, through the slope `x / sigma^2` of the exponent).
    #[test]
    fn matches_reference() {
        for [sigma, alpha] in [[0.5, 0.5], [1.0, 2.0], [0.1, 1.0]] {
            let k = Native::<Gaussian>::new(&[sigma, alpha]).unwrap();
            for i in -3000..=3000 {
                let x = i as f64 * 0.002;
                let want = alpha * (-x * x / (2.0 * sigma * sigma)).exp()
                    / ((2.0 * std::f64::consts::PI).sqrt() * sigma);
                assert!((k.grad_f64(x) - want).abs() <= 1e-12 * want.abs() + 1e-300);
                let peak = alpha / ((2.0 * std::f64::consts::PI).sqrt() * sigma);
                assert!(
                    (k.grad_f32(x as f32) as f64 - want).abs()
                        <= 2e-6 * peak
                            + 1e-6 * (x - x as f32 as f64).abs() * peak / (sigma * sigma)
                );
            }
        }
        rejects::<Gaussian>(&[&[0.0, 1.0], &[-0.5, 1.0]]);
    }

    /// The shared formula check: the f32 kernel at the f32 input, special values.
    #[test]
    fn passes_the_formula_check() {
        let reference = |x: f64, p: &[f64]| {
            p[1] * (-x * x / (2.0 * p[0] * p[0])).exp()
                / ((2.0 * std::f64::consts::PI).sqrt() * p[0])
        };
        check::<Gaussian>(&[&[0.5, 0.5], &[1.0, 2.0], &[0.1, -1.0]], &[], reference);
    }
}
