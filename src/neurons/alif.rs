//! The adaptive LIF neuron of brainpy.state (`brainpy.state.ALIF`), unitless.
//! Constants `c = [decay, bias, drive, V_th, V_reset, decay_a, beta]`
//! (`decay_a = exp(-dt/tau_a)`, the rest as [`super::lif`]); state `z = [V, a]`:
//!
//! ```text
//! u(V, a) = (V - V_th - beta a) / (V_th - V_reset)
//! V' = decay (V - r s) + bias + drive x,   a' = decay_a (a + s)
//! ```

use super::model::{reset, reset_jvp, reset_vjp, scaled, u_cotangent, u_tangent, Model};
use crate::math::Real;

/// brainpy.state's ALIF.
pub struct Alif;

const DECAY: usize = 0;
const BIAS: usize = 1;
const DRIVE: usize = 2;
const TH: usize = 3;
const RESET: usize = 4;
const DECAY_A: usize = 5;
const BETA: usize = 6;

impl Model<2, 7> for Alif {
    const NAME: &'static str = "alif";
    const STATES: [&'static str; 2] = ["V", "a"];
    const CONSTS: [&'static str; 7] = [
        "decay", "bias", "drive", "V_th", "V_reset", "decay_a", "beta",
    ];

    #[inline(always)]
    fn scale<R: Real>(c: &[R; 7]) -> R {
        R::from_f64(1.0) / (c[TH] - c[RESET])
    }

    #[inline(always)]
    fn u<R: Real>(c: &[R; 7], k: R, z: &[R; 2]) -> R {
        scaled(z[0], c[TH] + c[BETA] * z[1], k)
    }

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 7], z: &[R; 2], x: R, s: R) -> [R; 2] {
        let (u, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        [
            c[DECAY] * u + (c[BIAS] + c[DRIVE] * x),
            c[DECAY_A] * (z[1] + s),
        ]
    }

    #[inline(always)]
    fn u_jvp<R: Real>(c: &[R; 7], k: R, z: &[R; 2], dz: &[R; 2], dc: &[R; 7]) -> R {
        // u = (V - th - beta a) k: the LIF form with V -> V - beta a.
        let dv = dz[0] - (dc[BETA] * z[1] + c[BETA] * dz[1]);
        u_tangent(k, Self::u(c, k, z), dv, dc[TH], dc[RESET])
    }

    #[inline(always)]
    fn u_vjp<R: Real>(c: &[R; 7], k: R, z: &[R; 2], w: R, lz: &mut [R; 2], lc: &mut [R; 7]) {
        let u = Self::u(c, k, z);
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let lv = u_cotangent(k, u, w, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        lz[0] = lz[0] + lv;
        lz[1] = lz[1] - lv * c[BETA];
        lc[BETA] = lc[BETA] - lv * z[1];
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
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        [
            dc[DECAY] * u + c[DECAY] * du + dc[BIAS] + dc[DRIVE] * x + c[DRIVE] * dx,
            dc[DECAY_A] * (z[1] + s) + c[DECAY_A] * (dz[1] + ds),
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
        let (l, la) = (lam[0], lam[1]);
        let (u, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        lc[DECAY] = lc[DECAY] + l * u;
        lc[BIAS] = lc[BIAS] + l;
        lc[DRIVE] = lc[DRIVE] + l * x;
        lc[DECAY_A] = lc[DECAY_A] + la * (z[1] + s);
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv, ct_s) = reset_vjp::<R, HARD>(s, r, c[DECAY] * l, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        let mu_a = c[DECAY_A] * la;
        ([lv, mu_a], c[DRIVE] * l, ct_s + mu_a)
    }
}
