//! Tests of the recurrent passes (`recurrent`, `rec_kernel`) in f64 against a
//! naive reference written from the model alone: a loop over every step that
//! forms `x_t + s_prev @ w` densely, and BPTT over all the stored states with
//! the dense `delta @ w^T` and `s^T delta`. Also: checkpoint strides and row
//! blocks give the same bits.

// Row blocks are lists of row ranges, one range among them.
#![allow(clippy::single_range_in_vec_init)]

use super::alif::Alif;
use super::cuba_lif::CubaLif;
use super::lif::Lif;
use super::model::Model;
use crate::registry::{grad_kernel, neuron_kernel};

const T: usize = 11;
// 77 rows = 9 tiles of 8 + 4 + 1 (every row tile of the recurrent product)
// and two groups of the spike masks (64 rows each); 40 neurons = two column
// panels of the f64 product and a part one.
const ROWS: usize = 77;
const N: usize = 40;
const NB: usize = ROWS * N;

/// Deterministic values in `[lo, lo + span)`.
fn values(len: usize, seed: usize, lo: f64, span: f64) -> Vec<f64> {
    (0..len)
        .map(|k| lo + span * (((k * 7919 + seed * 104_729) % 1000) as f64 / 1000.0))
        .collect()
}

/// Per-neuron constants (decay, bias, drive, V_th, V_reset, extra).
fn consts(c: usize) -> Vec<Vec<f64>> {
    let mut out = vec![
        values(NB, 1, 0.5, 0.45),
        values(NB, 2, -0.02, 0.04),
        values(NB, 3, 0.3, 0.5),
        values(NB, 4, 0.8, 0.4),
        values(NB, 5, -0.3, 0.3),
    ];
    if c > 5 {
        out.push(values(NB, 6, 0.8, 0.19));
    }
    if c > 6 {
        out.push(values(NB, 7, 0.05, 0.3));
    }
    out
}

struct Case {
    x: Vec<f64>,
    z0: Vec<Vec<f64>>,
    c: Vec<Vec<f64>>,
    w: Vec<f64>,
    ct_spikes: Vec<f64>,
}

fn case(s: usize, c: usize) -> Case {
    // Mixed-sign weights: the recurrence both excites and inhibits.
    Case {
        x: values(T * NB, 11, -0.4, 2.6),
        z0: (0..s).map(|q| values(NB, 20 + q, -0.3, 1.3)).collect(),
        c: consts(c),
        w: values(N * N, 30, -0.9, 1.6),
        ct_spikes: values(T * NB, 40, -1.0, 2.0),
    }
}

fn g(sg: &dyn crate::kernels::GradKernel, u: f64) -> f64 {
    let mut v = [u];
    sg.grad_in_place_f64(&mut v);
    v[0]
}

fn spike(u: f64) -> f64 {
    if u >= 0.0 {
        1.0
    } else {
        0.0
    }
}

/// The naive forward: `(spikes, states[t][i], inputs[t][i])`, `states[0]` the initial.
#[allow(clippy::type_complexity)]
fn naive_forward<M: Model<S, C>, const S: usize, const C: usize>(
    hard: bool,
    k: &Case,
) -> (Vec<f64>, Vec<Vec<[f64; S]>>, Vec<Vec<f64>>) {
    let cs: Vec<[f64; C]> = (0..NB)
        .map(|i| std::array::from_fn(|q| k.c[q][i]))
        .collect();
    let mut z: Vec<[f64; S]> = (0..NB)
        .map(|i| std::array::from_fn(|q| k.z0[q][i]))
        .collect();
    let (mut spikes, mut states, mut inputs) = (vec![0.0; T * NB], vec![z.clone()], vec![]);
    for t in 0..T {
        let s: Vec<f64> = (0..NB)
            .map(|i| spike(M::u(&cs[i], M::scale(&cs[i]), &z[i])))
            .collect();
        let mut inp = vec![0.0; NB];
        for r in 0..ROWS {
            for i in 0..N {
                let rec: f64 = (0..N).map(|j| s[r * N + j] * k.w[j * N + i]).sum();
                inp[r * N + i] = k.x[t * NB + r * N + i] + rec;
            }
        }
        for i in 0..NB {
            z[i] = if hard {
                M::step::<f64, true>(&cs[i], &z[i], inp[i], s[i])
            } else {
                M::step::<f64, false>(&cs[i], &z[i], inp[i], s[i])
            };
            spikes[t * NB + i] = spike(M::u(&cs[i], M::scale(&cs[i]), &z[i]));
        }
        states.push(z.clone());
        inputs.push(inp);
    }
    (spikes, states, inputs)
}

/// The naive BPTT: `(ct_x, ct_z0, ct_c, gw)`.
#[allow(clippy::type_complexity)]
fn naive_bptt<M: Model<S, C>, const S: usize, const C: usize>(
    hard: bool,
    sgname: &str,
    sgp: &[f64],
    k: &Case,
) -> (Vec<f64>, Vec<[f64; S]>, Vec<[f64; C]>, Vec<f64>) {
    let sg = grad_kernel(sgname, sgp).unwrap();
    let (_, states, inputs) = naive_forward::<M, S, C>(hard, k);
    let cs: Vec<[f64; C]> = (0..NB)
        .map(|i| std::array::from_fn(|q| k.c[q][i]))
        .collect();
    let (mut lam, mut lc) = (vec![[0.0; S]; NB], vec![[0.0; C]; NB]);
    let (mut ct_x, mut gw) = (vec![0.0; T * NB], vec![0.0; N * N]);
    for t in (0..T).rev() {
        let (zp, zn) = (&states[t], &states[t + 1]);
        let mut ct_s = vec![0.0; NB];
        for i in 0..NB {
            let kk = M::scale(&cs[i]);
            let gn = g(&*sg, M::u(&cs[i], kk, &zn[i]));
            let mut lz = lam[i];
            M::u_vjp(
                &cs[i],
                kk,
                &zn[i],
                k.ct_spikes[t * NB + i] * gn,
                &mut lz,
                &mut lc[i],
            );
            let s = spike(M::u(&cs[i], kk, &zp[i]));
            let (lzp, d, c_s) = if hard {
                M::step_vjp::<f64, true>(&cs[i], &zp[i], inputs[t][i], s, &lz, &mut lc[i])
            } else {
                M::step_vjp::<f64, false>(&cs[i], &zp[i], inputs[t][i], s, &lz, &mut lc[i])
            };
            lam[i] = lzp;
            ct_x[t * NB + i] = d;
            ct_s[i] = c_s;
        }
        for r in 0..ROWS {
            for j in 0..N {
                let i = r * N + j;
                let rec: f64 = (0..N)
                    .map(|m| ct_x[t * NB + r * N + m] * k.w[j * N + m])
                    .sum();
                let kk = M::scale(&cs[i]);
                let gp = g(&*sg, M::u(&cs[i], kk, &zp[i]));
                M::u_vjp(
                    &cs[i],
                    kk,
                    &zp[i],
                    (ct_s[i] + rec) * gp,
                    &mut lam[i],
                    &mut lc[i],
                );
                let s = spike(M::u(&cs[i], kk, &zp[i]));
                for m in 0..N {
                    gw[j * N + m] += s * ct_x[t * NB + r * N + m];
                }
            }
        }
    }
    (ct_x, lam, lc, gw)
}

/// The kernel's forward over the row blocks `blocks`: `(spikes, saved)`.
fn kernel_forward(
    model: &str,
    hard: bool,
    stride: usize,
    k: &Case,
    blocks: &[std::ops::Range<usize>],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let kern = neuron_kernel(model, "sigmoid", &[2.0], hard, stride as i64).unwrap();
    let mut spikes = vec![0.0; T * NB];
    let mut saved = vec![vec![0.0; T.div_ceil(stride) * NB]; k.z0.len()];
    let mut ins = vec![k.x.as_ptr() as usize];
    ins.extend(k.z0.iter().chain(&k.c).map(|v| v.as_ptr() as usize));
    ins.push(k.w.as_ptr() as usize);
    let mut outs = vec![spikes.as_mut_ptr() as usize];
    outs.extend(saved.iter_mut().map(|v| v.as_mut_ptr() as usize));
    for b in blocks {
        // SAFETY: the buffers above have the documented sizes.
        unsafe { kern.rec_forward_f64(T, ROWS, N, b.clone(), &ins, &outs) };
    }
    (spikes, saved)
}

/// The kernel's BPTT over the row blocks `blocks`, each with its own weight
/// partial summed in block order: `(ct_x, ct_z0, ct_c, gw)`.
#[allow(clippy::type_complexity)]
fn kernel_bptt(
    model: &str,
    hard: bool,
    sgname: &str,
    sgp: &[f64],
    stride: usize,
    k: &Case,
    blocks: &[std::ops::Range<usize>],
) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<f64>) {
    let (_, saved) = kernel_forward(model, hard, stride, k, &[0..ROWS]);
    let kern = neuron_kernel(model, sgname, sgp, hard, stride as i64).unwrap();
    let (s, c) = (k.z0.len(), k.c.len());
    let mut ct_x = vec![0.0; T * NB];
    let mut ct_z0 = vec![vec![0.0; NB]; s];
    let mut ct_c = vec![vec![0.0; NB]; c];
    let mut ins = vec![k.x.as_ptr() as usize];
    ins.extend(k.z0.iter().chain(&k.c).map(|v| v.as_ptr() as usize));
    ins.push(k.w.as_ptr() as usize);
    ins.extend(saved.iter().map(|v| v.as_ptr() as usize));
    ins.push(k.ct_spikes.as_ptr() as usize);
    ins.extend(std::iter::repeat_n(0, s));
    let mut gw = vec![0.0; N * N];
    for b in blocks {
        let mut part = vec![0.0; N * N];
        let mut outs = vec![ct_x.as_mut_ptr() as usize];
        outs.extend(
            ct_z0
                .iter_mut()
                .chain(ct_c.iter_mut())
                .map(|v| v.as_mut_ptr() as usize),
        );
        outs.push(part.as_mut_ptr() as usize);
        // SAFETY: the buffers above have the documented sizes.
        unsafe { kern.rec_bptt_f64(T, ROWS, N, b.clone(), &ins, &outs, true) };
        for (a, p) in gw.iter_mut().zip(&part) {
            *a += p;
        }
    }
    (ct_x, ct_z0, ct_c, gw)
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    let scale = want.iter().fold(1e-30f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-12 * scale, "{what}[{i}]: {a} vs {b}");
    }
}

fn check<M: Model<S, C>, const S: usize, const C: usize>() {
    let k = case(S, C);
    let name = M::NAME;
    for hard in [false, true] {
        let (want_spikes, want_states, _) = naive_forward::<M, S, C>(hard, &k);
        let rate = want_spikes.iter().sum::<f64>() / want_spikes.len() as f64;
        assert!(rate > 0.05 && rate < 0.7, "{name}: rate {rate}");
        let (spikes, saved) = kernel_forward(name, hard, 1, &k, &[0..1, 1..ROWS]);
        assert_eq!(spikes, want_spikes, "{name} hard={hard}");
        for q in 0..S {
            let want: Vec<f64> = (1..=T)
                .flat_map(|t| want_states[t].iter().map(move |z| z[q]))
                .collect();
            close(&format!("{name} state {q}"), &saved[q], &want);
        }
        for (sgname, sgp) in [("sigmoid", &[2.0][..]), ("relu_grad", &[0.3, 1.0][..])] {
            let (ct_x, ct_z0, ct_c, gw) = naive_bptt::<M, S, C>(hard, sgname, sgp, &k);
            let mut first = None;
            for stride in [1, 4, T, 16] {
                for blocks in [vec![0..ROWS], vec![0..2, 2..ROWS]] {
                    let got = kernel_bptt(name, hard, sgname, sgp, stride, &k, &blocks);
                    let what = format!("{name} hard={hard} {sgname} stride={stride}");
                    close(&format!("{what} ct_x"), &got.0, &ct_x);
                    for q in 0..S {
                        let want: Vec<f64> = ct_z0.iter().map(|z| z[q]).collect();
                        close(&format!("{what} ct_z0[{q}]"), &got.1[q], &want);
                    }
                    for q in 0..C {
                        let want: Vec<f64> = ct_c.iter().map(|z| z[q]).collect();
                        close(&format!("{what} ct_c[{q}]"), &got.2[q], &want);
                    }
                    close(&format!("{what} gw"), &got.3, &gw);
                    // Per-neuron results: the same bits for any stride and
                    // block split; the weight gradient for any stride.
                    if blocks.len() == 1 {
                        match &first {
                            None => first = Some(got),
                            Some(f) => assert!(
                                f.0 == got.0 && f.1 == got.1 && f.2 == got.2 && f.3 == got.3,
                                "{what}"
                            ),
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn recurrent_passes_match_the_naive_reference() {
    check::<Lif, 1, 5>();
    check::<Alif, 2, 7>();
    check::<CubaLif, 2, 6>();
}
