//! braintools' `LogTailedRelu`: `g'(x) = 1/x` where `x > 1`, 1 where `0 < x <= 1`, else `alpha`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct LogTailedRelu;

impl Formula for LogTailedRelu {
    const NAME: &'static str = "log_tailed_relu";
    const PARAMS: &'static [&'static str] = &["alpha"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha] = unpack(params)?;
        coeffs([alpha])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        let one = R::from_f64(1.0);
        let tail = one / x;
        // NaN fails both tests and takes alpha, as in braintools.
        if x > one {
            tail
        } else if x > R::from_f64(0.0) {
            one
        } else {
            c[0]
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
            if x > 1.0 {
                1.0 / x
            } else if x > 0.0 {
                1.0
            } else {
                p[0]
            }
        };
        check::<LogTailedRelu>(&[&[0.0], &[0.1], &[-0.5]], &[1.0], reference);
    }
}
