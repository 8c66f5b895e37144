//! The exponential integrate-and-fire neuron of brainpy.state
//! (`brainpy.state.ExpIF`), unitless, and the exponential-Euler step of its
//! potential that [`super::adex_if`] shares. Constants
//! `c = [h, V_rest, R, V_th, V_reset, V_T, delta_T]` with `h = dt/tau`;
//! state `z = [V]`:
//!
//! ```text
//! u(V) = (V - V_th) / (V_th - V_reset)
//! U = V - r s (the reset),  a = (U - V_T)/delta_T,  e = exp(min(a, 20)),  m = [a < 20]
//! F = -(U - V_rest) + delta_T e + I        (I = R x)
//! V' = U + h exprel(h (m e - 1)) F          (dt f(U) = h F, dt J = h (m e - 1))
//! ```
//!
//! `J`, the derivative of the drift, depends on `U`: the tangents below
//! differentiate through it (through `exprel`'s slope), as autodiff does
//! through brainpy.state's `exp_euler_step`. Past the clamp (`a >= 20`) the
//! exponential's slope is 0.

use super::model::{reset, reset_jvp, reset_vjp, threshold_u, Model};
use crate::math::{exp, exprel_and_slope, Real};

/// brainpy.state's ExpIF.
pub struct ExpIf;

pub(crate) const H: usize = 0;
pub(crate) const REST: usize = 1;
pub(crate) const RES: usize = 2;
pub(crate) const TH: usize = 3;
pub(crate) const RESET: usize = 4;
pub(crate) const VT: usize = 5;
pub(crate) const DELTA: usize = 6;

/// brainpy.state's clamp of the exponent.
const CLAMP: f64 = 20.0;

/// The pieces of `V' = U + h exprel(z) F` at one `(U, I)`.
struct Pieces<R> {
    a: R,
    /// `exp(min(a, 20))`
    e: R,
    /// `e` where `a < 20`, else 0: the slope of `delta_T e` in `U`.
    em: R,
    f: R,
    e1: R,
    e1s: R,
}

#[inline(always)]
fn pieces<R: Real>(h: R, v_rest: R, v_t: R, delta: R, u: R, i: R) -> Pieces<R> {
    let clamp = R::from_f64(CLAMP);
    let a = (u - v_t) / delta;
    let below = a < clamp;
    let e = exp(if below { a } else { clamp });
    let em = if below { e } else { R::from_f64(0.0) };
    let f = delta * e + i - (u - v_rest);
    let (e1, e1s) = exprel_and_slope(h * (em - R::from_f64(1.0)));
    Pieces {
        a,
        e,
        em,
        f,
        e1,
        e1s,
    }
}

/// `V'` from the reset potential `U` and the current term `I`, with the
/// constants `h, V_rest, V_T, delta_T`.
#[inline(always)]
pub(crate) fn v_next<R: Real>(h: R, v_rest: R, v_t: R, delta: R, u: R, i: R) -> R {
    let p = pieces(h, v_rest, v_t, delta, u, i);
    u + h * p.e1 * p.f
}

/// `(V', dV')` from the tangents `d = [dh, dV_rest, dV_T, ddelta_T, dU, dI]`.
#[inline(always)]
pub(crate) fn v_next_jvp<R: Real>(
    h: R,
    v_rest: R,
    v_t: R,
    delta: R,
    u: R,
    i: R,
    d: [R; 6],
) -> (R, R) {
    let [dh, drest, dvt, ddelta, du, di] = d;
    let p = pieces(h, v_rest, v_t, delta, u, i);
    let da = (du - dvt - p.a * ddelta) / delta;
    let de = p.em * da; // the tangent of e, and of em (0 past the clamp)
    let df = ddelta * p.e + delta * de + di - (du - drest);
    let dz = dh * (p.em - R::from_f64(1.0)) + h * de;
    let v = u + h * p.e1 * p.f;
    (
        v,
        du + dh * p.e1 * p.f + h * p.e1s * dz * p.f + h * p.e1 * df,
    )
}

/// The transpose of [`v_next_jvp`] for the cotangent `l` of `V'`: the
/// cotangents `[h, V_rest, V_T, delta_T, U, I]`.
#[inline(always)]
pub(crate) fn v_next_vjp<R: Real>(h: R, v_rest: R, v_t: R, delta: R, u: R, i: R, l: R) -> [R; 6] {
    let p = pieces(h, v_rest, v_t, delta, u, i);
    let lf = l * h * p.e1;
    let lz = l * h * p.e1s * p.f;
    let lh = l * p.e1 * p.f + lz * (p.em - R::from_f64(1.0));
    let la = (lf * delta + lz * h) * p.em / delta; // through de = em da, da = (.)/delta
    [lh, lf, -la, lf * p.e - la * p.a, l - lf + la, lf]
}

impl Model<1, 7> for ExpIf {
    const NAME: &'static str = "exp_if";
    const STATES: [&'static str; 1] = ["V"];
    const CONSTS: [&'static str; 7] = ["h", "V_rest", "R", "V_th", "V_reset", "V_T", "delta_T"];

    threshold_u!(1, 7);

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 7], z: &[R; 1], x: R, s: R) -> [R; 1] {
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        [v_next(c[H], c[REST], c[VT], c[DELTA], u, c[RES] * x)]
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 7],
        z: &[R; 1],
        x: R,
        s: R,
        dz: &[R; 1],
        dx: R,
        ds: R,
        dc: &[R; 7],
    ) -> [R; 1] {
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        let di = dc[RES] * x + c[RES] * dx;
        let d = [dc[H], dc[REST], dc[VT], dc[DELTA], du, di];
        [v_next_jvp(c[H], c[REST], c[VT], c[DELTA], u, c[RES] * x, d).1]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 7],
        z: &[R; 1],
        x: R,
        s: R,
        lam: &[R; 1],
        lc: &mut [R; 7],
    ) -> ([R; 1], R, R) {
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let [lh, lrest, lvt, ldelta, lu, li] =
            v_next_vjp(c[H], c[REST], c[VT], c[DELTA], u, c[RES] * x, lam[0]);
        lc[H] = lc[H] + lh;
        lc[REST] = lc[REST] + lrest;
        lc[VT] = lc[VT] + lvt;
        lc[DELTA] = lc[DELTA] + ldelta;
        lc[RES] = lc[RES] + li * x;
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, lu, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        ([lv], li * c[RES], ct_s)
    }
}
