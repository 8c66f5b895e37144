//! The recurrent passes of every fused neuron model: the whole sequence of a
//! population whose step input is `x_t + s_prev @ w_rec`, forward and BPTT,
//! generic over the model ([`Model`]), the surrogate and the reset.
//!
//! Neurons are `[R, n]` (rows of `n` neurons, flattened to `R n` columns of
//! the `[steps, R n]` grids); `w_rec` is `[n, n]`, from presynaptic (rows) to
//! postsynaptic (columns) neurons of the same row. `s_prev` is the spike of
//! the state a step starts from, the spike that drives the reset.
//!
//! **Cost of the spikes.** The forward adds `s_j w_rec[j, :]` for the spiking
//! `j` of a row only (contiguous rows of `w_rec`; exact for any spike value).
//! BPTT computes the recurrent spikes' cotangent `dot(delta_t, w_rec[j, :])`
//! only where `g'(u_j)` is nonzero (it is multiplied by `g'`, so this is
//! exact), and adds `s_j delta_t` to `gw[j, :]` for the spiking `j` only.
//!
//! **Rows step by step.** A call runs a block of rows through every step
//! together, so each row of `w_rec` read at a step serves the block's rows.
//!
//! **Checkpoints** as in [`super::passes`]: the forward keeps the state every
//! `stride` steps; BPTT recomputes each segment from its checkpoint with the
//! forward's own step ([`step_rows`]), so the recomputed states are the
//! forward's bit for bit.
//!
//! **Determinism.** A BPTT call writes the weight gradient of its block of
//! rows to its own `[n, n]` partial; the caller fixes the blocks from the row
//! count alone and sums the partials in block order, so the result does not
//! depend on the thread count. Everything else is per neuron.

// Index loops address several per-neuron arrays in step.
#![allow(clippy::needless_range_loop)]

use std::array::from_fn;
use std::ops::Range;

use super::model::Model;
use super::{Grid, GridMut, NeuronReal};
use crate::kernels::GradKernel;

/// The inputs and outputs of the forward pass; grids of `R n` columns but
/// `w`, `[n, n]`.
pub struct RecForward<'a, R, const S: usize, const C: usize> {
    pub x: Grid<'a, R>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    pub w: Grid<'a, R>,
    /// The spikes, or none.
    pub spikes: Option<GridMut<'a, R>>,
    /// Checkpoints `[ceil(T / stride), R n]`, or none.
    pub saved: Option<[GridMut<'a, R>; S]>,
}

/// The inputs and outputs of BPTT; `gw` is the calling block's own `[n, n]`
/// partial of the weight gradient, which the pass adds to.
pub struct RecBptt<'a, R, const S: usize, const C: usize> {
    pub x: Grid<'a, R>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    pub w: Grid<'a, R>,
    pub saved: [Grid<'a, R>; S],
    pub ct_spikes: Grid<'a, R>,
    /// Cotangents of the every-step states (stride 1 only); none: zero.
    pub ct_z: [Option<Grid<'a, R>>; S],
    pub ct_x: GridMut<'a, R>,
    pub ct_z0: [GridMut<'a, R>; S],
    pub ct_c: [GridMut<'a, R>; C],
    pub gw: GridMut<'a, R>,
}

#[inline(always)]
fn zero<R: NeuronReal>() -> R {
    R::from_f64(0.0)
}

/// The step `[u >= 0]` (NaN gives 0), as in the feed-forward passes.
#[inline(always)]
fn spike<R: NeuronReal>(u: R) -> R {
    if u >= zero() {
        R::from_f64(1.0)
    } else {
        zero()
    }
}

/// `acc += a * v`.
#[inline(always)]
fn axpy<R: NeuronReal>(acc: &mut [R], a: R, v: &[R]) {
    for (y, &x) in acc.iter_mut().zip(v) {
        *y = *y + a * x;
    }
}

/// Lanes of the dot products: partial sums interleaved over the elements.
const L: usize = 8;

/// The dot product from its lane sums and the tail past the last full lane
/// group: one fixed order, shared by [`dot`] and [`dot4`].
#[inline(always)]
fn finish<R: NeuronReal>(part: [R; L], a: &[R], b: &[R]) -> R {
    let mut sum =
        ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
    for (x, y) in a.iter().zip(b) {
        sum = sum + *x * *y;
    }
    sum
}

/// `dot(a, b)` in [`L`] interleaved partial sums (a fixed order). Whole
/// lane groups through iterators: no bounds checks, so the loop vectorizes.
#[inline(always)]
fn dot<R: NeuronReal>(a: &[R], b: &[R]) -> R {
    let (b8, b_tail) = b.as_chunks::<L>();
    let (a8, a_tail) = a[..b.len()].as_chunks::<L>();
    let mut part = [zero::<R>(); L];
    for (x, y) in a8.iter().zip(b8) {
        for l in 0..L {
            part[l] = part[l] + x[l] * y[l];
        }
    }
    finish(part, a_tail, b_tail)
}

/// Four [`dot`]s against the same `b` (each `b` load serves four rows), bit
/// for bit equal to four calls of [`dot`].
#[inline(always)]
fn dot4<R: NeuronReal>(a: [&[R]; 4], b: &[R]) -> [R; 4] {
    let (b8, b_tail) = b.as_chunks::<L>();
    let split: [(&[[R; L]], &[R]); 4] = from_fn(|q| a[q][..b.len()].as_chunks::<L>());
    let mut part = [[zero::<R>(); L]; 4];
    let rows = split[0]
        .0
        .iter()
        .zip(split[1].0)
        .zip(split[2].0)
        .zip(split[3].0);
    for ((((x0, x1), x2), x3), y) in rows.zip(b8) {
        for (q, x) in [x0, x1, x2, x3].into_iter().enumerate() {
            for l in 0..L {
                part[q][l] = part[q][l] + x[l] * y[l];
            }
        }
    }
    from_fn(|q| finish(part[q], split[q].1, b_tail))
}

/// A block's per-neuron constants and `k = 1 / (V_th - V_reset)`.
#[inline(always)]
fn block_consts<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Grid<'_, R>; C],
    cols: &Range<usize>,
) -> (Vec<[R; C]>, Vec<R>) {
    let rows: [&[R]; C] = from_fn(|q| c[q].row(0, cols.clone()));
    let cs: Vec<[R; C]> = (0..cols.len()).map(|i| from_fn(|q| rows[q][i])).collect();
    let k = cs.iter().map(|ci| M::scale(ci)).collect();
    (cs, k)
}

/// One step of a block's rows of `n` neurons: from the states `z` and their
/// spikes `s` to the next ones, in place; `inp` gets each neuron's input
/// `x + s @ w` (per row the spiking rows of `w` summed in ascending order
/// first, then `x`, as `x + s @ w` is written). Each row of `w` is read once
/// for all the block's rows that spike there. `acc` is scratch of `z`'s length.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_rows<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    n: usize,
    w: &Grid<'_, R>,
    c: &[[R; C]],
    k: &[R],
    x: &[R],
    z: &mut [[R; S]],
    s: &mut [R],
    inp: &mut [R],
    acc: &mut [R],
) {
    acc.fill(zero());
    for j in 0..n {
        let mut wr: Option<&[R]> = None;
        for (base, a) in (0..z.len()).step_by(n).zip(acc.chunks_exact_mut(n)) {
            let sj = s[base + j];
            if sj != zero() {
                let row = *wr.get_or_insert_with(|| w.row(j, 0..n));
                axpy(a, sj, row);
            }
        }
    }
    for idx in 0..z.len() {
        let xi = x[idx] + acc[idx];
        inp[idx] = xi;
        let zn = M::step::<R, HARD>(&c[idx], &z[idx], xi, s[idx]);
        z[idx] = zn;
        s[idx] = spike(M::u(&c[idx], k[idx], &zn));
    }
}

/// The initial states of a block (`z0`, or a checkpoint row) and their spikes.
#[inline(always)]
fn initial<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    z0: &[Grid<'_, R>; S],
    row: usize,
    cols: &Range<usize>,
    c: &[[R; C]],
    k: &[R],
) -> (Vec<[R; S]>, Vec<R>) {
    let rows: [&[R]; S] = from_fn(|q| z0[q].row(row, cols.clone()));
    let z: Vec<[R; S]> = (0..cols.len()).map(|i| from_fn(|q| rows[q][i])).collect();
    let s = (0..z.len())
        .map(|i| spike(M::u(&c[i], k[i], &z[i])))
        .collect();
    (z, s)
}

/// The forward pass over the rows `rows` (of `n` neurons each).
#[inline(always)]
pub fn rec_forward_block<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    n: usize,
    stride: usize,
    rows: Range<usize>,
    io: &RecForward<'_, R, S, C>,
) {
    let steps = io.x.steps();
    let cols = rows.start * n..rows.end * n;
    let (c, k) = block_consts::<R, M, S, C>(&io.c, &cols);
    let (mut z, mut s) = initial::<R, M, S, C>(&io.z0, 0, &cols, &c, &k);
    let (mut inp, mut acc) = (vec![zero::<R>(); cols.len()], vec![zero::<R>(); cols.len()]);
    for t in 0..steps {
        let x = io.x.row(t, cols.clone());
        step_rows::<R, M, S, C, HARD>(n, &io.w, &c, &k, x, &mut z, &mut s, &mut inp, &mut acc);
        if let Some(spikes) = &io.spikes {
            spikes.row_mut(t, cols.clone()).copy_from_slice(&s);
        }
        if let Some(saved) = &io.saved {
            if (t + 1) % stride == 0 || t + 1 == steps {
                for q in 0..S {
                    let dst = saved[q].row_mut(t / stride, cols.clone());
                    for i in 0..z.len() {
                        dst[i] = z[i][q];
                    }
                }
            }
        }
    }
}

/// BPTT over the rows `rows`; the weight gradient is added to `io.gw`.
#[inline(always)]
pub fn rec_bptt_block<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
    const CONSTS: bool,
>(
    sg: &dyn GradKernel,
    n: usize,
    stride: usize,
    rows: Range<usize>,
    io: &RecBptt<'_, R, S, C>,
) {
    let steps = io.x.steps();
    let cols = rows.start * n..rows.end * n;
    let nb = cols.len();
    let (c, k) = block_consts::<R, M, S, C>(&io.c, &cols);
    let seg_len = stride.min(steps.max(1));
    // A segment's states, their spikes and g' (rows of `nb`, row 0 the
    // checkpoint), and each step's input.
    let mut zs = vec![[zero::<R>(); S]; (seg_len + 1) * nb];
    let mut ss = vec![zero::<R>(); (seg_len + 1) * nb];
    let mut gs = vec![zero::<R>(); (seg_len + 1) * nb];
    let mut inps = vec![zero::<R>(); seg_len * nb];
    let mut acc = vec![zero::<R>(); nb];
    // The cotangents of the states and (per neuron, summed over time) of the
    // constants; per row at a step: the input's cotangent and the reset spike's.
    let mut lam = vec![[zero::<R>(); S]; nb];
    let mut lc = vec![[zero::<R>(); C]; if CONSTS { nb } else { 0 }];
    // Per step: the inputs' cotangents, the reset spikes' and the recurrent
    // spikes' (`dot(delta, w[j, :])` where `g' != 0`), and the rows to dot.
    let (mut delta, mut ct_s) = (vec![zero::<R>(); nb], vec![zero::<R>(); nb]);
    let mut rec = vec![zero::<R>(); nb];
    let mut live: Vec<usize> = Vec::with_capacity(nb / n.max(1));
    let gw = io.gw.row_mut(0, 0..n * n);
    for j in (0..steps.div_ceil(stride)).rev() {
        let t0 = j * stride;
        let len = stride.min(steps - t0);
        let (z, s) = if j == 0 {
            initial::<R, M, S, C>(&io.z0, 0, &cols, &c, &k)
        } else {
            initial::<R, M, S, C>(&io.saved, j - 1, &cols, &c, &k)
        };
        zs[..nb].copy_from_slice(&z);
        ss[..nb].copy_from_slice(&s);
        for m in 0..len {
            let (done, next) = zs.split_at_mut((m + 1) * nb);
            next[..nb].copy_from_slice(&done[m * nb..]);
            let (sdone, snext) = ss.split_at_mut((m + 1) * nb);
            snext[..nb].copy_from_slice(&sdone[m * nb..]);
            step_rows::<R, M, S, C, HARD>(
                n,
                &io.w,
                &c,
                &k,
                io.x.row(t0 + m, cols.clone()),
                &mut next[..nb],
                &mut snext[..nb],
                &mut inps[m * nb..(m + 1) * nb],
                &mut acc,
            );
        }
        let states = (len + 1) * nb;
        for i in 0..states {
            gs[i] = M::u(&c[i % nb], k[i % nb], &zs[i]);
        }
        R::grad_row(sg, &mut gs[..states]);
        for m in (0..len).rev() {
            let t = t0 + m;
            let ct_spk = io.ct_spikes.row(t, cols.clone());
            let ct_x = io.ct_x.row_mut(t, cols.clone());
            let ct_z: [Option<&[R]>; S] = from_fn(|q| io.ct_z[q].map(|g| g.row(t, cols.clone())));
            let (prev, next) = (m * nb, (m + 1) * nb);
            // The step's own transpose, per neuron: the input's cotangent
            // `delta` and the reset spike's.
            for idx in 0..nb {
                let mut lz = lam[idx];
                for q in 0..S {
                    if let Some(g) = ct_z[q] {
                        lz[q] = lz[q] + g[idx];
                    }
                }
                // Without CONSTS the constants' cotangents are never
                // stored, so their arithmetic is dead code and goes.
                let mut lci = if CONSTS { lc[idx] } else { [zero(); C] };
                let zn = zs[next + idx];
                M::u_vjp(
                    &c[idx],
                    k[idx],
                    &zn,
                    ct_spk[idx] * gs[next + idx],
                    &mut lz,
                    &mut lci,
                );
                let (lzp, d, cs) = M::step_vjp::<R, HARD>(
                    &c[idx],
                    &zs[prev + idx],
                    inps[prev + idx],
                    ss[prev + idx],
                    &lz,
                    &mut lci,
                );
                lam[idx] = lzp;
                if CONSTS {
                    lc[idx] = lci;
                }
                delta[idx] = d;
                ct_s[idx] = cs;
            }
            ct_x.copy_from_slice(&delta);
            // Per presynaptic neuron j, one read of w[j, :] and gw[j, :] for
            // all the block's rows: the recurrent spikes' cotangent where
            // g' != 0, the weight gradient where j spiked.
            for jn in 0..n {
                let wr = io.w.row(jn, 0..n);
                live.clear();
                live.extend(
                    (0..nb)
                        .step_by(n)
                        .filter(|&base| gs[prev + base + jn] != zero()),
                );
                let mut groups = live.chunks_exact(4);
                for g4 in &mut groups {
                    let d = dot4(from_fn(|q| &delta[g4[q]..g4[q] + n]), wr);
                    for q in 0..4 {
                        rec[g4[q] + jn] = d[q];
                    }
                }
                for &base in groups.remainder() {
                    rec[base + jn] = dot(&delta[base..base + n], wr);
                }
                let gwr = &mut gw[jn * n..(jn + 1) * n];
                for base in (0..nb).step_by(n) {
                    let sp = ss[prev + base + jn];
                    if sp != zero() {
                        axpy(gwr, sp, &delta[base..base + n]);
                    }
                }
            }
            // The previous spikes' cotangent (reset and recurrence) into the
            // previous state.
            for idx in 0..nb {
                let g = gs[prev + idx];
                let total = if g != zero() {
                    ct_s[idx] + rec[idx]
                } else {
                    ct_s[idx]
                };
                let mut lci = if CONSTS { lc[idx] } else { [zero(); C] };
                M::u_vjp(
                    &c[idx],
                    k[idx],
                    &zs[prev + idx],
                    total * g,
                    &mut lam[idx],
                    &mut lci,
                );
                if CONSTS {
                    lc[idx] = lci;
                }
            }
        }
    }
    for q in 0..S {
        let dst = io.ct_z0[q].row_mut(0, cols.clone());
        for i in 0..nb {
            dst[i] = lam[i][q];
        }
    }
    for q in 0..C {
        let dst = io.ct_c[q].row_mut(0, cols.clone());
        for i in 0..nb {
            dst[i] = if CONSTS { lc[i][q] } else { zero() };
        }
    }
}
