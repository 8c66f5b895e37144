//! The generalized integrate-and-fire neuron of brainpy.state
//! (`brainpy.state.Gif`), unitless. State `z = [V, I1, I2, V_th]`; constants
//! `c = [decay, bias, drive, V_reset, decay_1, decay_2, R1, R2, A1, A2,
//! V_th_reset, decay_th, th_gain, th_bias]` (`decay_j = exp(-k_j dt)`,
//! `decay_th = exp(-b dt)`, `th_gain = a dt exprel(-b dt)`,
//! `th_bias = (1 - decay_th) V_th_inf - th_gain V_rest`, the first three as
//! [`super::lif`]'s). With `s` the spike of `z`:
//!
//! ```text
//! u(z) = (V - V_th) / (V_th - V_reset)         the threshold is a state: scale 1
//! U    = V - r s                               r = V_th - V_reset (soft) or V - V_reset (hard)
//! J_j  = I_j + s (R_j I_j + A_j - I_j),        I_j' = decay_j J_j
//! Th   = V_th + s (max(V_th_reset, V_th) - V_th)
//! V_th' = decay_th Th + th_gain U + th_bias
//! V'   = decay U + bias + drive (I1' + I2' + x)
//! ```
//!
//! `max`'s derivative splits evenly at a tie, as jax's.

use super::model::{reset, reset_jvp, reset_vjp, u_cotangent, u_tangent, Model};
use crate::math::Real;

/// brainpy.state's Gif.
pub struct Gif;

const DECAY: usize = 0;
const BIAS: usize = 1;
const DRIVE: usize = 2;
const RESET: usize = 3;
const D1: usize = 4;
const D2: usize = 5;
const R1: usize = 6;
const R2: usize = 7;
const A1: usize = 8;
const A2: usize = 9;
const TH_RESET: usize = 10;
const DECAY_TH: usize = 11;
const TH_GAIN: usize = 12;
const TH_BIAS: usize = 13;

const V: usize = 0;
const I1: usize = 1;
const I2: usize = 2;
const TH: usize = 3;

/// `(max(a, b), d/da, d/db)`, the derivatives 1/2 each at a tie (jax's `max`).
#[inline(always)]
fn max_with_weights<R: Real>(a: R, b: R) -> (R, R, R) {
    let (one, half, zero) = (R::from_f64(1.0), R::from_f64(0.5), R::from_f64(0.0));
    if a > b {
        (a, one, zero)
    } else if b > a {
        (b, zero, one)
    } else {
        (a, half, half)
    }
}

/// The reset current `J = I + s (R I + A - I)` and its `s`-derivative `R I + A - I`.
#[inline(always)]
fn current_reset<R: Real>(i: R, s: R, r: R, a: R) -> (R, R) {
    let jump = r * i + a - i;
    (i + s * jump, jump)
}

impl Model<4, 14> for Gif {
    const NAME: &'static str = "gif";
    const STATES: [&'static str; 4] = ["V", "I1", "I2", "V_th"];
    const CONSTS: [&'static str; 14] = [
        "decay",
        "bias",
        "drive",
        "V_reset",
        "decay_1",
        "decay_2",
        "R1",
        "R2",
        "A1",
        "A2",
        "V_th_reset",
        "decay_th",
        "th_gain",
        "th_bias",
    ];

    /// 1: `u` divides by the state-dependent `V_th - V_reset` itself.
    #[inline(always)]
    fn scale<R: Real>(_: &[R; 14]) -> R {
        R::from_f64(1.0)
    }

    #[inline(always)]
    fn u<R: Real>(c: &[R; 14], _: R, z: &[R; 4]) -> R {
        (z[V] - z[TH]) / (z[TH] - c[RESET])
    }

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 14], z: &[R; 4], x: R, s: R) -> [R; 4] {
        let (u, _) = reset::<R, HARD>(z[V], z[TH], c[RESET], s);
        let i1 = c[D1] * current_reset(z[I1], s, c[R1], c[A1]).0;
        let i2 = c[D2] * current_reset(z[I2], s, c[R2], c[A2]).0;
        let (m, _, _) = max_with_weights(c[TH_RESET], z[TH]);
        let th = z[TH] + s * (m - z[TH]);
        [
            c[DECAY] * u + (c[BIAS] + c[DRIVE] * (i1 + i2 + x)),
            i1,
            i2,
            c[DECAY_TH] * th + c[TH_GAIN] * u + c[TH_BIAS],
        ]
    }

    #[inline(always)]
    fn u_jvp<R: Real>(c: &[R; 14], _: R, z: &[R; 4], dz: &[R; 4], dc: &[R; 14]) -> R {
        let k = R::from_f64(1.0) / (z[TH] - c[RESET]);
        u_tangent(k, (z[V] - z[TH]) * k, dz[V], dz[TH], dc[RESET])
    }

    #[inline(always)]
    fn u_vjp<R: Real>(c: &[R; 14], _: R, z: &[R; 4], w: R, lz: &mut [R; 4], lc: &mut [R; 14]) {
        let k = R::from_f64(1.0) / (z[TH] - c[RESET]);
        let (mut lth, mut lreset) = (lz[TH], lc[RESET]);
        lz[V] = lz[V] + u_cotangent(k, (z[V] - z[TH]) * k, w, &mut lth, &mut lreset);
        lz[TH] = lth;
        lc[RESET] = lreset;
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 14],
        z: &[R; 4],
        x: R,
        s: R,
        dz: &[R; 4],
        dx: R,
        ds: R,
        dc: &[R; 14],
    ) -> [R; 4] {
        let (u, r) = reset::<R, HARD>(z[V], z[TH], c[RESET], s);
        let du = reset_jvp::<R, HARD>(s, r, dz[V], ds, dz[TH], dc[RESET]);
        let (j1, jump1) = current_reset(z[I1], s, c[R1], c[A1]);
        let (j2, jump2) = current_reset(z[I2], s, c[R2], c[A2]);
        let dj1 = dz[I1] + ds * jump1 + s * (dc[R1] * z[I1] + c[R1] * dz[I1] + dc[A1] - dz[I1]);
        let dj2 = dz[I2] + ds * jump2 + s * (dc[R2] * z[I2] + c[R2] * dz[I2] + dc[A2] - dz[I2]);
        let (i1, i2) = (c[D1] * j1, c[D2] * j2);
        let (di1, di2) = (dc[D1] * j1 + c[D1] * dj1, dc[D2] * j2 + c[D2] * dj2);
        let (m, wa, wb) = max_with_weights(c[TH_RESET], z[TH]);
        let th = z[TH] + s * (m - z[TH]);
        let dm = wa * dc[TH_RESET] + wb * dz[TH];
        let dth = dz[TH] + ds * (m - z[TH]) + s * (dm - dz[TH]);
        [
            dc[DECAY] * u
                + c[DECAY] * du
                + dc[BIAS]
                + dc[DRIVE] * (i1 + i2 + x)
                + c[DRIVE] * (di1 + di2 + dx),
            di1,
            di2,
            dc[DECAY_TH] * th + c[DECAY_TH] * dth + dc[TH_GAIN] * u + c[TH_GAIN] * du + dc[TH_BIAS],
        ]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 14],
        z: &[R; 4],
        x: R,
        s: R,
        lam: &[R; 4],
        lc: &mut [R; 14],
    ) -> ([R; 4], R, R) {
        let (u, r) = reset::<R, HARD>(z[V], z[TH], c[RESET], s);
        let (j1, jump1) = current_reset(z[I1], s, c[R1], c[A1]);
        let (j2, jump2) = current_reset(z[I2], s, c[R2], c[A2]);
        let (i1, i2) = (c[D1] * j1, c[D2] * j2);
        let (m, wa, wb) = max_with_weights(c[TH_RESET], z[TH]);
        let th = z[TH] + s * (m - z[TH]);
        let (lv, lth) = (lam[V], lam[TH]);
        // V' = decay U + bias + drive (I1' + I2' + x)
        lc[DECAY] = lc[DECAY] + lv * u;
        lc[BIAS] = lc[BIAS] + lv;
        lc[DRIVE] = lc[DRIVE] + lv * (i1 + i2 + x);
        let lin = c[DRIVE] * lv; // the cotangent of the input sum I1' + I2' + x
                                 // V_th' = decay_th Th + th_gain U + th_bias
        lc[DECAY_TH] = lc[DECAY_TH] + lth * th;
        lc[TH_GAIN] = lc[TH_GAIN] + lth * u;
        lc[TH_BIAS] = lc[TH_BIAS] + lth;
        let l_th_reset = c[DECAY_TH] * lth;
        let l_u = c[DECAY] * lv + c[TH_GAIN] * lth;
        // I_j' = decay_j J_j
        let (li1, li2) = (lam[I1] + lin, lam[I2] + lin);
        lc[D1] = lc[D1] + li1 * j1;
        lc[D2] = lc[D2] + li2 * j2;
        let (lj1, lj2) = (c[D1] * li1, c[D2] * li2);
        lc[R1] = lc[R1] + lj1 * s * z[I1];
        lc[A1] = lc[A1] + lj1 * s;
        lc[R2] = lc[R2] + lj2 * s * z[I2];
        lc[A2] = lc[A2] + lj2 * s;
        let one = R::from_f64(1.0);
        let lz_i1 = lj1 * (one + s * (c[R1] - one));
        let lz_i2 = lj2 * (one + s * (c[R2] - one));
        // Th = V_th + s (max(V_th_reset, V_th) - V_th)
        let lmax = l_th_reset * s;
        lc[TH_RESET] = lc[TH_RESET] + wa * lmax;
        let mut lz_th = l_th_reset * (one - s) + wb * lmax;
        let ct_s = lj1 * jump1 + lj2 * jump2 + l_th_reset * (m - z[TH]);
        // U = V - r s (soft r = V_th - V_reset: its V_th is the state's)
        let mut lreset = lc[RESET];
        let (lz_v, ct_s_reset) = reset_vjp::<R, HARD>(s, r, l_u, &mut lz_th, &mut lreset);
        lc[RESET] = lreset;
        ([lz_v, lz_i1, lz_i2, lz_th], lin, ct_s + ct_s_reset)
    }
}
