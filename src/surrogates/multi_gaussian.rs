//! braintools' `MultiGaussianGrad`:
//! `g'(x) = scale * [(1+h) N(x; 0, sigma^2) - h N(x; sigma, (s sigma)^2) - h N(x; -sigma, (s sigma)^2)]`.

use super::params::{positive, unpack};
use super::Surrogate;
use crate::math::{Exp2F32, Exp2F32Short, Exp2Fit, Real, ScaledExp2, SHORT_EXP2_F32_ERROR};

/// `a0 e^{k0 x^2} - a1 (e^{k1 (x-mu)^2} + e^{k1 (x+mu)^2})`, evaluated as
/// `a0 2^-(c0 x)^2 - a1 (2^-(c1 x - c1 mu)^2 + 2^-(c1 x + c1 mu)^2)` with
/// `c = sqrt(-k log2 e)`: each exponential is one (fused) multiply, one square
/// and one `exp2`. `a0` is folded into the center polynomial; `a1` multiplies
/// the sum of the two side terms, so that a side term near the bottom of the
/// normal range is not flushed to zero (XLA runs with flush-to-zero) before
/// it is added to the other one.
///
/// `Side` is the `2^f` polynomial of the f32 side terms: `Exp2F32` (full
/// accuracy), or `Exp2F32Short` when the side Gaussians weigh so little in the
/// result that its error stays far below the f32 budget ([`short_sides_suffice`]).
pub(crate) struct MultiGaussianWith<Side: Exp2Fit<f32>> {
    f64: Coefficients<f64>,
    f32: Coefficients<f32, Side>,
}

/// The full-accuracy form: the type other code and tests name.
pub(crate) type MultiGaussian = MultiGaussianWith<Exp2F32>;
/// The form with the shorter f32 side polynomials.
pub(crate) type MultiGaussianShortSides = MultiGaussianWith<Exp2F32Short>;

struct Coefficients<R: Real, Side: Exp2Fit<R> = <R as Real>::Exp2> {
    c0: R,
    c1: R,
    c1_mu: R,
    a1: R,
    center: ScaledExp2<R>,
    side: ScaledExp2<R, Side>,
}

/// `(a0, k0, a1, k1, mu)` from braintools' parameters, validated.
fn gaussians(params: &[f64]) -> Result<[f64; 5], String> {
    let [h, s, sigma, scale] = unpack(params)?;
    let s = positive("s", s)?;
    let sigma = positive("sigma", sigma)?;
    let inv_sqrt_2pi = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let side_sigma = s * sigma;
    let a0 = scale * (1.0 + h) * inv_sqrt_2pi / sigma;
    let k0 = -0.5 / (sigma * sigma);
    let a1 = scale * h * inv_sqrt_2pi / side_sigma;
    let k1 = -0.5 / (side_sigma * side_sigma);
    Ok([a0, k0, a1, k1, sigma])
}

/// Whether the short side polynomials keep the f32 result within budget: their
/// error, at most `2 |a1| SHORT_EXP2_F32_ERROR`, must stay under 1e-6 of
/// `|g'(0)|` (a lower bound of the peak), half the 2e-6-of-peak budget; the
/// rest covers the center term and rounding. False for invalid parameters.
pub(crate) fn short_sides_suffice(params: &[f64]) -> bool {
    let Ok([a0, _, a1, k1, mu]) = gaussians(params) else {
        return false;
    };
    let g0 = a0 - 2.0 * a1 * (k1 * mu * mu).exp();
    2.0 * a1.abs() * SHORT_EXP2_F32_ERROR <= 1e-6 * g0.abs()
}

impl<Side: Exp2Fit<f32>> Surrogate for MultiGaussianWith<Side> {
    const NAME: &'static str = "multi_gaussian";
    const PARAMS: &'static [&'static str] = &["h", "s", "sigma", "scale"];

    fn new(params: &[f64]) -> Result<Self, String> {
        let [a0, k0, a1, k1, mu] = gaussians(params)?;
        let c0 = (-k0 * std::f64::consts::LOG2_E).sqrt();
        let c1 = (-k1 * std::f64::consts::LOG2_E).sqrt();
        Ok(Self {
            f64: Coefficients::new(a0, a1, c0, c1, mu),
            f32: Coefficients::new(a0, a1, c0, c1, mu),
        })
    }

    #[inline(always)]
    fn grad_f32(&self, x: f32) -> f32 {
        self.f32.grad(x)
    }

    #[inline(always)]
    fn grad_f64(&self, x: f64) -> f64 {
        self.f64.grad(x)
    }
}

impl<R: Real, Side: Exp2Fit<R>> Coefficients<R, Side> {
    /// The coefficients rounded once from f64 to `R`.
    fn new(a0: f64, a1: f64, c0: f64, c1: f64, mu: f64) -> Self {
        Self {
            c0: R::from_f64(c0),
            c1: R::from_f64(c1),
            c1_mu: R::from_f64(c1 * mu),
            a1: R::from_f64(a1),
            center: ScaledExp2::new(a0),
            side: ScaledExp2::new(1.0),
        }
    }

    /// `g'(x)`, written once for f32 and f64.
    #[inline(always)]
    fn grad(&self, x: R) -> R {
        let u0 = self.c0 * x;
        let ul = self.c1.mul_add(x, -self.c1_mu);
        let ur = self.c1.mul_add(x, self.c1_mu);
        let (p0, s0) = self.center.parts(u0 * u0);
        let (pl, sl) = self.side.parts(ul * ul);
        let (pr, sr) = self.side.parts(ur * ur);
        let sides = self.a1 * pl.mul_add(sl, pr * sr);
        p0.mul_add(s0, -sides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The braintools formula, term by term, in f64 with libm exp.
    fn reference(x: f64, h: f64, s: f64, sigma: f64, scale: f64) -> f64 {
        let pdf = |x: f64, mu: f64, sd: f64| {
            (-(x - mu) * (x - mu) / (2.0 * sd * sd)).exp()
                / ((2.0 * std::f64::consts::PI).sqrt() * sd)
        };
        scale
            * ((1.0 + h) * pdf(x, 0.0, sigma)
                - h * pdf(x, sigma, s * sigma)
                - h * pdf(x, -sigma, s * sigma))
    }

    const PARAMS: [[f64; 4]; 4] = [
        [0.15, 6.0, 0.5, 0.5],
        [0.0, 6.0, 0.5, 0.5],
        [0.5, 2.0, 1.5, 2.0],
        [1.0, 0.7, 0.05, 1.0],
    ];

    fn grid() -> impl Iterator<Item = f64> {
        (-4000..=4000)
            .map(|i| i as f64 * 0.0025)
            .chain([-0.0, 1e-30, -1e-30, 37.0, -50.0, 1e6])
    }

    #[test]
    fn f64_matches_reference() {
        for p in PARAMS {
            let k = MultiGaussian::new(&p).unwrap();
            for x in grid() {
                let want = reference(x, p[0], p[1], p[2], p[3]);
                let got = k.grad_f64(x);
                let a0 = p[3] * (1.0 + p[0]) / ((2.0 * std::f64::consts::PI).sqrt() * p[2]);
                let tol = 1e-12 * want.abs() + 1e-15 * a0;
                assert!(
                    (got - want).abs() <= tol,
                    "p={p:?} x={x} got={got} want={want}"
                );
            }
        }
    }

    #[test]
    fn f32_matches_reference() {
        for p in PARAMS {
            let k = MultiGaussian::new(&p).unwrap();
            let peak = (-200..=200)
                .map(|i| reference(i as f64 * 0.01, p[0], p[1], p[2], p[3]).abs())
                .fold(0.0, f64::max);
            for x in grid() {
                let xf = x as f32;
                let want = reference(xf as f64, p[0], p[1], p[2], p[3]);
                let got = k.grad_f32(xf) as f64;
                assert!(
                    (got - want).abs() <= 2e-6 * peak,
                    "p={p:?} x={x} got={got} want={want}"
                );
            }
        }
    }

    /// A sweep of parameters far from the defaults: the f32 kernel stays within
    /// 2e-6 of the peak, the f64 one within 1e-12 relative (plus 1e-15 of the peak).
    #[test]
    fn accuracy_holds_across_parameters() {
        for h in [0.0, 0.15, 1.0, 3.0] {
            for s in [0.5, 1.0, 2.0, 6.0, 20.0] {
                for sigma in [0.05, 0.5, 4.0] {
                    for scale in [0.5, 100.0] {
                        let p = [h, s, sigma, scale];
                        let k = MultiGaussian::new(&p).unwrap();
                        let xs: Vec<f64> =
                            (-3000..=3000).map(|i| i as f64 * sigma * 0.004).collect();
                        let peak = xs
                            .iter()
                            .map(|&x| reference(x, h, s, sigma, scale).abs())
                            .fold(0.0, f64::max);
                        // The form the registry builds where the short sides suffice.
                        let short = short_sides_suffice(&p)
                            .then(|| MultiGaussianShortSides::new(&p).unwrap());
                        for &x in &xs {
                            let xf = x as f32;
                            let want = reference(xf as f64, h, s, sigma, scale);
                            let got = k.grad_f32(xf) as f64;
                            assert!(
                                (got - want).abs() <= 2e-6 * peak,
                                "p={p:?} x={x} got={got} want={want}"
                            );
                            if let Some(short) = &short {
                                let got = short.grad_f32(xf) as f64;
                                assert!(
                                    (got - want).abs() <= 2e-6 * peak,
                                    "short sides p={p:?} x={x} got={got} want={want}"
                                );
                            }
                            let want = reference(x, h, s, sigma, scale);
                            let got = k.grad_f64(x);
                            assert!(
                                (got - want).abs() <= 1e-12 * want.abs() + 1e-15 * peak,
                                "p={p:?} x={x}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn defaults_take_the_short_side_polynomials() {
        assert!(short_sides_suffice(&PARAMS[0]));
        assert!(!short_sides_suffice(&[1.0, 0.7, 0.05, 1.0]));
        assert!(!short_sides_suffice(&[0.15, 0.0, 0.5, 0.5]));
    }

    #[test]
    fn special_values() {
        let k = MultiGaussian::new(&PARAMS[0]).unwrap();
        assert!(k.grad_f32(f32::NAN).is_nan());
        assert!(k.grad_f64(f64::NAN).is_nan());
        for inf in [f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(k.grad_f32(inf), 0.0);
            assert_eq!(k.grad_f64(inf as f64), 0.0);
        }
        assert_eq!(k.grad_f32(0.0), k.grad_f32(-0.0));
        assert_eq!(k.grad_f32(f32::MAX), 0.0);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(MultiGaussian::new(&[0.15, 0.0, 0.5, 0.5]).is_err());
        assert!(MultiGaussian::new(&[0.15, 6.0, -0.5, 0.5]).is_err());
        assert!(MultiGaussian::new(&[0.15, 6.0]).is_err());
    }
}
