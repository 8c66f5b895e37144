//! The adaptive exponential integrate-and-fire neuron of brainpy.state
//! (`brainpy.state.AdExIF`), unitless. Constants
//! `c = [h, V_rest, R, V_th, V_reset, V_T, delta_T, k_w, a, b]` with
//! `h = dt/tau`, `k_w = 1 - exp(-dt/tau_w)`; state `z = [V, w]`:
//!
//! ```text
//! u(V) = (V - V_th) / (V_th - V_reset)
//! w1 = w + b s                               (bumped first)
//! V' = the ExpIF step of U = V - r s with I = R (x - w1)   (super::exp_if)
//! w' = w1 + k_w (a (V' - V_rest) - w1)       (exponential Euler, J = -1/tau_w: exact)
//! ```

use super::exp_if::{v_next, v_next_jvp, v_next_vjp, DELTA, H, RES, RESET, REST, TH, VT};
use super::model::{reset, reset_jvp, reset_vjp, threshold_u, Model};
use crate::math::Real;

/// brainpy.state's AdExIF.
pub struct AdExIf;

const KW: usize = 7;
const A: usize = 8;
const B: usize = 9;

impl Model<2, 10> for AdExIf {
    const NAME: &'static str = "adex_if";
    const STATES: [&'static str; 2] = ["V", "w"];
    const CONSTS: [&'static str; 10] = [
        "h", "V_rest", "R", "V_th", "V_reset", "V_T", "delta_T", "k_w", "a", "b",
    ];

    threshold_u!(2, 10);

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 10], z: &[R; 2], x: R, s: R) -> [R; 2] {
        let w1 = z[1] + c[B] * s;
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let v = v_next(c[H], c[REST], c[VT], c[DELTA], u, c[RES] * (x - w1));
        [v, w1 + c[KW] * (c[A] * (v - c[REST]) - w1)]
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 10],
        z: &[R; 2],
        x: R,
        s: R,
        dz: &[R; 2],
        dx: R,
        ds: R,
        dc: &[R; 10],
    ) -> [R; 2] {
        let w1 = z[1] + c[B] * s;
        let dw1 = dz[1] + dc[B] * s + c[B] * ds;
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        let di = dc[RES] * (x - w1) + c[RES] * (dx - dw1);
        let d = [dc[H], dc[REST], dc[VT], dc[DELTA], du, di];
        let (v, dv) = v_next_jvp(c[H], c[REST], c[VT], c[DELTA], u, c[RES] * (x - w1), d);
        let target = c[A] * (v - c[REST]);
        let dtarget = dc[A] * (v - c[REST]) + c[A] * (dv - dc[REST]);
        [dv, dw1 + dc[KW] * (target - w1) + c[KW] * (dtarget - dw1)]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 10],
        z: &[R; 2],
        x: R,
        s: R,
        lam: &[R; 2],
        lc: &mut [R; 10],
    ) -> ([R; 2], R, R) {
        let (l, lw) = (lam[0], lam[1]);
        let w1 = z[1] + c[B] * s;
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let i = c[RES] * (x - w1);
        let v = v_next(c[H], c[REST], c[VT], c[DELTA], u, i);
        // w' = (1 - k_w) w1 + k_w a (V' - V_rest)
        let lt = lw * c[KW]; // the cotangent of a (V' - V_rest)
        lc[KW] = lc[KW] + lw * (c[A] * (v - c[REST]) - w1);
        lc[A] = lc[A] + lt * (v - c[REST]);
        let lv_next = l + lt * c[A];
        let [lh, lrest, lvt, ldelta, lu, li] =
            v_next_vjp(c[H], c[REST], c[VT], c[DELTA], u, i, lv_next);
        lc[H] = lc[H] + lh;
        lc[REST] = lc[REST] + lrest - lt * c[A];
        lc[VT] = lc[VT] + lvt;
        lc[DELTA] = lc[DELTA] + ldelta;
        lc[RES] = lc[RES] + li * (x - w1);
        let lw1 = lw - lt - li * c[RES];
        lc[B] = lc[B] + lw1 * s;
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, lu, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        ([lv, lw1], li * c[RES], ct_s + lw1 * c[B])
    }
}
