//! Scalar math written so that LLVM vectorizes the loops that call it: no libm
//! calls, no branches, no float-to-int conversions.

mod exp;

pub use exp::{exp2_neg_f32, exp2_neg_f64, exp_neg_f32, exp_neg_f64, ScaledExp2F32, ScaledExp2F64,
    SHORT_EXP2_F32_ERROR};
