//! The leaky integrate-and-fire neuron of brainpy.state (`brainpy.state.LIF`),
//! unitless. Constants `c = [decay, bias, drive, V_th, V_reset]` with
//! `decay = exp(-dt/tau)`, `bias = (1 - decay) V_rest`, `drive = (1 - decay) R`;
//! state `z = [V]`:
//!
//! ```text
//! u(V) = (V - V_th) / (V_th - V_reset)
//! V'   = decay (V - r s) + bias + drive x     r = V_th - V_reset (soft) or V - V_reset (hard)
//! ```

use super::model::{reset, reset_jvp, reset_vjp, threshold_u, Model};
use crate::math::Real;

/// brainpy.state's LIF.
pub struct Lif;

const DECAY: usize = 0;
const BIAS: usize = 1;
const DRIVE: usize = 2;
const TH: usize = 3;
const RESET: usize = 4;

impl Model<1, 5> for Lif {
    const NAME: &'static str = "lif";
    const STATES: [&'static str; 1] = ["V"];
    const CONSTS: [&'static str; 5] = ["decay", "bias", "drive", "V_th", "V_reset"];

    threshold_u!(1, 5);

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 5], z: &[R; 1], x: R, s: R) -> [R; 1] {
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        [c[DECAY] * u + (c[BIAS] + c[DRIVE] * x)]
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 5],
        z: &[R; 1],
        x: R,
        s: R,
        dz: &[R; 1],
        dx: R,
        ds: R,
        dc: &[R; 5],
    ) -> [R; 1] {
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        [dc[DECAY] * u + c[DECAY] * du + dc[BIAS] + dc[DRIVE] * x + c[DRIVE] * dx]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 5],
        z: &[R; 1],
        x: R,
        s: R,
        lam: &[R; 1],
        lc: &mut [R; 5],
    ) -> ([R; 1], R, R) {
        let l = lam[0];
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        lc[DECAY] = lc[DECAY] + l * u;
        lc[BIAS] = lc[BIAS] + l;
        lc[DRIVE] = lc[DRIVE] + l * x;
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, c[DECAY] * l, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        ([lv], c[DRIVE] * l, ct_s)
    }
}
