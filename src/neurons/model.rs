//! [`Model`]: what a neuron model gives the generic passes ([`super::passes`]):
//! its step and the step's tangent and transpose, per neuron, in scalar code.
//!
//! A model has `S` state variables (`V` first) and `C` constants, folded from
//! brainpy.state's parameters by the Python layer and passed per neuron. One
//! step from the state `z` with input `x`, where `s = [u(z) >= 0]` is the
//! previous state's spike:
//!
//! ```text
//! z' = step(c, z, x, s),   output [u(z') >= 0]
//! ```
//!
//! The spike's derivative is the surrogate's `g'(u)`; the passes apply it, so a
//! model only differentiates `u` and `step` as ordinary functions of their
//! arguments (`s` included). Every model's `u` divides by `V_th - V_reset`,
//! whose inverse `k` the passes compute once per neuron ([`Model::scale`]);
//! where that depends on a state (Gif's threshold), `scale` is 1 and `u` divides.

use crate::math::Real;

/// A neuron model with `S` states and `C` constants.
pub trait Model<const S: usize, const C: usize>: Send + Sync + 'static {
    /// Registry name (the FFI attribute `model`, permanent).
    const NAME: &'static str;
    /// State names, `V` first.
    const STATES: [&'static str; S];
    /// Constant names, in the order the kernels take them.
    const CONSTS: [&'static str; C];

    /// `1 / (V_th - V_reset)`, the scale of the surrogate's argument.
    fn scale<R: Real>(c: &[R; C]) -> R;

    /// `u(z)`, the surrogate's argument; `k` is [`Model::scale`].
    fn u<R: Real>(c: &[R; C], k: R, z: &[R; S]) -> R;

    /// The next state; `HARD`: hard reset (`V - V_reset` is not differentiated in `V`).
    fn step<R: Real, const HARD: bool>(c: &[R; C], z: &[R; S], x: R, s: R) -> [R; S];

    /// The tangent of `u` at `z`: `du` from `dz` and `dc`.
    fn u_jvp<R: Real>(c: &[R; C], k: R, z: &[R; S], dz: &[R; S], dc: &[R; C]) -> R;

    /// The transpose of [`Model::u_jvp`]: adds `w du/dz` to `lz` and `w du/dc` to `lc`.
    fn u_vjp<R: Real>(c: &[R; C], k: R, z: &[R; S], w: R, lz: &mut [R; S], lc: &mut [R; C]);

    /// The tangent of the step: `dz'` from `dz`, `dx`, `ds` and `dc`.
    #[allow(clippy::too_many_arguments)]
    fn step_jvp<R: Real, const HARD: bool>(
        c: &[R; C],
        z: &[R; S],
        x: R,
        s: R,
        dz: &[R; S],
        dx: R,
        ds: R,
        dc: &[R; C],
    ) -> [R; S];

    /// The transpose of [`Model::step_jvp`] applied to the cotangent `lam` of
    /// `z'`: returns `(lz, ct_x, ct_s)` and adds the constants' part to `lc`.
    fn step_vjp<R: Real, const HARD: bool>(
        c: &[R; C],
        z: &[R; S],
        x: R,
        s: R,
        lam: &[R; S],
        lc: &mut [R; C],
    ) -> ([R; S], R, R);
}

/// The reset shared by the models: `U = V - r s` with `r = V_th - V_reset`
/// (soft) or `V - V_reset` (hard). Returns `(U, r)`.
#[inline(always)]
pub(crate) fn reset<R: Real, const HARD: bool>(v: R, v_th: R, v_reset: R, s: R) -> (R, R) {
    let r = if HARD { v - v_reset } else { v_th - v_reset };
    (v - r * s, r)
}

/// The tangent of [`reset`]: `dU` (the hard factor's `V` is not differentiated).
#[inline(always)]
pub(crate) fn reset_jvp<R: Real, const HARD: bool>(
    s: R,
    r: R,
    dv: R,
    ds: R,
    dth: R,
    dreset: R,
) -> R {
    let dr = if HARD { -dreset } else { dth - dreset };
    dv - dr * s - r * ds
}

/// The transpose of [`reset_jvp`] for the cotangent `mu` of `U`: returns
/// `(l_V, ct_s)` and adds to the cotangents of `V_th` and `V_reset`.
#[inline(always)]
pub(crate) fn reset_vjp<R: Real, const HARD: bool>(
    s: R,
    r: R,
    mu: R,
    lth: &mut R,
    lreset: &mut R,
) -> (R, R) {
    let lr = -(s * mu);
    if !HARD {
        *lth = *lth + lr;
    }
    *lreset = *lreset - lr;
    (mu, -(r * mu))
}

/// The surrogate argument `(V - theta) k` shared by the models, with
/// `theta = V_th + extra` (ALIF adds `beta a`), and its derivative pieces.
#[inline(always)]
pub(crate) fn scaled<R: Real>(v: R, theta: R, k: R) -> R {
    (v - theta) * k
}

/// `du` of `u = (V - V_th) k`, `k = 1/(V_th - V_reset)`, given `u` and the
/// tangents of `V`, `V_th` and `V_reset` (shared with the models whose `u` has
/// this form, up to an offset of the threshold).
#[inline(always)]
pub(crate) fn u_tangent<R: Real>(k: R, u: R, dv: R, dth: R, dreset: R) -> R {
    // d[(V - th)/(th - rs)] = k (dV - dth) - u k (dth - drs)
    k * (dv - dth - u * (dth - dreset))
}

/// The transpose of [`u_tangent`] for the cotangent `w` of `u`: returns
/// `l_V` and adds to the cotangents of `V_th` and `V_reset`.
#[inline(always)]
pub(crate) fn u_cotangent<R: Real>(k: R, u: R, w: R, lth: &mut R, lreset: &mut R) -> R {
    let wk = w * k;
    *lth = *lth - wk * (R::from_f64(1.0) + u);
    *lreset = *lreset + wk * u;
    wk
}

/// `scale`, `u`, `u_jvp` and `u_vjp` of a model whose threshold is a
/// constant: `u = (V - V_th) k`, `k = 1/(V_th - V_reset)`, `V = z[0]`,
/// `V_th = c[TH]`, `V_reset = c[RESET]` (the model's own `TH` and `RESET`).
/// Expands inside `impl Model<S, C>`, given `S` and `C`.
macro_rules! threshold_u {
    ($s:literal, $c:literal) => {
        #[inline(always)]
        fn scale<R: Real>(c: &[R; $c]) -> R {
            R::from_f64(1.0) / (c[TH] - c[RESET])
        }

        #[inline(always)]
        fn u<R: Real>(c: &[R; $c], k: R, z: &[R; $s]) -> R {
            $crate::neurons::model::scaled(z[0], c[TH], k)
        }

        #[inline(always)]
        fn u_jvp<R: Real>(c: &[R; $c], k: R, z: &[R; $s], dz: &[R; $s], dc: &[R; $c]) -> R {
            $crate::neurons::model::u_tangent(k, Self::u(c, k, z), dz[0], dc[TH], dc[RESET])
        }

        #[inline(always)]
        fn u_vjp<R: Real>(
            c: &[R; $c],
            k: R,
            z: &[R; $s],
            w: R,
            lz: &mut [R; $s],
            lc: &mut [R; $c],
        ) {
            let (mut lth, mut lreset) = (lc[TH], lc[RESET]);
            let u = Self::u(c, k, z);
            lz[0] = lz[0] + $crate::neurons::model::u_cotangent(k, u, w, &mut lth, &mut lreset);
            lc[TH] = lth;
            lc[RESET] = lreset;
        }
    };
}
pub(crate) use threshold_u;
