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

/// Rows of `delta` per tile of the recurrent cotangent's product: with
/// [`tile_width`] columns, 16 vector accumulators (AVX-512), and each `wt`
/// load serves this many rows.
const MR: usize = 8;

/// `wt`'s rows are padded to a multiple of this many columns, so that every
/// tile reads whole `[R; NR]` arrays (both tile widths divide it).
const PAD: usize = 32;

/// `w` `[n, n]` transposed into `wt` `[n, np]` (`wt[k, j] = w[j, k]`), the
/// columns past `n` zero: the product below then reads rows of `wt`.
fn transpose<R: NeuronReal>(w: &Grid<'_, R>, n: usize, np: usize) -> Vec<R> {
    let mut wt = vec![zero::<R>(); n * np];
    for j in 0..n {
        for (k, &v) in w.row(j, 0..n).iter().enumerate() {
            wt[k * np + j] = v;
        }
    }
    wt
}

/// One tile of `delta @ w^T`: rows `d` (`n` each) against the `NR` columns
/// from `j0` of `wt`, accumulated over `k` in ascending order with fused
/// multiply-adds, so every entry's sum has one order whatever the tile's
/// row count `M`. The accumulators are a fixed-size array: LLVM keeps them
/// in vector registers.
#[inline(always)]
fn tile<R: NeuronReal, const M: usize, const NR: usize>(
    wt: &[R],
    np: usize,
    d: [&[R]; M],
    j0: usize,
) -> [[R; NR]; M] {
    let n = d[0].len();
    let d: [&[R]; M] = from_fn(|r| &d[r][..n]);
    let mut acc = [[zero::<R>(); NR]; M];
    for k in 0..n {
        let wk: &[R; NR] = wt[k * np + j0..k * np + j0 + NR].try_into().unwrap();
        for r in 0..M {
            let a = d[r][k];
            for c in 0..NR {
                acc[r][c] = a.mul_add(wk[c], acc[r][c]);
            }
        }
    }
    acc
}

/// The tile of rows `b..b + M`, columns `j0..j0 + w` of `rec`, unless every
/// `g'` of it is zero (the entries are multiplied by `g'`; skipping is exact).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile_rows<R: NeuronReal, const M: usize, const NR: usize>(
    n: usize,
    np: usize,
    wt: &[R],
    delta: &[R],
    g: &[R],
    rec: &mut [R],
    b: usize,
    j0: usize,
    w: usize,
) {
    let live = (b..b + M).any(|r| g[r * n + j0..r * n + j0 + w].iter().any(|&v| v != zero()));
    if !live {
        return;
    }
    let acc = tile::<R, M, NR>(
        wt,
        np,
        from_fn(|r| &delta[(b + r) * n..(b + r + 1) * n]),
        j0,
    );
    for r in 0..M {
        let at = (b + r) * n + j0;
        rec[at..at + w].copy_from_slice(&acc[r][..w]);
    }
}

/// `rec[b, j] = sum_k delta[b, k] w[j, k]` for the rows `b` of `delta` (rows
/// of `n`) and the columns `j` where some `g'` of the tile is nonzero; the
/// other entries are left as they were. `wt` from [`transpose`]. Column
/// panels outside, tiles of [`MR`] rows inside (then 4, then 1 for the last
/// rows), so a panel of `wt` serves every row from the cache.
#[inline(always)]
fn rec_product<R: NeuronReal, const NR: usize>(
    n: usize,
    np: usize,
    wt: &[R],
    delta: &[R],
    g: &[R],
    rec: &mut [R],
) {
    if n == 0 {
        return;
    }
    let rows = delta.len() / n;
    for j0 in (0..n).step_by(NR) {
        let w = NR.min(n - j0);
        let mut b = 0;
        while b + MR <= rows {
            tile_rows::<R, MR, NR>(n, np, wt, delta, g, rec, b, j0, w);
            b += MR;
        }
        while b + 4 <= rows {
            tile_rows::<R, 4, NR>(n, np, wt, delta, g, rec, b, j0, w);
            b += 4;
        }
        while b < rows {
            tile_rows::<R, 1, NR>(n, np, wt, delta, g, rec, b, j0, w);
            b += 1;
        }
    }
}

/// Columns per tile: two AVX-512 vectors of `R`.
#[inline(always)]
fn tile_width<R>() -> usize {
    if std::mem::size_of::<R>() == 4 {
        32
    } else {
        16
    }
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
    // spikes' (`delta @ w^T` where `g' != 0`).
    let (mut delta, mut ct_s) = (vec![zero::<R>(); nb], vec![zero::<R>(); nb]);
    let mut rec = vec![zero::<R>(); nb];
    let np = n.div_ceil(PAD) * PAD;
    let wt = transpose(&io.w, n, np);
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
            // The recurrent spikes' cotangent where g' != 0, as a product
            // of register tiles.
            let g = &gs[prev..prev + nb];
            if tile_width::<R>() == 32 {
                rec_product::<R, 32>(n, np, &wt, &delta, g, &mut rec);
            } else {
                rec_product::<R, 16>(n, np, &wt, &delta, g, &mut rec);
            }
            // The weight gradient, event-driven: `s_j delta` into `gw[j, :]`
            // for the spiking `j` of each row.
            for jn in 0..n {
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
