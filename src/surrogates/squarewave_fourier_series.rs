//! braintools' `SquarewaveFourierSeries`:
//! `g'(x) = 4/T sum_{i=1..n} cos((2i - 1) 2 pi x / T)`.
//!
//! Computed in closed form, `sum_{i=1..n} cos((2i-1) t) = sin(2 n t) / (2 sin t)`,
//! after reducing `x` modulo the period `T` (Cody-Waite, `T` split in two) and
//! then modulo `T/2` (where the sum changes sign), so that it is accurate for
//! large `|x|` and any `n`. braintools runs its loop once even for `n < 1`,
//! so `n` counts as `max(n, 1)`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::{nonzero, unpack};
use crate::math::{parity_sign, round, sinpi, Real};

pub(crate) struct SquarewaveFourierSeries;

impl Formula for SquarewaveFourierSeries {
    const NAME: &'static str = "squarewave_fourier_series";
    const PARAMS: &'static [&'static str] = &["n", "t_period"];
    const F32_VIA_F64: bool = true;

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [n, t] = unpack(params)?;
        if n.fract() != 0.0 {
            return Err(format!("n must be an integer, got {n}"));
        }
        let t = nonzero("t_period", t)?;
        let terms = n.max(1.0);
        // T = t_hi + t_lo with t_hi on 26 bits, so k * t_hi is exact for |k| < 2^27.
        let t_hi = f64::from_bits(t.to_bits() & !((1u64 << 27) - 1));
        coeffs([
            4.0 * terms,
            t_hi,
            t - t_hi,
            1.0 / t,
            2.0 / t,
            4.0 * terms / t,
        ])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let [four_n, t_hi, t_lo, inv_t, two_over_t, peak] = *c;
        let k = round(x * inv_t);
        let u = ((x - k * t_hi) - k * t_lo) * inv_t; // x / T reduced to about [-1/2, 1/2]
        let m = round(u + u);
        let v = u - m * R::from_f64(0.5); // [-1/4, 1/4]; the sum flips sign per half period
        let num = sinpi(four_n * v);
        let den = sinpi(v + v);
        let g = if den == R::from_f64(0.0) {
            peak
        } else {
            two_over_t * num / den
        };
        parity_sign(m) * g
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::{check_with, rejects};

    #[test]
    fn matches_reference() {
        // braintools' loop, on x reduced exactly modulo T (the % of floats is exact).
        let reference = |x: f64, p: &[f64]| {
            let w = std::f64::consts::PI * 2.0 / p[1];
            let r = x % p[1];
            let mut dx = (w * r).cos();
            for i in 2..=(p[0] as i64) {
                dx += ((2 * i - 1) as f64 * w * r).cos();
            }
            dx * 4.0 / p[1]
        };
        let params: &[&[f64]] = &[
            &[2.0, 8.0],
            &[1.0, 8.0],
            &[5.0, 0.3],
            &[0.0, 8.0],
            &[-3.0, 2.0],
            &[3.0, -4.0],
            &[40.0, 10.0],
        ];
        // The reference's n rounded phases leave it about n * 1e-16 of the peak off.
        check_with::<SquarewaveFourierSeries>(params, &[2.0, 4.0, 1.0, 0.15], 1e-13, reference);
        rejects::<SquarewaveFourierSeries>(&[&[2.5, 8.0], &[2.0, 0.0]]);
    }
}
