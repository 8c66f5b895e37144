//! Horner's rule, the one polynomial evaluation of `math`.

use super::Real;

/// `c[0] z^(n-1) + c[1] z^(n-2) + ... + c[n-1]` with one rounding per step (fused
/// multiply-adds): the `exp` polynomials, whose error bounds assume it.
#[inline(always)]
pub(crate) fn horner_fma<R: Real>(c: &[R], z: R) -> R {
    horner_with(c, |acc, k| acc.mul_add(z, k))
}

/// As [`horner_fma`] with a multiply and an add per step: the `ln` and `sinpi`
/// series, whose results (and their accuracy tests) were fixed this way.
#[inline(always)]
pub(crate) fn horner<R: Real>(c: &[R], z: R) -> R {
    horner_with(c, |acc, k| acc * z + k)
}

#[inline(always)]
fn horner_with<R: Real>(c: &[R], step: impl Fn(R, R) -> R) -> R {
    let (first, rest) = c.split_first().expect("a polynomial has a coefficient");
    rest.iter().fold(*first, |acc, &k| step(acc, k))
}
