//! The refractory period of brainpy.state's `*Ref` models, written once for
//! any of them: a clock state `r` (the time since the last spike, `inf`
//! before the first) and three constants, `dt`, `tau_ref` and `1/dt` (a
//! multiplication per step instead of a division).
//!
//! ```text
//! e  = (round(r (1/dt)) + 1) dt      the time since the last spike at this step
//! refractory = e < tau_ref           the held states replace the step's (hold)
//! r' = 0 where the new state fired, else e
//! ```
//!
//! `e` is a step count times `dt`, so the clock does not drift with
//! rounding over a long sequence, and it does not depend on the absolute time
//! (a continued sequence equals one run). Nothing here is differentiated
//! (brainpy.state's `stop_gradient`): a `*Ref` model's tangent and transpose
//! are those of the held branch where refractory and of the base step
//! elsewhere, and the clock's tangent and cotangent are zero.

use crate::math::{round, Real};

/// `(e, refractory)` of the clock state `r` at this step.
#[inline(always)]
pub(crate) fn clock<R: Real>(r: R, dt: R, tau_ref: R, inv_dt: R) -> (R, bool) {
    let e = (round(r * inv_dt) + R::from_f64(1.0)) * dt;
    (e, e < tau_ref)
}

/// `held` where refractory, else `new` (a select: the mask has no derivative).
#[inline(always)]
pub(crate) fn hold<R: Real>(refractory: bool, held: R, new: R) -> R {
    if refractory {
        held
    } else {
        new
    }
}

/// The next clock state: 0 where the new state fired, else `e`.
#[inline(always)]
pub(crate) fn restart<R: Real>(fired: bool, e: R) -> R {
    if fired {
        R::from_f64(0.0)
    } else {
        e
    }
}
