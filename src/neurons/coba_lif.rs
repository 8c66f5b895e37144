//! The conductance-based LIF neuron of brainpy.state (`brainpy.state.CobaLIF`),
//! unitless, with the input entering the conductance `g` as a delta input each
//! step (as in [`super::cuba_lif`]). Constants
//! `c = [h, V_rest, R, E, V_th, V_reset, decay_syn]` with `h = dt/tau`,
//! `decay_syn = exp(-dt/tau_syn)`; state `z = [V, g]`:
//!
//! ```text
//! u(V) = (V - V_th) / (V_th - V_reset)
//! g' = decay_syn g + x,   q = R g',   U = V - r s (the reset)
//! F = -(U - V_rest) + q (E - U)             (dt f(U) = h F)
//! V' = U + h exprel(-h (1 + q)) F           (dt J = -h (1 + q): depends on g')
//! ```

use super::model::{reset, reset_jvp, reset_vjp, threshold_u, Model};
use crate::math::{exprel_and_slope, Real};

/// brainpy.state's CobaLIF.
pub struct CobaLif;

const H: usize = 0;
const REST: usize = 1;
const RES: usize = 2;
const E: usize = 3;
const TH: usize = 4;
const RESET: usize = 5;
const DECAY_SYN: usize = 6;

impl Model<2, 7> for CobaLif {
    const NAME: &'static str = "coba_lif";
    const STATES: [&'static str; 2] = ["V", "g"];
    const CONSTS: [&'static str; 7] = ["h", "V_rest", "R", "E", "V_th", "V_reset", "decay_syn"];

    threshold_u!(2, 7);

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 7], z: &[R; 2], x: R, s: R) -> [R; 2] {
        let g = c[DECAY_SYN] * z[1] + x;
        let q = c[RES] * g;
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let f = q * (c[E] - u) - (u - c[REST]);
        let (e1, _) = exprel_and_slope(-(c[H] * (R::from_f64(1.0) + q)));
        [u + c[H] * e1 * f, g]
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 7],
        z: &[R; 2],
        x: R,
        s: R,
        dz: &[R; 2],
        dx: R,
        ds: R,
        dc: &[R; 7],
    ) -> [R; 2] {
        let one = R::from_f64(1.0);
        let g = c[DECAY_SYN] * z[1] + x;
        let dg = dc[DECAY_SYN] * z[1] + c[DECAY_SYN] * dz[1] + dx;
        let (q, dq) = (c[RES] * g, dc[RES] * g + c[RES] * dg);
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        let f = q * (c[E] - u) - (u - c[REST]);
        let df = dq * (c[E] - u) + q * (dc[E] - du) - (du - dc[REST]);
        let (e1, e1s) = exprel_and_slope(-(c[H] * (one + q)));
        let dzj = -(dc[H] * (one + q) + c[H] * dq);
        [
            du + dc[H] * e1 * f + c[H] * e1s * dzj * f + c[H] * e1 * df,
            dg,
        ]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 7],
        z: &[R; 2],
        x: R,
        s: R,
        lam: &[R; 2],
        lc: &mut [R; 7],
    ) -> ([R; 2], R, R) {
        let one = R::from_f64(1.0);
        let l = lam[0];
        let g = c[DECAY_SYN] * z[1] + x;
        let q = c[RES] * g;
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let f = q * (c[E] - u) - (u - c[REST]);
        let (e1, e1s) = exprel_and_slope(-(c[H] * (one + q)));
        let lf = l * c[H] * e1;
        let lzj = l * c[H] * e1s * f; // the cotangent of dt J = -h (1 + q)
        lc[H] = lc[H] + l * e1 * f - lzj * (one + q);
        lc[REST] = lc[REST] + lf;
        lc[E] = lc[E] + lf * q;
        let lq = lf * (c[E] - u) - lzj * c[H];
        lc[RES] = lc[RES] + lq * g;
        let lg = lam[1] + lq * c[RES]; // the cotangent of g'
        lc[DECAY_SYN] = lc[DECAY_SYN] + lg * z[1];
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, l - lf * (one + q), &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        ([lv, c[DECAY_SYN] * lg], lg, ct_s)
    }
}
