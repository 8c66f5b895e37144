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
//! The spiking `(row, j)` are found from per-`j` bit masks of up to 64 rows
//! ([`for_each_spike`]), not by testing each neuron of each row per `j`.
//! BPTT computes the recurrent spikes' cotangent `delta_t @ w_rec^T` as a
//! product of register tiles ([`rec_product`]), skipping the tiles where every
//! `g'(u)` is zero (the entries are multiplied by `g'`, so this is exact), and
//! adds `s_j delta_t` to `gw[j, :]` for the spiking `j` only.
//!
//! **Rows step by step.** A call runs a block of rows through every step
//! together, so each row of `w_rec` read at a step serves the block's rows.
//!
//! **Tiles of neurons.** A block's per-neuron values are stored as tiles of
//! [`W`] neurons, each state and constant a `[R; W]` array (structure of
//! arrays), and the step and its transpose run over a tile's elements, which
//! LLVM vectorizes; with one `[R; S]` array per neuron the step ran in
//! scalar code (the forward took 10 ms with `w_rec = 0` against 1.6 ms for
//! the feed-forward pass on the same input). Tiles span row boundaries; the
//! last is zero-padded, and the padding is never stored.
//!
//! **Checkpoints** as in [`super::passes`]: the forward keeps the state every
//! `stride` steps; BPTT recomputes each segment from its checkpoint with the
//! forward's own step ([`step_rows`]), so the recomputed states are the
//! forward's bit for bit.
//!
//! **Determinism.** A BPTT call writes the weight gradient of its block of
//! rows to its own `[n, n]` partial; the caller fixes the blocks from the row
//! count alone and sums the partials in block order, so the result does not
//! depend on the thread count. Everything else is per neuron, and each entry
//! of the recurrent product sums over `k` in one order whatever the tiling.

// Index loops address several per-neuron arrays in step.
#![allow(clippy::needless_range_loop)]

use std::array::from_fn;
use std::ops::Range;

use super::model::Model;
use super::passes::{col, set_col, Tile, W};
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

/// Tile `ti` of a row of per-neuron values, zero-padded.
#[inline(always)]
fn tile_at<R: NeuronReal>(row: &[R], ti: usize) -> Tile<R> {
    let at = ti * W;
    let w = W.min(row.len() - at);
    let mut t = [zero(); W];
    t[..w].copy_from_slice(&row[at..at + w]);
    t
}

/// Per-neuron rows (one per state or constant) as tiles of `K` arrays.
#[inline(always)]
fn tiles_of<R: NeuronReal, const K: usize>(rows: [&[R]; K], nb: usize) -> Vec<[Tile<R>; K]> {
    (0..nb.div_ceil(W))
        .map(|ti| from_fn(|q| tile_at(rows[q], ti)))
        .collect()
}

/// State (or constant) `q` of the tiles into `dst`, a row of per-neuron values.
#[inline(always)]
fn untile<R: NeuronReal, const K: usize>(tiles: &[[Tile<R>; K]], q: usize, dst: &mut [R]) {
    for (ti, t) in tiles.iter().enumerate() {
        let at = ti * W;
        let w = W.min(dst.len() - at);
        dst[at..at + w].copy_from_slice(&t[q][..w]);
    }
}

/// `u` of a tile of states.
#[inline(always)]
fn u_of<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Tile<R>; C],
    k: &Tile<R>,
    z: &[Tile<R>; S],
) -> Tile<R> {
    from_fn(|j| M::u(&col(c, j), k[j], &col(z, j)))
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
/// row count `M`. The portable tile, for CPUs without AVX-512: LLVM keeps
/// its accumulators in registers only where it chooses to (see
/// [`super::rec_tile`]).
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
/// `g'` of it is zero (the entries are multiplied by `g'`; skipping is exact):
/// the AVX-512 tile ([`super::rec_tile::SimdTile`]) where the CPU has one, else [`tile`];
/// both sum each entry in the same order, so they give the same bits.
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
    assert!(
        j0 + NR <= np
            && wt.len() >= n * np
            && delta.len() >= (b + M) * n
            && rec.len() >= (b + M) * n
    );
    if NR == R::COLS {
        let (dp, rp) = (delta.as_ptr(), rec.as_mut_ptr());
        // SAFETY: rows b..b + M of delta and rec exist and j0 + w <= n
        // (asserted above and by the caller); wt has n rows of np >= j0 + NR.
        let done = unsafe {
            R::simd_tile::<M>(
                wt.as_ptr().add(j0),
                np,
                n,
                from_fn(|r| dp.add((b + r) * n)),
                from_fn(|r| rp.add((b + r) * n + j0)),
                w,
            )
        };
        if done {
            return;
        }
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

/// A block's constants and `k = 1 / (V_th - V_reset)`, as tiles.
#[inline(always)]
fn block_consts<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Grid<'_, R>; C],
    cols: &Range<usize>,
) -> (Vec<[Tile<R>; C]>, Vec<Tile<R>>) {
    let cs = tiles_of(from_fn(|q| c[q].row(0, cols.clone())), cols.len());
    let k = cs
        .iter()
        .map(|ct| from_fn(|j| M::scale(&col(ct, j))))
        .collect();
    (cs, k)
}

/// One step of a tile: from the states `z` and their spikes `s` to the next
/// ones, in place, with the inputs `x`.
#[inline(always)]
fn step_tile<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    c: &[Tile<R>; C],
    k: &Tile<R>,
    x: &Tile<R>,
    z: &mut [Tile<R>; S],
    s: &mut Tile<R>,
) {
    for j in 0..W {
        let cj = col(c, j);
        let zn = M::step::<R, HARD>(&cj, &col(z, j), x[j], s[j]);
        set_col(z, j, zn);
        s[j] = spike(M::u(&cj, k[j], &zn));
    }
}

/// Rows per group of [`for_each_spike`]'s masks (the bits of a `u64`).
const MASK_ROWS: usize = 64;

/// `f(j, b)` for every row `b` of `s` (rows of `n`) and neuron `j` where
/// `s[b n + j] != 0`: per group of [`MASK_ROWS`] rows, in ascending `j`,
/// then ascending `b`. So a row's `j` come in ascending order, and a `j`'s
/// rows too. `masks[j]` gets bit `b` where row `b` of the group spikes at `j`
/// (a branch-free vector compare per lane), and only the set bits are
/// visited, instead of a test of every neuron of every row per `j`.
#[inline(always)]
fn for_each_spike<R: NeuronReal>(
    s: &[R],
    n: usize,
    masks: &mut Vec<u64>,
    mut f: impl FnMut(usize, usize),
) {
    if n == 0 {
        return;
    }
    masks.resize(n, 0);
    let rows = s.len() / n;
    for g0 in (0..rows).step_by(MASK_ROWS) {
        masks.fill(0);
        for b in g0..rows.min(g0 + MASK_ROWS) {
            let bit = 1u64 << (b - g0);
            for (m, &v) in masks.iter_mut().zip(&s[b * n..(b + 1) * n]) {
                *m |= if v != zero() { bit } else { 0 };
            }
        }
        for (j, &mask) in masks.iter().enumerate() {
            let mut m = mask;
            while m != 0 {
                f(j, g0 + m.trailing_zeros() as usize);
                m &= m - 1;
            }
        }
    }
}

/// What a step needs of `w` besides its rows: the columns holding a
/// non-finite weight (usually none), and [`for_each_spike`]'s masks.
struct Recurrence<'a, R> {
    w: Grid<'a, R>,
    n: usize,
    /// A dense `s @ w` is non-finite in such a column whatever the spikes
    /// (`0 * inf` is NaN); the sum over the spiking rows alone is not, so
    /// these columns' inputs are made NaN at every step instead.
    non_finite: Option<Vec<usize>>,
    masks: Vec<u64>,
}

impl<'a, R: NeuronReal> Recurrence<'a, R> {
    fn new(w: Grid<'a, R>, n: usize) -> Self {
        // Per column, whether some weight is inf or NaN (`|v| < inf` is
        // false for both): one branch-free pass over `w` that vectorizes.
        let inf = R::from_f64(f64::INFINITY);
        let is_finite = |v: R| v.abs() < inf;
        let mut bad = vec![false; n];
        for j in 0..n {
            for (b, &v) in bad.iter_mut().zip(w.row(j, 0..n)) {
                *b |= !is_finite(v);
            }
        }
        let non_finite = bad
            .contains(&true)
            .then(|| (0..n).filter(|&c| bad[c]).collect());
        Self {
            w,
            n,
            non_finite,
            masks: Vec::new(),
        }
    }
}

/// One step of a block's rows of `n` neurons (`x.len()` of them): from the
/// states `z` and their spikes `s` to the next ones, in place; `inp` gets
/// each neuron's input `x + s @ w` (per row the spiking rows of `w` summed
/// in ascending order first, then `x`, as `x + s @ w` is written). Each row
/// of `w` is read once for all the rows of a [`for_each_spike`] group that
/// spike there.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_rows<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    rec: &mut Recurrence<'_, R>,
    c: &[[Tile<R>; C]],
    k: &[Tile<R>],
    x: &[R],
    z: &mut [[Tile<R>; S]],
    s: &mut [Tile<R>],
    inp: &mut [Tile<R>],
) {
    let (n, nb) = (rec.n, x.len());
    let acc = inp.as_flattened_mut();
    acc.fill(zero());
    let sf = &s.as_flattened()[..nb];
    let w = rec.w;
    for_each_spike(sf, n, &mut rec.masks, |j, b| {
        axpy(&mut acc[b * n..(b + 1) * n], sf[b * n + j], w.row(j, 0..n));
    });
    for (a, &xi) in acc.iter_mut().zip(x) {
        *a = xi + *a;
    }
    if let Some(bad) = &rec.non_finite {
        for row in acc[..nb].chunks_exact_mut(n) {
            for &j in bad {
                row[j] = R::from_f64(f64::NAN);
            }
        }
    }
    for ti in 0..z.len() {
        step_tile::<R, M, S, C, HARD>(&c[ti], &k[ti], &inp[ti], &mut z[ti], &mut s[ti]);
    }
}

/// The initial states of a block (`z0`, or a checkpoint row) and their
/// spikes, as tiles.
#[inline(always)]
fn initial<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    z0: &[Grid<'_, R>; S],
    row: usize,
    cols: &Range<usize>,
    c: &[[Tile<R>; C]],
    k: &[Tile<R>],
) -> (Vec<[Tile<R>; S]>, Vec<Tile<R>>) {
    let z = tiles_of(from_fn(|q| z0[q].row(row, cols.clone())), cols.len());
    let s = (0..z.len())
        .map(|ti| u_of::<R, M, S, C>(&c[ti], &k[ti], &z[ti]).map(spike))
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
    let nb = cols.len();
    let (c, k) = block_consts::<R, M, S, C>(&io.c, &cols);
    let (mut z, mut s) = initial::<R, M, S, C>(&io.z0, 0, &cols, &c, &k);
    let mut inp = vec![[zero::<R>(); W]; z.len()];
    let mut rec = Recurrence::new(io.w, n);
    for t in 0..steps {
        let x = io.x.row(t, cols.clone());
        step_rows::<R, M, S, C, HARD>(&mut rec, &c, &k, x, &mut z, &mut s, &mut inp);
        if let Some(spikes) = &io.spikes {
            spikes
                .row_mut(t, cols.clone())
                .copy_from_slice(&s.as_flattened()[..nb]);
        }
        if let Some(saved) = &io.saved {
            if (t + 1) % stride == 0 || t + 1 == steps {
                for q in 0..S {
                    untile(&z, q, saved[q].row_mut(t / stride, cols.clone()));
                }
            }
        }
    }
}

/// The step's own transpose over a tile: from the cotangent `lam` of the
/// next state (and its spike's, `ct_spk g'_next`) to the previous state's,
/// the input's (`delta`) and the reset spike's (`ct_s`). Without `CONSTS`
/// the constants' cotangents are never stored, so their arithmetic is dead
/// code and goes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_vjp_tile<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
    const CONSTS: bool,
>(
    c: &[Tile<R>; C],
    k: &Tile<R>,
    zp: &[Tile<R>; S],
    zn: &[Tile<R>; S],
    x: &Tile<R>,
    s: &Tile<R>,
    ct_spk: &Tile<R>,
    g_next: &Tile<R>,
    lam: &mut [Tile<R>; S],
    lc: &mut [Tile<R>; C],
    delta: &mut Tile<R>,
    ct_s: &mut Tile<R>,
) {
    for i in 0..W {
        let cj = col(c, i);
        let mut lz = col(lam, i);
        let mut lci = if CONSTS { col(lc, i) } else { [zero(); C] };
        M::u_vjp(
            &cj,
            k[i],
            &col(zn, i),
            ct_spk[i] * g_next[i],
            &mut lz,
            &mut lci,
        );
        let (lzp, d, cs) = M::step_vjp::<R, HARD>(&cj, &col(zp, i), x[i], s[i], &lz, &mut lci);
        set_col(lam, i, lzp);
        if CONSTS {
            set_col(lc, i, lci);
        }
        delta[i] = d;
        ct_s[i] = cs;
    }
}

/// The previous spikes' cotangent (the reset's `ct_s`, plus the recurrence's
/// `rec` where `g' != 0`) into the previous state's, over a tile.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn spike_vjp_tile<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const CONSTS: bool,
>(
    c: &[Tile<R>; C],
    k: &Tile<R>,
    zp: &[Tile<R>; S],
    g: &Tile<R>,
    ct_s: &Tile<R>,
    rec: &Tile<R>,
    lam: &mut [Tile<R>; S],
    lc: &mut [Tile<R>; C],
) {
    for i in 0..W {
        let total = if g[i] != zero() {
            ct_s[i] + rec[i]
        } else {
            ct_s[i]
        };
        let mut lz = col(lam, i);
        let mut lci = if CONSTS { col(lc, i) } else { [zero(); C] };
        M::u_vjp(
            &col(c, i),
            k[i],
            &col(zp, i),
            total * g[i],
            &mut lz,
            &mut lci,
        );
        set_col(lam, i, lz);
        if CONSTS {
            set_col(lc, i, lci);
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
    let nt = c.len();
    let seg_len = stride.min(steps.max(1));
    let zt = [zero::<R>(); W];
    // A segment's states, their spikes and g' (`nt` tiles per step, step 0
    // the checkpoint), and each step's input.
    let mut zs = vec![[zt; S]; (seg_len + 1) * nt];
    let mut ss = vec![zt; (seg_len + 1) * nt];
    let mut gs = vec![zt; (seg_len + 1) * nt];
    let mut inps = vec![zt; seg_len * nt];
    let mut recur = Recurrence::new(io.w, n);
    // The cotangents of the states and (per neuron, summed over time) of the
    // constants (a dummy without CONSTS).
    let mut lam = vec![[zt; S]; nt];
    let mut lc = vec![[zt; C]; if CONSTS { nt } else { 0 }];
    let mut no_lc = [zt; C];
    // Per step: the inputs' cotangents, the reset spikes' and the recurrent
    // spikes' (`delta @ w^T` where `g' != 0`).
    let (mut delta, mut ct_s, mut rec) = (vec![zt; nt], vec![zt; nt], vec![zt; nt]);
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
        zs[..nt].copy_from_slice(&z);
        ss[..nt].copy_from_slice(&s);
        for m in 0..len {
            let (done, next) = zs.split_at_mut((m + 1) * nt);
            next[..nt].copy_from_slice(&done[m * nt..]);
            let (sdone, snext) = ss.split_at_mut((m + 1) * nt);
            snext[..nt].copy_from_slice(&sdone[m * nt..]);
            step_rows::<R, M, S, C, HARD>(
                &mut recur,
                &c,
                &k,
                io.x.row(t0 + m, cols.clone()),
                &mut next[..nt],
                &mut snext[..nt],
                &mut inps[m * nt..(m + 1) * nt],
            );
        }
        let states = (len + 1) * nt;
        for i in 0..states {
            gs[i] = u_of::<R, M, S, C>(&c[i % nt], &k[i % nt], &zs[i]);
        }
        R::grad_row(sg, gs[..states].as_flattened_mut());
        for m in (0..len).rev() {
            let t = t0 + m;
            let ct_spk = io.ct_spikes.row(t, cols.clone());
            let ct_z: [Option<&[R]>; S] = from_fn(|q| io.ct_z[q].map(|g| g.row(t, cols.clone())));
            let (prev, next) = (m * nt, (m + 1) * nt);
            for ti in 0..nt {
                for q in 0..S {
                    if let Some(g) = ct_z[q] {
                        let v = tile_at(g, ti);
                        for i in 0..W {
                            lam[ti][q][i] = lam[ti][q][i] + v[i];
                        }
                    }
                }
                let lct = if CONSTS { &mut lc[ti] } else { &mut no_lc };
                step_vjp_tile::<R, M, S, C, HARD, CONSTS>(
                    &c[ti],
                    &k[ti],
                    &zs[prev + ti],
                    &zs[next + ti],
                    &inps[prev + ti],
                    &ss[prev + ti],
                    &tile_at(ct_spk, ti),
                    &gs[next + ti],
                    &mut lam[ti],
                    lct,
                    &mut delta[ti],
                    &mut ct_s[ti],
                );
            }
            let df = &delta.as_flattened()[..nb];
            io.ct_x.row_mut(t, cols.clone()).copy_from_slice(df);
            // The recurrent spikes' cotangent where g' != 0, as a product
            // of register tiles.
            let g = &gs[prev..next].as_flattened()[..nb];
            let rf = &mut rec.as_flattened_mut()[..nb];
            if tile_width::<R>() == 32 {
                rec_product::<R, 32>(n, np, &wt, df, g, rf);
            } else {
                rec_product::<R, 16>(n, np, &wt, df, g, rf);
            }
            // The weight gradient, event-driven: `s_j delta` into `gw[j, :]`
            // for the spiking `j` of each row, rows in ascending order.
            let sp = &ss[prev..next].as_flattened()[..nb];
            for_each_spike(sp, n, &mut recur.masks, |j, b| {
                axpy(
                    &mut gw[j * n..(j + 1) * n],
                    sp[b * n + j],
                    &df[b * n..(b + 1) * n],
                );
            });
            for ti in 0..nt {
                let lct = if CONSTS { &mut lc[ti] } else { &mut no_lc };
                spike_vjp_tile::<R, M, S, C, CONSTS>(
                    &c[ti],
                    &k[ti],
                    &zs[prev + ti],
                    &gs[prev + ti],
                    &ct_s[ti],
                    &rec[ti],
                    &mut lam[ti],
                    lct,
                );
            }
        }
    }
    for q in 0..S {
        untile(&lam, q, io.ct_z0[q].row_mut(0, cols.clone()));
    }
    for q in 0..C {
        let dst = io.ct_c[q].row_mut(0, cols.clone());
        if CONSTS {
            untile(&lc, q, dst);
        } else {
            dst.fill(zero());
        }
    }
}
