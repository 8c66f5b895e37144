//! The current-based LIF neuron of brainpy.state (`brainpy.state.CubaLIF`),
//! unitless, with the input entering the synaptic current `g` as a delta input
//! each step (as a projection delivers it). Constants
//! `c = [decay, bias, drive, V_th, V_reset, decay_syn]`
//! (`decay_syn = exp(-dt/tau_syn)`, the rest as [`super::lif`]); state `z = [V, g]`:
//!
//! ```text
//! u(V) = (V - V_th) / (V_th - V_reset)
//! g' = decay_syn g + x,   V' = decay (V - r s) + bias + drive g'
//! ```

use super::model::{reset, reset_jvp, reset_vjp, threshold_u, Model};
use crate::math::Real;

/// brainpy.state's CubaLIF.
pub struct CubaLif;

const DECAY: usize = 0;
const BIAS: usize = 1;
const DRIVE: usize = 2;
const TH: usize = 3;
const RESET: usize = 4;
const DECAY_SYN: usize = 5;

impl Model<2, 6> for CubaLif {
    const NAME: &'static str = "cuba_lif";
    const STATES: [&'static str; 2] = ["V", "g"];
    const CONSTS: [&'static str; 6] = ["decay", "bias", "drive", "V_th", "V_reset", "decay_syn"];

    threshold_u!(2, 6);

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 6], z: &[R; 2], x: R, s: R) -> [R; 2] {
        let g = c[DECAY_SYN] * z[1] + x;
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        [c[DECAY] * u + (c[BIAS] + c[DRIVE] * g), g]
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 6],
        z: &[R; 2],
        x: R,
        s: R,
        dz: &[R; 2],
        dx: R,
        ds: R,
        dc: &[R; 6],
    ) -> [R; 2] {
        let g = c[DECAY_SYN] * z[1] + x;
        let dg = dc[DECAY_SYN] * z[1] + c[DECAY_SYN] * dz[1] + dx;
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        [
            dc[DECAY] * u + c[DECAY] * du + dc[BIAS] + dc[DRIVE] * g + c[DRIVE] * dg,
            dg,
        ]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 6],
        z: &[R; 2],
        x: R,
        s: R,
        lam: &[R; 2],
        lc: &mut [R; 6],
    ) -> ([R; 2], R, R) {
        let l = lam[0];
        let g = c[DECAY_SYN] * z[1] + x;
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        lc[DECAY] = lc[DECAY] + l * u;
        lc[BIAS] = lc[BIAS] + l;
        lc[DRIVE] = lc[DRIVE] + l * g;
        let lg = lam[1] + c[DRIVE] * l; // the cotangent of g'
        lc[DECAY_SYN] = lc[DECAY_SYN] + lg * z[1];
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, c[DECAY] * l, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        ([lv, c[DECAY_SYN] * lg], lg, ct_s)
    }
}
