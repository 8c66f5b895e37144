//! Tests of the models and the generic passes, in f64: each model's step
//! against its formula written out, the step's tangent against finite
//! differences and its transpose against the tangent, and the three passes
//! against each other (forward against a plain loop, BPTT as the transpose
//! of the tangent, checkpoint strides bit for bit equal).

use super::adex_if::AdExIf;
use super::alif::Alif;
use super::coba_lif::CobaLif;
use super::cuba_lif::CubaLif;
use super::exp_if::ExpIf;
use super::gif::Gif;
use super::if_::If;
use super::lif::Lif;
use super::lif_ref::LifRef;
use super::model::Model;
use crate::registry::neuron_kernel;

const T: usize = 9;
const N: usize = 300; // more than one SIMD width, two column ranges

/// Deterministic values in `[lo, lo + span)`.
fn values(len: usize, seed: usize, lo: f64, span: f64) -> Vec<f64> {
    (0..len)
        .map(|k| lo + span * (((k * 7919 + seed * 104_729) % 1000) as f64 / 1000.0))
        .collect()
}

/// Per-neuron constants of `model`, as the Python layer folds them.
fn consts(model: &str, n: usize) -> Vec<Vec<f64>> {
    if let Some(c) = exp_euler_consts(model, n) {
        return c;
    }
    let decay: Vec<f64> = values(n, 1, 0.5, 0.45);
    let one_minus: Vec<f64> = decay.iter().map(|d| 1.0 - d).collect();
    let bias: Vec<f64> = one_minus
        .iter()
        .zip(values(n, 2, -0.2, 0.4))
        .map(|(a, b)| a * b)
        .collect();
    let drive: Vec<f64> = one_minus
        .iter()
        .zip(values(n, 3, 1.0, 3.0))
        .map(|(a, b)| a * b)
        .collect();
    let th = values(n, 4, 0.8, 0.4);
    let reset = values(n, 5, -0.3, 0.3);
    if model == "if" {
        return vec![decay, drive, th];
    }
    if model == "gif" {
        return gif_consts(n, decay, bias, drive, reset);
    }
    let mut c = vec![decay, bias, drive, th, reset];
    match model {
        "alif" => {
            c.push(values(n, 6, 0.8, 0.19));
            c.push(values(n, 7, 0.05, 0.3));
        }
        "cuba_lif" => c.push(values(n, 8, 0.3, 0.6)),
        // dt, tau_ref from 0 (no period) to over four steps, never a multiple of dt, 1/dt.
        "lif_ref" => {
            c.push(vec![0.5; n]);
            c.push(values(n, 9, 0.0, 2.2));
            c.push(vec![2.0; n]);
        }
        _ => {}
    }
    c
}

/// Gif's constants, unitless, on the scale of the other models.
fn gif_consts(
    n: usize,
    decay: Vec<f64>,
    bias: Vec<f64>,
    drive: Vec<f64>,
    reset: Vec<f64>,
) -> Vec<Vec<f64>> {
    let decay_th = values(n, 17, 0.8, 0.19);
    let th_bias = decay_th.iter().map(|d| 1.0 - d).collect();
    vec![
        decay,
        bias,
        drive,
        reset,
        values(n, 10, 0.7, 0.29),
        values(n, 11, 0.9, 0.09),
        values(n, 12, 0.0, 1.0),
        values(n, 13, 0.5, 1.0),
        values(n, 14, -0.2, 0.4),
        values(n, 15, -0.2, 0.4),
        values(n, 16, 0.7, 0.3),
        decay_th,
        values(n, 18, -0.05, 0.1),
        th_bias,
    ]
}

fn states(model: &str) -> usize {
    match model {
        "lif" | "if" | "exp_if" => 1,
        "gif" => 4,
        _ => 2,
    }
}

/// The model's step written out, in f64: (next state, spike of the new state).
fn reference_step(model: &str, hard: bool, c: &[f64], z: &[f64], x: f64) -> (Vec<f64>, f64) {
    match model {
        "if" => return if_reference_step(hard, c, z, x),
        "gif" => return gif_reference_step(hard, c, z, x),
        _ => {}
    }
    if let Some(out) = exp_euler_reference_step(model, hard, c, z, x) {
        return out;
    }
    let (decay, bias, drive, th, rs) = (c[0], c[1], c[2], c[3], c[4]);
    let u = |z: &[f64]| match model {
        "alif" => (z[0] - th - c[6] * z[1]) / (th - rs),
        _ => (z[0] - th) / (th - rs),
    };
    let s = if u(z) >= 0.0 { 1.0 } else { 0.0 };
    let r = if hard { z[0] - rs } else { th - rs };
    let v = z[0] - r * s;
    let next = match model {
        "lif" => vec![decay * v + bias + drive * x],
        "alif" => vec![decay * v + bias + drive * x, c[5] * (z[1] + s)],
        "lif_ref" => {
            let (dt, tau_ref) = (c[5], c[6]);
            let e = ((z[1] / dt).round() + 1.0) * dt;
            let v = if e < tau_ref {
                v
            } else {
                decay * v + bias + drive * x
            };
            vec![v, if v >= th { 0.0 } else { e }]
        }
        _ => {
            let g = c[5] * z[1] + x;
            vec![decay * v + bias + drive * g, g]
        }
    };
    let out = if u(&next) >= 0.0 { 1.0 } else { 0.0 };
    (next, out)
}

fn if_reference_step(hard: bool, c: &[f64], z: &[f64], x: f64) -> (Vec<f64>, f64) {
    let (decay, drive, th) = (c[0], c[1], c[2]);
    let u = |v: f64| (v - th) / th;
    let s = if u(z[0]) >= 0.0 { 1.0 } else { 0.0 };
    let r = if hard { z[0] } else { th };
    let v = decay * (z[0] - r * s) + drive * x;
    (vec![v], if u(v) >= 0.0 { 1.0 } else { 0.0 })
}

fn gif_reference_step(hard: bool, c: &[f64], z: &[f64], x: f64) -> (Vec<f64>, f64) {
    let rs = c[3];
    let u = |z: &[f64]| (z[0] - z[3]) / (z[3] - rs);
    let s = if u(z) >= 0.0 { 1.0 } else { 0.0 };
    let r = if hard { z[0] - rs } else { z[3] - rs };
    let v = z[0] - r * s;
    let i1 = c[4] * (z[1] + s * (c[6] * z[1] + c[8] - z[1]));
    let i2 = c[5] * (z[2] + s * (c[7] * z[2] + c[9] - z[2]));
    let th = z[3] + s * (c[10].max(z[3]) - z[3]);
    let next = vec![
        c[0] * v + c[1] + c[2] * (i1 + i2 + x),
        i1,
        i2,
        c[11] * th + c[12] * v + c[13],
    ];
    let out = if u(&next) >= 0.0 { 1.0 } else { 0.0 };
    (next, out)
}

struct Run {
    spikes: Vec<f64>,
    saved: Vec<Vec<f64>>,
}

fn forward(
    model: &str,
    hard: bool,
    stride: usize,
    x: &[f64],
    z0: &[Vec<f64>],
    c: &[Vec<f64>],
) -> Run {
    forward_with(model, hard, stride, x, z0, c, true)
}

/// [`forward`]; without `write_spikes` the spikes' address is 0 (none written)
/// and `Run::spikes` stays zeros.
fn forward_with(
    model: &str,
    hard: bool,
    stride: usize,
    x: &[f64],
    z0: &[Vec<f64>],
    c: &[Vec<f64>],
    write_spikes: bool,
) -> Run {
    let k = neuron_kernel(model, "sigmoid", &[2.0], hard, stride as i64).unwrap();
    let rows = T.div_ceil(stride);
    let mut spikes = vec![0.0; T * N];
    let mut saved = vec![vec![0.0; rows * N]; z0.len()];
    let mut ins = vec![x.as_ptr() as usize];
    ins.extend(z0.iter().map(|v| v.as_ptr() as usize));
    ins.extend(c.iter().map(|v| v.as_ptr() as usize));
    let mut outs = vec![if write_spikes {
        spikes.as_mut_ptr() as usize
    } else {
        0
    }];
    outs.extend(saved.iter_mut().map(|v| v.as_mut_ptr() as usize));
    for cols in [0..100, 100..N] {
        // SAFETY: the buffers above have the documented sizes.
        unsafe { k.forward_f64(T, N, cols, &ins, &outs) };
    }
    Run { spikes, saved }
}

fn inputs(model: &str) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let x = values(T * N, 11, -0.5, 4.0);
    let z0 = (0..states(model))
        .map(|q| match (model, q) {
            // LIFRef's clock: never spiked, or 0 to 3 steps ago.
            ("lif_ref", 1) => (0..N)
                .map(|i| [f64::INFINITY, 0.0, 0.5, 1.5][i % 4])
                .collect(),
            ("gif", 3) => values(N, 23, 0.8, 0.4), // V_th, above V_reset
            _ => values(N, 20 + q, -0.3, 1.3),
        })
        .collect();
    (x, z0, consts(model, N))
}

/// Per-neuron constants of the models stepped by exponential Euler (`h =
/// dt/tau` first), in units where `V_th - V_reset` is about 1 as for the
/// others; None for the other models.
fn exp_euler_consts(model: &str, n: usize) -> Option<Vec<Vec<f64>>> {
    let rest = values(n, 2, -0.2, 0.4);
    let th = values(n, 4, 0.8, 0.4);
    let reset = values(n, 5, -0.3, 0.3);
    Some(match model {
        "coba_lif" => {
            let (h, r, e) = (
                values(n, 1, 0.1, 0.6),
                values(n, 3, 0.5, 1.5),
                values(n, 6, 1.5, 1.0),
            );
            vec![h, rest, r, e, th, reset, values(n, 8, 0.3, 0.6)]
        }
        "exp_if" | "adex_if" => {
            // V_T + delta_T near V_th: the exponential matters below the
            // threshold without running away within a step.
            let (h, r) = (values(n, 1, 0.05, 0.25), values(n, 3, 0.2, 0.6));
            let (vt, delta) = (values(n, 6, 0.5, 0.4), values(n, 7, 0.4, 0.4));
            let mut c = vec![h, rest, r, th, reset, vt, delta];
            if model == "adex_if" {
                c.push(values(n, 9, 0.05, 0.4)); // k_w
                c.push(values(n, 10, 0.1, 0.5)); // a
                c.push(values(n, 12, 0.1, 0.3)); // b
            }
            c
        }
        _ => return None,
    })
}

/// exprel(z) = expm1(z)/z in f64 (1 at 0).
fn exprel64(z: f64) -> f64 {
    if z == 0.0 {
        1.0
    } else {
        z.exp_m1() / z
    }
}

/// [`reference_step`] of the exponential-Euler models, written as
/// brainpy.state's `U + dt exprel(dt J) f(U)`; None for the other models.
fn exp_euler_reference_step(
    model: &str,
    hard: bool,
    c: &[f64],
    z: &[f64],
    x: f64,
) -> Option<(Vec<f64>, f64)> {
    let (th, rs) = match model {
        "coba_lif" => (c[4], c[5]),
        "exp_if" | "adex_if" => (c[3], c[4]),
        _ => return None,
    };
    let u = |z: &[f64]| (z[0] - th) / (th - rs);
    let s = if u(z) >= 0.0 { 1.0 } else { 0.0 };
    let r = if hard { z[0] - rs } else { th - rs };
    let v = z[0] - r * s;
    let (h, rest, res) = (c[0], c[1], c[2]);
    // The exponential drift of ExpIF/AdExIF: (f * dt, dt J) at v for a current i.
    let exp_drift = |v: f64, i: f64| {
        let (vt, delta) = (c[5], c[6]);
        let a = (v - vt) / delta;
        let e = a.min(20.0).exp();
        let slope = if a < 20.0 { e } else { 0.0 };
        (h * (-(v - rest) + delta * e + i), h * (slope - 1.0))
    };
    let next = match model {
        "coba_lif" => {
            let g = c[6] * z[1] + x;
            let (f, j) = (
                h * (-(v - rest) + res * g * (c[3] - v)),
                -h * (1.0 + res * g),
            );
            vec![v + exprel64(j) * f, g]
        }
        "exp_if" => {
            let (f, j) = exp_drift(v, res * x);
            vec![v + exprel64(j) * f]
        }
        _ => {
            let w1 = z[1] + c[9] * s;
            let (f, j) = exp_drift(v, res * (x - w1));
            let vn = v + exprel64(j) * f;
            vec![vn, w1 + c[7] * (c[8] * (vn - rest) - w1)]
        }
    };
    let out = if u(&next) >= 0.0 { 1.0 } else { 0.0 };
    Some((next, out))
}

const MODELS: [&str; 9] = [
    "lif", "alif", "cuba_lif", "if", "lif_ref", "gif", "coba_lif", "exp_if", "adex_if",
];

#[test]
fn forward_matches_the_written_out_step() {
    for model in MODELS {
        for hard in [false, true] {
            let (x, z0, c) = inputs(model);
            let run = forward(model, hard, 1, &x, &z0, &c);
            let mut fired = 0.0;
            for i in 0..N {
                let ci: Vec<f64> = c.iter().map(|v| v[i]).collect();
                let mut z: Vec<f64> = z0.iter().map(|v| v[i]).collect();
                for t in 0..T {
                    let (next, out) = reference_step(model, hard, &ci, &z, x[t * N + i]);
                    assert_eq!(
                        run.spikes[t * N + i],
                        out,
                        "{model} hard={hard} t={t} i={i}"
                    );
                    for (q, want) in next.iter().enumerate() {
                        let got = run.saved[q][t * N + i];
                        assert!(
                            got == *want || (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                            "{model} {got} vs {want}"
                        );
                    }
                    fired += out;
                    z = next;
                }
            }
            assert!(
                fired > 0.0 && fired < (T * N) as f64,
                "{model}: spikes {fired}"
            );
        }
    }
}

#[test]
fn forward_without_spikes_keeps_the_same_checkpoints() {
    for model in MODELS {
        let (x, z0, c) = inputs(model);
        for stride in [1, 3, 16] {
            let with = forward(model, false, stride, &x, &z0, &c);
            let without = forward_with(model, false, stride, &x, &z0, &c, false);
            assert_eq!(without.saved, with.saved, "{model} stride {stride}");
        }
    }
}

#[test]
fn checkpoints_are_every_stride_th_state() {
    for model in MODELS {
        let (x, z0, c) = inputs(model);
        let all = forward(model, true, 1, &x, &z0, &c);
        for stride in [2, 4, 9, 20] {
            let run = forward(model, true, stride, &x, &z0, &c);
            assert_eq!(run.spikes, all.spikes);
            for (j, step) in (1..=T).filter(|s| s % stride == 0 || *s == T).enumerate() {
                for q in 0..z0.len() {
                    assert_eq!(
                        run.saved[q][j * N..(j + 1) * N],
                        all.saved[q][(step - 1) * N..step * N]
                    );
                }
            }
        }
    }
}

/// `<bptt(ct), d> == <ct, tangent(d)>`, and BPTT equal bit for bit across strides.
#[test]
fn bptt_is_the_transpose_of_the_tangent_at_every_stride() {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for model in MODELS {
        for hard in [false, true] {
            let (x, z0, c) = inputs(model);
            let s = z0.len();
            let dx = values(T * N, 30, -0.4, 1.0);
            let dz0: Vec<Vec<f64>> = (0..s).map(|q| values(N, 31 + q, -0.5, 1.0)).collect();
            let dc: Vec<Vec<f64>> = (0..c.len()).map(|q| values(N, 40 + q, -0.2, 0.4)).collect();
            let cts = values(T * N, 50, -0.6, 1.0);
            let ctz: Vec<Vec<f64>> = (0..s).map(|q| values(T * N, 51 + q, -0.3, 1.0)).collect();
            // Tangent (stride 1).
            let all = forward(model, hard, 1, &x, &z0, &c);
            let k = neuron_kernel(model, "sigmoid", &[2.0], hard, 1).unwrap();
            let mut dspikes = vec![0.0; T * N];
            let mut dz = vec![vec![0.0; T * N]; s];
            let mut ins = vec![x.as_ptr() as usize];
            ins.extend(z0.iter().map(|v| v.as_ptr() as usize));
            ins.extend(c.iter().map(|v| v.as_ptr() as usize));
            ins.extend(all.saved.iter().map(|v| v.as_ptr() as usize));
            ins.push(dx.as_ptr() as usize);
            ins.extend(dz0.iter().map(|v| v.as_ptr() as usize));
            ins.extend(dc.iter().map(|v| v.as_ptr() as usize));
            let mut outs = vec![dspikes.as_mut_ptr() as usize];
            outs.extend(dz.iter_mut().map(|v| v.as_mut_ptr() as usize));
            // SAFETY: documented sizes.
            unsafe { k.tangent_f64(T, N, 0..N, &ins, &outs) };
            let rhs = dot(&cts, &dspikes) + (0..s).map(|q| dot(&ctz[q], &dz[q])).sum::<f64>();
            let mut first: Option<Vec<Vec<f64>>> = None;
            for stride in [1, 2, 4, 20] {
                let run = forward(model, hard, stride, &x, &z0, &c);
                let k = neuron_kernel(model, "sigmoid", &[2.0], hard, stride as i64).unwrap();
                let mut ctx = vec![0.0; T * N];
                let mut ctz0 = vec![vec![0.0; N]; s];
                let mut ctc = vec![vec![0.0; N]; c.len()];
                let mut ins = vec![x.as_ptr() as usize];
                ins.extend(z0.iter().map(|v| v.as_ptr() as usize));
                ins.extend(c.iter().map(|v| v.as_ptr() as usize));
                ins.extend(run.saved.iter().map(|v| v.as_ptr() as usize));
                ins.push(cts.as_ptr() as usize);
                ins.extend(ctz.iter().map(|v| v.as_ptr() as usize));
                let mut outs = vec![ctx.as_mut_ptr() as usize];
                outs.extend(ctz0.iter_mut().map(|v| v.as_mut_ptr() as usize));
                outs.extend(ctc.iter_mut().map(|v| v.as_mut_ptr() as usize));
                for cols in [0..77, 77..N] {
                    // SAFETY: documented sizes.
                    unsafe { k.bptt_f64(T, N, cols, &ins, &outs, true) };
                }
                // Without the constants' cotangents: the same ct_x and ct_z0
                // bit for bit, and zeros (over stale values) for ct_c.
                let mut ctx_s = vec![0.0; T * N];
                let mut ctz0_s = vec![vec![0.0; N]; s];
                let mut ctc_s = vec![vec![7.0; N]; c.len()];
                let mut outs_s = vec![ctx_s.as_mut_ptr() as usize];
                outs_s.extend(ctz0_s.iter_mut().map(|v| v.as_mut_ptr() as usize));
                outs_s.extend(ctc_s.iter_mut().map(|v| v.as_mut_ptr() as usize));
                for cols in [0..77, 77..N] {
                    // SAFETY: documented sizes.
                    unsafe { k.bptt_f64(T, N, cols, &ins, &outs_s, false) };
                }
                assert_eq!(
                    ctx_s, ctx,
                    "{model} stride {stride}: ct_x without constants"
                );
                assert_eq!(
                    ctz0_s, ctz0,
                    "{model} stride {stride}: ct_z0 without constants"
                );
                assert!(ctc_s.iter().flatten().all(|&v| v == 0.0));
                // In place (XLA aliases ct_x to ct_spikes): the same bits.
                let mut shared = cts.clone();
                let mut ins_in_place = ins.clone();
                ins_in_place[1 + 2 * s + c.len()] = shared.as_ptr() as usize;
                let mut outs_in_place = outs_s.clone();
                outs_in_place[0] = shared.as_mut_ptr() as usize;
                for cols in [0..77, 77..N] {
                    // SAFETY: documented sizes; ct_x may alias ct_spikes.
                    unsafe { k.bptt_f64(T, N, cols, &ins_in_place, &outs_in_place, true) };
                }
                assert_eq!(shared, ctx, "{model} stride {stride}: ct_x in place");
                let lhs = dot(&ctx, &dx)
                    + (0..s).map(|q| dot(&ctz0[q], &dz0[q])).sum::<f64>()
                    + (0..c.len()).map(|q| dot(&ctc[q], &dc[q])).sum::<f64>();
                assert!(
                    (lhs - rhs).abs() <= 1e-10 * rhs.abs().max(1.0),
                    "{model} hard={hard} stride={stride}: {lhs} vs {rhs}"
                );
                assert!(rhs.abs() > 1e-3);
                let mut outs_all = vec![ctx];
                outs_all.extend(ctz0);
                outs_all.extend(ctc);
                match &first {
                    None => first = Some(outs_all),
                    Some(f) => assert_eq!(
                        f, &outs_all,
                        "{model} stride {stride} differs from stride 1"
                    ),
                }
            }
        }
    }
}

/// The step's tangent against central differences (soft reset, where the step
/// is smooth in every argument; the hard reset differs only in the stopped
/// factor, checked at s = 0 where it does not matter), and u's tangent alike;
/// the transposes against the tangents.
fn check_model<M: Model<S, C>, const S: usize, const C: usize>(c: [f64; C], z: [f64; S]) {
    check_model_holding::<M, S, C>(c, z, S, C);
}

/// [`check_model`] with the states from `fz` and the constants from `fc` on
/// held still (no tangent): a refractory clock and its constants, which are
/// not differentiated.
fn check_model_holding<M: Model<S, C>, const S: usize, const C: usize>(
    c: [f64; C],
    z: [f64; S],
    fz: usize,
    fc: usize,
) {
    let k = M::scale(&c);
    let h = 1e-6;
    let dz: [f64; S] = std::array::from_fn(|q| if q < fz { 0.3 + 0.2 * q as f64 } else { 0.0 });
    let dc: [f64; C] = std::array::from_fn(|q| if q < fc { 0.1 - 0.03 * q as f64 } else { 0.0 });
    let (x, dx, ds) = (0.7, -0.4, 0.25);
    let shift = |e: f64| {
        let c2: [f64; C] = std::array::from_fn(|q| c[q] + e * dc[q]);
        let z2: [f64; S] = std::array::from_fn(|q| z[q] + e * dz[q]);
        (c2, z2)
    };
    for s in [0.0, 1.0] {
        let fd = |hard: bool| {
            let ((cp, zp), (cm, zm)) = (shift(h), shift(-h));
            let (a, b) = if hard {
                (
                    M::step::<f64, true>(&cp, &zp, x + h * dx, s + h * ds),
                    M::step::<f64, true>(&cm, &zm, x - h * dx, s - h * ds),
                )
            } else {
                (
                    M::step::<f64, false>(&cp, &zp, x + h * dx, s + h * ds),
                    M::step::<f64, false>(&cm, &zm, x - h * dx, s - h * ds),
                )
            };
            let d: [f64; S] = std::array::from_fn(|q| (a[q] - b[q]) / (2.0 * h));
            d
        };
        let jvp = M::step_jvp::<f64, false>(&c, &z, x, s, &dz, dx, ds, &dc);
        let want = fd(false);
        for q in 0..S {
            assert!(
                (jvp[q] - want[q]).abs() < 1e-6 * want[q].abs().max(1.0),
                "{} step_jvp[{q}] s={s}: {} vs {}",
                M::NAME,
                jvp[q],
                want[q]
            );
        }
        if s == 0.0 {
            // At s = 0 the stopped factor (V - V_reset) s has no V-derivative anyway.
            let jvp = M::step_jvp::<f64, true>(&c, &z, x, 0.0, &dz, dx, ds, &dc);
            let want = fd(true);
            for q in 0..S {
                assert!(
                    (jvp[q] - want[q]).abs() < 1e-6 * want[q].abs().max(1.0),
                    "{} hard step_jvp[{q}]",
                    M::NAME
                );
            }
        }
        // Transposes: <vjp(lam), d> == <lam, jvp(d)>.
        for hard in [false, true] {
            let lam: [f64; S] = std::array::from_fn(|q| 0.9 - 0.5 * q as f64);
            let mut lc = [0.0; C];
            let (jvp, (lz, ctx, cts)) = if hard {
                (
                    M::step_jvp::<f64, true>(&c, &z, x, s, &dz, dx, ds, &dc),
                    M::step_vjp::<f64, true>(&c, &z, x, s, &lam, &mut lc),
                )
            } else {
                (
                    M::step_jvp::<f64, false>(&c, &z, x, s, &dz, dx, ds, &dc),
                    M::step_vjp::<f64, false>(&c, &z, x, s, &lam, &mut lc),
                )
            };
            let lhs: f64 = (0..S).map(|q| lz[q] * dz[q]).sum::<f64>()
                + (0..C).map(|q| lc[q] * dc[q]).sum::<f64>()
                + ctx * dx
                + cts * ds;
            let rhs: f64 = (0..S).map(|q| lam[q] * jvp[q]).sum();
            assert!(
                (lhs - rhs).abs() < 1e-12 * rhs.abs().max(1.0),
                "{} step_vjp hard={hard}: {lhs} vs {rhs}",
                M::NAME
            );
        }
    }
    // u: tangent against differences, transpose against tangent.
    let ((cp, zp), (cm, zm)) = (shift(h), shift(-h));
    let fd = (M::u(&cp, M::scale(&cp), &zp) - M::u(&cm, M::scale(&cm), &zm)) / (2.0 * h);
    let du = M::u_jvp(&c, k, &z, &dz, &dc);
    assert!((du - fd).abs() < 1e-6, "{} u_jvp: {du} vs {fd}", M::NAME);
    let (mut lz, mut lc) = ([0.0; S], [0.0; C]);
    M::u_vjp(&c, k, &z, 1.5, &mut lz, &mut lc);
    let lhs: f64 =
        (0..S).map(|q| lz[q] * dz[q]).sum::<f64>() + (0..C).map(|q| lc[q] * dc[q]).sum::<f64>();
    assert!((lhs - 1.5 * du).abs() < 1e-12, "{} u_vjp", M::NAME);
}

#[test]
fn model_derivatives() {
    check_model::<Lif, 1, 5>([0.8, 0.02, 0.4, 1.1, -0.2], [0.6]);
    check_model::<Alif, 2, 7>([0.8, 0.02, 0.4, 1.1, -0.2, 0.95, 0.3], [0.6, 0.7]);
    check_model::<CubaLif, 2, 6>([0.8, 0.02, 0.4, 1.1, -0.2, 0.7], [0.6, -0.4]);
    check_model::<If, 1, 3>([0.8, 0.4, 1.1], [0.6]);
    // Refractory (r = 0: e = 0.5 < 1.2) and not (r = 2.5).
    for r in [0.0, 2.5] {
        let c = [0.8, 0.02, 0.4, 1.1, -0.2, 0.5, 1.2, 2.0];
        check_model_holding::<LifRef, 2, 8>(c, [0.6, r], 1, 5);
    }
    // V_th_reset below and above the threshold state.
    for th_reset in [0.7, 1.3] {
        let c = [
            0.8, 0.02, 0.4, -0.2, 0.9, 0.95, 0.4, 1.1, 0.2, -0.1, th_reset, 0.9, 0.03, 0.1,
        ];
        check_model::<Gif, 4, 14>(c, [0.6, 0.3, -0.2, 1.0]);
    }
    check_model::<CobaLif, 2, 7>([0.3, 0.05, 1.2, 2.0, 1.1, -0.2, 0.7], [0.6, 0.4]);
    // ExpIF / AdExIF with the exponent (V - V_T)/delta_T near 2 and -2 and
    // past the clamp at 20 (with s = 0 and after the reset at s = 1).
    for v in [0.6, -0.15, 6.0] {
        check_model::<ExpIf, 1, 7>([0.3, 0.05, 1.2, 1.1, -0.2, 0.25, 0.2], [v]);
        let c = [0.3, 0.05, 1.2, 1.1, -0.2, 0.25, 0.2, 0.2, 0.4, 0.3];
        check_model::<AdExIf, 2, 10>(c, [v, 0.5]);
    }
}

#[test]
fn bad_kernels_are_errors() {
    assert!(neuron_kernel("nope", "sigmoid", &[2.0], false, 1)
        .err()
        .unwrap()
        .contains("unknown neuron model"));
    assert!(neuron_kernel("lif", "sigmoid", &[2.0], false, 0).is_err());
    assert!(neuron_kernel("alif", "nope", &[], false, 1).is_err());
}

/// f16/bf16 sequences: the f32 passes on the widened sequences, the sequence
/// results rounded once (forward and BPTT, every model, two column ranges).
#[test]
fn half_sequences_equal_the_widened_f32_passes() {
    use half::{bf16, f16};
    fn run<H: Copy + PartialEq + std::fmt::Debug>(
        model: &str,
        narrow: impl Fn(f32) -> H,
        widen: impl Fn(H) -> f32,
        half_pass: impl Fn(&dyn crate::neurons::kernel::NeuronKernel, u8, &[usize], &[usize]),
    ) {
        let (x, z0, c) = inputs(model);
        let xh: Vec<H> = x.iter().map(|&v| narrow(v as f32)).collect();
        let xw: Vec<f32> = xh.iter().map(|&v| widen(v)).collect();
        let z0: Vec<Vec<f32>> = z0
            .iter()
            .map(|v| v.iter().map(|&a| a as f32).collect())
            .collect();
        let c: Vec<Vec<f32>> = c
            .iter()
            .map(|v| v.iter().map(|&a| a as f32).collect())
            .collect();
        let cts: Vec<H> = values(T * N, 60, -0.6, 1.0)
            .iter()
            .map(|&v| narrow(v as f32))
            .collect();
        let ctw: Vec<f32> = cts.iter().map(|&v| widen(v)).collect();
        let k = neuron_kernel(model, "sigmoid", &[2.0], false, 4).unwrap();
        let s = z0.len();
        let rows = T.div_ceil(4);
        // (x, spikes, saved) addresses of each precision.
        let mut spikes32 = vec![0f32; T * N];
        let mut spikes_h = vec![narrow(0.0); T * N];
        let mut saved32 = vec![vec![0f32; rows * N]; s];
        let mut saved_h = vec![vec![0f32; rows * N]; s];
        let mut ctx32 = vec![0f32; T * N];
        let mut ctx_h = vec![narrow(0.0); T * N];
        let mut rest32 = vec![vec![0f32; N]; s + c.len()];
        let mut rest_h = vec![vec![0f32; N]; s + c.len()];
        let fixed: Vec<usize> = z0.iter().chain(&c).map(|v| v.as_ptr() as usize).collect();
        for (xa, sp, sv, cta, cx, rest, half) in [
            (
                xw.as_ptr() as usize,
                spikes32.as_mut_ptr() as usize,
                &mut saved32,
                ctw.as_ptr() as usize,
                ctx32.as_mut_ptr() as usize,
                &mut rest32,
                false,
            ),
            (
                xh.as_ptr() as usize,
                spikes_h.as_mut_ptr() as usize,
                &mut saved_h,
                cts.as_ptr() as usize,
                ctx_h.as_mut_ptr() as usize,
                &mut rest_h,
                true,
            ),
        ] {
            let ins = [vec![xa], fixed.clone()].concat();
            let mut outs = vec![sp];
            outs.extend(sv.iter_mut().map(|v| v.as_mut_ptr() as usize));
            let mut bins = ins.clone();
            bins.extend(sv.iter().map(|v| v.as_ptr() as usize));
            bins.push(cta);
            bins.extend(std::iter::repeat_n(0, s));
            let mut bouts = vec![cx];
            bouts.extend(rest.iter_mut().map(|v| v.as_mut_ptr() as usize));
            for cols in [0..100, 100..N] {
                // SAFETY: the buffers above have the documented sizes.
                unsafe {
                    if half {
                        half_pass(&*k, 0, &ins, &outs);
                        half_pass(&*k, 2, &bins, &bouts);
                    } else {
                        k.forward_f32(T, N, cols.clone(), &ins, &outs);
                        k.bptt_f32(T, N, cols, &bins, &bouts, true);
                    }
                }
                if half {
                    break; // the closure runs all columns
                }
            }
        }
        let spikes_w: Vec<H> = spikes32.iter().map(|&v| narrow(v)).collect();
        assert_eq!(spikes_h, spikes_w, "{model}: spikes");
        assert_eq!(saved_h, saved32, "{model}: checkpoints");
        let ctx_w: Vec<H> = ctx32.iter().map(|&v| narrow(v)).collect();
        assert_eq!(ctx_h, ctx_w, "{model}: ct_x");
        // In place (ct_x in ct_spikes' buffer): the same bits.
        let mut shared = cts.clone();
        let mut bins = [vec![xh.as_ptr() as usize], fixed.clone()].concat();
        bins.extend(saved_h.iter().map(|v| v.as_ptr() as usize));
        bins.push(shared.as_ptr() as usize);
        bins.extend(std::iter::repeat_n(0, s));
        let mut rest = vec![vec![0f32; N]; s + c.len()];
        let mut bouts = vec![shared.as_mut_ptr() as usize];
        bouts.extend(rest.iter_mut().map(|v| v.as_mut_ptr() as usize));
        // ct_x may alias ct_spikes (the closure's passes are unsafe calls).
        half_pass(&*k, 2, &bins, &bouts);
        assert_eq!(shared, ctx_h, "{model}: ct_x in place");
        assert_eq!(rest, rest_h, "{model}: ct_z0, ct_c in place");
        assert_eq!(rest_h, rest32, "{model}: ct_z0, ct_c");
    }
    for model in MODELS {
        run(model, bf16::from_f32, bf16::to_f32, |k, pass, ins, outs| {
            for cols in [0..100, 100..N] {
                // SAFETY: as above.
                unsafe {
                    if pass == 0 {
                        k.forward_bf16(T, N, cols, ins, outs)
                    } else {
                        k.bptt_bf16(T, N, cols, ins, outs, true)
                    }
                }
            }
        });
        run(model, f16::from_f32, f16::to_f32, |k, pass, ins, outs| {
            for cols in [0..100, 100..N] {
                // SAFETY: as above.
                unsafe {
                    if pass == 0 {
                        k.forward_f16(T, N, cols, ins, outs)
                    } else {
                        k.bptt_f16(T, N, cols, ins, outs, true)
                    }
                }
            }
        });
    }
}
