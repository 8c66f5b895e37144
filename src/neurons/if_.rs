//! The integrate-and-fire neuron of brainpy.state (`brainpy.state.IF`),
//! unitless. Constants `c = [decay, drive, V_th]` with `decay = exp(-dt/tau)`,
//! `drive = (1 - decay) R`; state `z = [V]`:
//!
//! ```text
//! u(V) = (V - V_th) / V_th
//! V'   = decay (V - r s) + drive x     r = V_th (soft) or V (hard)
//! ```
//!
//! It is [`super::lif`] with `V_reset = V_rest = 0`: the same shared reset and
//! `u` derivatives, with a zero `V_reset` that has no tangent.

use super::model::{reset, reset_jvp, reset_vjp, scaled, u_cotangent, u_tangent, Model};
use crate::math::Real;

/// brainpy.state's IF.
pub struct If;

const DECAY: usize = 0;
const DRIVE: usize = 1;
const TH: usize = 2;

impl Model<1, 3> for If {
    const NAME: &'static str = "if";
    const STATES: [&'static str; 1] = ["V"];
    const CONSTS: [&'static str; 3] = ["decay", "drive", "V_th"];

    #[inline(always)]
    fn scale<R: Real>(c: &[R; 3]) -> R {
        R::from_f64(1.0) / c[TH]
    }

    #[inline(always)]
    fn u<R: Real>(c: &[R; 3], k: R, z: &[R; 1]) -> R {
        scaled(z[0], c[TH], k)
    }

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 3], z: &[R; 1], x: R, s: R) -> [R; 1] {
        let (u, _) = reset::<R, HARD>(z[0], c[TH], R::from_f64(0.0), s);
        [c[DECAY] * u + c[DRIVE] * x]
    }

    #[inline(always)]
    fn u_jvp<R: Real>(c: &[R; 3], k: R, z: &[R; 1], dz: &[R; 1], dc: &[R; 3]) -> R {
        u_tangent(k, Self::u(c, k, z), dz[0], dc[TH], R::from_f64(0.0))
    }

    #[inline(always)]
    fn u_vjp<R: Real>(c: &[R; 3], k: R, z: &[R; 1], w: R, lz: &mut [R; 1], lc: &mut [R; 3]) {
        let u = Self::u(c, k, z);
        let (mut lth, mut lreset) = (lc[TH], R::from_f64(0.0));
        lz[0] = lz[0] + u_cotangent(k, u, w, &mut lth, &mut lreset);
        lc[TH] = lth;
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 3],
        z: &[R; 1],
        x: R,
        s: R,
        dz: &[R; 1],
        dx: R,
        ds: R,
        dc: &[R; 3],
    ) -> [R; 1] {
        let zero = R::from_f64(0.0);
        let (u, r) = reset::<R, HARD>(z[0], c[TH], zero, s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], zero);
        [dc[DECAY] * u + c[DECAY] * du + dc[DRIVE] * x + c[DRIVE] * dx]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 3],
        z: &[R; 1],
        x: R,
        s: R,
        lam: &[R; 1],
        lc: &mut [R; 3],
    ) -> ([R; 1], R, R) {
        let l = lam[0];
        let (u, r) = reset::<R, HARD>(z[0], c[TH], R::from_f64(0.0), s);
        lc[DECAY] = lc[DECAY] + l * u;
        lc[DRIVE] = lc[DRIVE] + l * x;
        let (mut lth, mut lreset) = (lc[TH], R::from_f64(0.0));
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, c[DECAY] * l, &mut lth, &mut lreset);
        lc[TH] = lth;
        ([lv], c[DRIVE] * l, ct_s)
    }
}
