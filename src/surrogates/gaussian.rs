//! braintools' `GaussianGrad`: `g'(x) = alpha * N(x; 0, sigma^2)`.

use super::{positive, Surrogate};
use crate::math::{exp_neg_f32, exp_neg_f64};

#[derive(Debug, Clone, Copy)]
pub struct Gaussian {
    a: f64,
    k: f64,
    f32: [f32; 2],
}

impl Surrogate for Gaussian {
    const NAME: &'static str = "gaussian";
    const PARAMS: &'static [&'static str] = &["sigma", "alpha"];

    fn new(params: &[f64]) -> Result<Self, String> {
        let [sigma, alpha] = params else {
            return Err(format!("expected 2 parameters, got {}", params.len()));
        };
        let sigma = positive("sigma", *sigma)?;
        let a = alpha / ((2.0 * std::f64::consts::PI).sqrt() * sigma);
        let k = -0.5 / (sigma * sigma);
        Ok(Self {
            a,
            k,
            f32: [a as f32, k as f32],
        })
    }

    #[inline(always)]
    fn grad_f32(&self, x: f32) -> f32 {
        let [a, k] = self.f32;
        a * exp_neg_f32(k * (x * x))
    }

    #[inline(always)]
    fn grad_f64(&self, x: f64) -> f64 {
        self.a * exp_neg_f64(self.k * (x * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference() {
        for [sigma, alpha] in [[0.5, 0.5], [1.0, 2.0], [0.1, 1.0]] {
            let k = Gaussian::new(&[sigma, alpha]).unwrap();
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
        assert!(Gaussian::new(&[0.0, 1.0]).is_err());
    }
}
