//! The LIF neuron with a refractory period of brainpy.state
//! (`brainpy.state.LIFRef`), unitless: [`super::lif`]'s step with the clock of
//! [`super::refractory`]. Constants `c = [decay, bias, drive, V_th, V_reset,
//! dt, tau_ref, inv_dt]` (the first five LIF's, `inv_dt = 1/dt`); state `z = [V, r]`:
//!
//! ```text
//! U  = V - r s                         LIF's reset
//! V' = U where refractory, else decay U + bias + drive x
//! r' = 0 where V' >= V_th, else e      (super::refractory)
//! ```

use super::lif::Lif;
use super::model::{reset, reset_jvp, reset_vjp, Model};
use super::refractory::{clock, hold, restart};
use crate::math::Real;

/// brainpy.state's LIFRef.
pub struct LifRef;

const TH: usize = 3;
const RESET: usize = 4;
const DT: usize = 5;
const TAU_REF: usize = 6;
const INV_DT: usize = 7;

/// LIF's constants.
#[inline(always)]
fn lif<R: Real>(c: &[R; 8]) -> [R; 5] {
    [c[0], c[1], c[2], c[3], c[4]]
}

/// Writes LIF's constants' cotangents `lb` (accumulated from `lif(lc)`) back into `lc`.
#[inline(always)]
fn add_back<R: Real>(lc: &mut [R; 8], lb: &[R; 5]) {
    lc[..5].copy_from_slice(lb);
}

impl Model<2, 8> for LifRef {
    const NAME: &'static str = "lif_ref";
    const STATES: [&'static str; 2] = ["V", "r"];
    const CONSTS: [&'static str; 8] = [
        "decay", "bias", "drive", "V_th", "V_reset", "dt", "tau_ref", "inv_dt",
    ];

    #[inline(always)]
    fn scale<R: Real>(c: &[R; 8]) -> R {
        Lif::scale(&lif(c))
    }

    #[inline(always)]
    fn u<R: Real>(c: &[R; 8], k: R, z: &[R; 2]) -> R {
        Lif::u(&lif(c), k, &[z[0]])
    }

    #[inline(always)]
    fn step<R: Real, const HARD: bool>(c: &[R; 8], z: &[R; 2], x: R, s: R) -> [R; 2] {
        let (e, refractory) = clock(z[1], c[DT], c[TAU_REF], c[INV_DT]);
        let (held, _) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let [new] = Lif::step::<R, HARD>(&lif(c), &[z[0]], x, s);
        let v = hold(refractory, held, new);
        [v, restart(v >= c[TH], e)]
    }

    #[inline(always)]
    fn u_jvp<R: Real>(c: &[R; 8], k: R, z: &[R; 2], dz: &[R; 2], dc: &[R; 8]) -> R {
        Lif::u_jvp(&lif(c), k, &[z[0]], &[dz[0]], &lif(dc))
    }

    #[inline(always)]
    fn u_vjp<R: Real>(c: &[R; 8], k: R, z: &[R; 2], w: R, lz: &mut [R; 2], lc: &mut [R; 8]) {
        let (mut lv, mut lb) = ([lz[0]], lif(lc));
        Lif::u_vjp(&lif(c), k, &[z[0]], w, &mut lv, &mut lb);
        lz[0] = lv[0];
        add_back(lc, &lb);
    }

    #[inline(always)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; 8],
        z: &[R; 2],
        x: R,
        s: R,
        dz: &[R; 2],
        dx: R,
        ds: R,
        dc: &[R; 8],
    ) -> [R; 2] {
        let (_, refractory) = clock(z[1], c[DT], c[TAU_REF], c[INV_DT]);
        let (_, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let held = reset_jvp::<R, HARD>(s, r, dz[0], ds, dc[TH], dc[RESET]);
        let [new] = Lif::step_jvp::<R, HARD>(&lif(c), &[z[0]], x, s, &[dz[0]], dx, ds, &lif(dc));
        [hold(refractory, held, new), R::from_f64(0.0)]
    }

    #[inline(always)]
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; 8],
        z: &[R; 2],
        x: R,
        s: R,
        lam: &[R; 2],
        lc: &mut [R; 8],
    ) -> ([R; 2], R, R) {
        let zero = R::from_f64(0.0);
        let (_, refractory) = clock(z[1], c[DT], c[TAU_REF], c[INV_DT]);
        // Where refractory only the held branch (the reset) gets the
        // cotangent; elsewhere only LIF's step.
        let (l_held, l_new) = (
            hold(refractory, lam[0], zero),
            hold(refractory, zero, lam[0]),
        );
        let (_, r) = reset::<R, HARD>(z[0], c[TH], c[RESET], s);
        let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
        let (lv_held, cts_held) = reset_vjp::<R, HARD>(s, r, l_held, &mut lth, &mut lreset);
        lc[TH] = lth;
        lc[RESET] = lreset;
        let mut lb = lif(lc);
        let ([lv_new], ct_x, cts_new) =
            Lif::step_vjp::<R, HARD>(&lif(c), &[z[0]], x, s, &[l_new], &mut lb);
        add_back(lc, &lb);
        ([lv_held + lv_new, zero], ct_x, cts_held + cts_new)
    }
}
