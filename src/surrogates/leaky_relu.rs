//! braintools' `LeakyRelu`: `g'(x) = alpha` where `x < 0`, else `beta`.

use super::formula::{coeffs, Coeffs, Formula};
use super::params::unpack;
use crate::math::Real;

pub(crate) struct LeakyRelu;

impl Formula for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const PARAMS: &'static [&'static str] = &["alpha", "beta"];

    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String> {
        let [alpha, beta] = unpack(params)?;
        coeffs([alpha, beta])
    }

    #[inline(always)]
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R {
        // NaN is not < 0: it takes beta, as in braintools.
        if x < R::from_f64(0.0) {
            c[0]
        } else {
            c[1]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::formula::testing::check;

    #[test]
    fn matches_reference() {
        let reference = |x: f64, p: &[f64]| if x < 0.0 { p[0] } else { p[1] };
        check::<LeakyRelu>(&[&[0.1, 1.0], &[0.5, 2.0], &[-1.0, 0.0]], &[], reference);
    }
}
