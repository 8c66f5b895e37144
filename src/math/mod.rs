//! Scalar math written so that LLVM vectorizes the loops that call it: no libm
//! calls, no branches, no float-to-int conversions.
//!
//! - `exp`: `exp_neg_f32`, `exp_neg_f64` (arguments <= 0).
//! - `real`: the [`Real`] trait (f32, f64) the generic functions are written against.
//! - `special`: `exp` of any sign, `ln`, `sinpi`, `logistic_slope`, `round`,
//!   `parity_sign`, `poly`.

mod exp;
mod real;
mod special;

pub use exp::{
    exp2_neg_f32, exp2_neg_f64, exp_neg_f32, exp_neg_f64, ScaledExp2F32, ScaledExp2F64,
    SHORT_EXP2_F32_ERROR,
};
pub use real::Real;
pub use special::{exp, ln, logistic_slope, parity_sign, poly, round, sinpi};
