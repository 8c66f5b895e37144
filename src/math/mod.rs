//! Scalar math written once for f32 and f64 so that LLVM vectorizes the loops
//! that call it: no libm calls, no branches, no float-to-int conversions.
//!
//! - `coeffs`: polynomial coefficients (the `2^f` fits, the `sin(pi r)` and `atanh` series).
//! - `real`: the [`Real`] trait (f32, f64) the generic functions are written against.
//! - `poly`: Horner's rule.
//! - `exp`: `exp_neg` (arguments <= 0), `exp2_neg`, `exp2` (any sign, no division) and
//!   `ScaledExp2` (`a 2^-z`), which formulas reach through `special` (MultiGaussian uses
//!   `ScaledExp2` directly).
//! - `special`: `exp` of any sign, `gaussian`, `ln`, `sinpi`, `logistic_slope`, `round`,
//!   `parity_sign`.
//! - `exprel`: `(e^z - 1)/z` and its slope, the exponential-Euler factor.

mod coeffs;
mod exp;
mod exprel;
mod poly;
mod real;
mod special;

pub(crate) use coeffs::{Exp2F32, Exp2F32Short, Exp2Fit, SHORT_EXP2_F32_ERROR};
pub(crate) use exp::ScaledExp2;
pub(crate) use exprel::exprel_and_slope;
pub(crate) use real::Real;
pub(crate) use special::{exp, gaussian, ln, logistic_slope, parity_sign, round, sinpi};
