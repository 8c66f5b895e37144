//! The three passes of every fused neuron model, generic over the model
//! ([`Model`]), the surrogate, the precision and the reset: forward, tangent
//! (forward-mode derivative) and BPTT (its transpose).
//!
//! All take a block of neuron columns at a time through all `T` steps; the
//! per-block state lives in small arrays that stay in cache. The constants
//! are per neuron (`[1, n]` rows), so per-neuron, traced and trainable
//! parameters run the same code as scalar ones.
//!
//! **Checkpoints.** The forward pass saves the state every `stride` steps
//! (row `j` holds the state after step `min((j + 1) stride, T)`), or not at all.
//! BPTT walks the segments of `stride` steps backward; it recomputes each
//! segment's states from its checkpoint (the initial state for the first)
//! and the input, with the forward pass's own code, so the recomputed states
//! are the forward pass's bit for bit. The tangent pass runs forward in time
//! and recomputes the states as it goes.
//!
//! `g'` is computed over a row by the surrogate's own vectorized kernel
//! (`GradKernel::grad_in_place_*`, one dynamic call per row): inside the
//! recurrence loops the costlier surrogates stayed scalar (docs/perf.md), and
//! the passes are compiled once per model instead of once per model and
//! surrogate.

use std::array::from_fn;
use std::ops::Range;

use super::model::Model;
use super::{Grid, GridMut, NeuronReal};
use crate::kernels::GradKernel;

/// Neurons per block. Each step touches `BLOCK` contiguous elements of every
/// row: long enough for the prefetcher, short enough that a block's arrays
/// stay in L1/L2 (docs/perf.md).
const BLOCK: usize = 2048;

/// Bytes of recomputed segment state a BPTT block may hold; the block shrinks
/// for long segments so that the segment stays in L2.
const SEGMENT_BYTES: usize = 256 * 1024;

/// The step `[u >= 0]` (NaN gives 0).
#[inline(always)]
fn spike<R: NeuronReal>(u: R) -> R {
    if u >= R::from_f64(0.0) {
        R::from_f64(1.0)
    } else {
        R::from_f64(0.0)
    }
}

/// The inputs and outputs of one pass over columns `cols`, as grids.
pub struct Forward<'a, R, const S: usize, const C: usize> {
    pub x: Grid<'a, R>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    pub spikes: GridMut<'a, R>,
    /// Checkpoints `[ceil(T / stride), n]`, or none.
    pub saved: Option<[GridMut<'a, R>; S]>,
}

pub struct Tangent<'a, R, const S: usize, const C: usize> {
    pub x: Grid<'a, R>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    pub dx: Grid<'a, R>,
    pub dz0: [Grid<'a, R>; S],
    pub dc: [Grid<'a, R>; C],
    pub dspikes: GridMut<'a, R>,
    pub dz: [GridMut<'a, R>; S],
}

pub struct Bptt<'a, R, const S: usize, const C: usize> {
    pub x: Grid<'a, R>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    /// Checkpoints as the forward pass wrote them.
    pub saved: [Grid<'a, R>; S],
    pub ct_spikes: Grid<'a, R>,
    /// Cotangents of the every-step states (stride 1 only); none: zero.
    pub ct_z: [Option<Grid<'a, R>>; S],
    pub ct_x: GridMut<'a, R>,
    pub ct_z0: [GridMut<'a, R>; S],
    pub ct_c: [GridMut<'a, R>; C],
}

/// Row 0 of each `[1, n]` grid, columns `cols`.
#[inline(always)]
fn rows<'a, R, const K: usize>(g: &[Grid<'a, R>; K], cols: &Range<usize>) -> [&'a [R]; K] {
    from_fn(|k| g[k].row(0, cols.clone()))
}

#[inline(always)]
fn at<R: Copy, const K: usize>(rows: &[&[R]; K], i: usize) -> [R; K] {
    from_fn(|k| rows[k][i])
}

/// `k = 1 / (V_th - V_reset)` per neuron of the block.
#[inline(always)]
fn scales<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[&[R]; C],
    n: usize,
) -> Vec<R> {
    (0..n).map(|i| M::scale(&at(c, i))).collect()
}

/// Recompute `len` steps of the block from `seg[..][0..n]` into
/// `seg[..][(m + 1) n..]`, reading `x` rows `t0..t0 + len`; with `spikes`,
/// also write the output spikes. The forward pass's loop.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run_steps<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    c: &[&[R]; C],
    k: &[R],
    x: Grid<'_, R>,
    cols: &Range<usize>,
    t0: usize,
    len: usize,
    seg: &mut [Vec<R>; S],
) {
    let n = cols.len();
    let k = &k[..n];
    for m in 0..len {
        let xs = &x.row(t0 + m, cols.clone())[..n];
        let (now, next): ([&[R]; S], [&mut [R]; S]) = split_rows(seg, m, n);
        for i in 0..n {
            let ci = at(c, i);
            let zi = at(&now, i);
            let s = spike(M::u(&ci, k[i], &zi));
            let zn = M::step::<R, HARD>(&ci, &zi, xs[i], s);
            for q in 0..S {
                next[q][i] = zn[q];
            }
        }
    }
}

/// Rows `m` (read) and `m + 1` (write) of each state's segment buffer.
#[inline(always)]
fn split_rows<R, const S: usize>(
    seg: &mut [Vec<R>; S],
    m: usize,
    n: usize,
) -> ([&[R]; S], [&mut [R]; S]) {
    let mut now: [&[R]; S] = [&[]; S];
    let mut next: [&mut [R]; S] = from_fn(|_| &mut [][..]);
    for (q, buf) in seg.iter_mut().enumerate() {
        let (a, b) = buf[m * n..(m + 2) * n].split_at_mut(n);
        now[q] = a;
        next[q] = b;
    }
    (now, next)
}

/// `g'(u(z))` over a row of states, in two loops of their own (vectorized).
#[inline(always)]
fn grad_row<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    sg: &dyn GradKernel,
    c: &[&[R]; C],
    k: &[R],
    z: [&[R]; S],
    out: &mut [R],
) {
    let n = out.len();
    let k = &k[..n];
    for i in 0..n {
        out[i] = M::u(&at(c, i), k[i], &at(&z, i));
    }
    R::grad_row(sg, out);
}

#[inline(always)]
pub fn forward_block<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    stride: usize,
    cols: Range<usize>,
    io: &Forward<'_, R, S, C>,
) {
    let n = cols.len();
    let steps = io.x.steps();
    let c = rows(&io.c, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    let k = &k[..n];
    let mut state: [Vec<R>; S] = from_fn(|q| io.z0[q].row(0, cols.clone()).to_vec());
    for t in 0..steps {
        let xs = &io.x.row(t, cols.clone())[..n];
        let ss = &mut io.spikes.row_mut(t, cols.clone())[..n];
        let mut st: [&mut [R]; S] = from_fn(|_| &mut [][..]);
        for (q, buf) in state.iter_mut().enumerate() {
            st[q] = &mut buf[..n];
        }
        for i in 0..n {
            let ci = at(&c, i);
            let zi: [R; S] = from_fn(|q| st[q][i]);
            let s = spike(M::u(&ci, k[i], &zi));
            let zn = M::step::<R, HARD>(&ci, &zi, xs[i], s);
            for q in 0..S {
                st[q][i] = zn[q];
            }
            ss[i] = spike(M::u(&ci, k[i], &zn));
        }
        if let Some(saved) = &io.saved {
            if (t + 1) % stride == 0 || t + 1 == steps {
                for q in 0..S {
                    saved[q]
                        .row_mut(t / stride, cols.clone())
                        .copy_from_slice(&state[q][..n]);
                }
            }
        }
    }
}

#[inline(always)]
pub fn tangent_block<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    sg: &dyn GradKernel,
    cols: Range<usize>,
    io: &Tangent<'_, R, S, C>,
) {
    let n = cols.len();
    let steps = io.x.steps();
    let c = rows(&io.c, &cols);
    let dc = rows(&io.dc, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    // seg holds [z_{t-1}; z_t]; dz the tangent of z_{t-1}.
    let mut seg: [Vec<R>; S] = from_fn(|q| {
        let mut v = vec![R::from_f64(0.0); 2 * n];
        v[..n].copy_from_slice(io.z0[q].row(0, cols.clone()));
        v
    });
    let mut dz: [Vec<R>; S] = from_fn(|q| io.dz0[q].row(0, cols.clone()).to_vec());
    let mut g_prev = vec![R::from_f64(0.0); n];
    let mut g_now = vec![R::from_f64(0.0); n];
    grad_row::<R, M, S, C>(sg, &c, &k, from_fn(|q| &seg[q][..n]), &mut g_prev);
    for t in 0..steps {
        run_steps::<R, M, S, C, HARD>(&c, &k, io.x, &cols, t, 1, &mut seg);
        grad_row::<R, M, S, C>(sg, &c, &k, from_fn(|q| &seg[q][n..2 * n]), &mut g_now);
        let xs = &io.x.row(t, cols.clone())[..n];
        let dxs = &io.dx.row(t, cols.clone())[..n];
        let dss = &mut io.dspikes.row_mut(t, cols.clone())[..n];
        let outs: [&mut [R]; S] = from_fn(|q| &mut io.dz[q].row_mut(t, cols.clone())[..n]);
        let (gp, gn, k) = (&g_prev[..n], &g_now[..n], &k[..n]);
        let zp: [&[R]; S] = from_fn(|q| &seg[q][..n]);
        let zn: [&[R]; S] = from_fn(|q| &seg[q][n..2 * n]);
        let mut dzs: [&mut [R]; S] = from_fn(|_| &mut [][..]);
        for (q, buf) in dz.iter_mut().enumerate() {
            dzs[q] = &mut buf[..n];
        }
        for i in 0..n {
            let ci = at(&c, i);
            let dci = at(&dc, i);
            let zpi = at(&zp, i);
            let dzi: [R; S] = from_fn(|q| dzs[q][i]);
            let s = spike(M::u(&ci, k[i], &zpi));
            let ds = gp[i] * M::u_jvp(&ci, k[i], &zpi, &dzi, &dci);
            let dzn = M::step_jvp::<R, HARD>(&ci, &zpi, xs[i], s, &dzi, dxs[i], ds, &dci);
            for q in 0..S {
                dzs[q][i] = dzn[q];
                outs[q][i] = dzn[q];
            }
            dss[i] = gn[i] * M::u_jvp(&ci, k[i], &at(&zn, i), &dzn, &dci);
        }
        for buf in seg.iter_mut() {
            buf.copy_within(n..2 * n, 0);
        }
        std::mem::swap(&mut g_prev, &mut g_now);
    }
}

/// Neurons per BPTT block for segments of `stride` steps and `S` states.
pub fn bptt_block_size(stride: usize, states: usize) -> usize {
    let per_neuron = (stride + 1) * (states + 1) * 8;
    (SEGMENT_BYTES / per_neuron).clamp(64, BLOCK)
}

#[inline(always)]
pub fn bptt_block<
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    sg: &dyn GradKernel,
    stride: usize,
    cols: Range<usize>,
    io: &Bptt<'_, R, S, C>,
) {
    let n = cols.len();
    let steps = io.x.steps();
    let zero = R::from_f64(0.0);
    let c = rows(&io.c, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    let k = &k[..n];
    let mut lam: [Vec<R>; S] = from_fn(|_| vec![zero; n]);
    let mut lcs: [Vec<R>; C] = from_fn(|_| vec![zero; n]);
    let seg_len = stride.min(steps.max(1));
    let mut seg: [Vec<R>; S] = from_fn(|_| vec![zero; (seg_len + 1) * n]);
    let mut grads = vec![zero; (seg_len + 1) * n];
    let segments = steps.div_ceil(stride);
    for j in (0..segments).rev() {
        let t0 = j * stride;
        let len = stride.min(steps - t0);
        for q in 0..S {
            let start = if j == 0 {
                io.z0[q].row(0, cols.clone())
            } else {
                io.saved[q].row(j - 1, cols.clone())
            };
            seg[q][..n].copy_from_slice(start);
        }
        run_steps::<R, M, S, C, HARD>(&c, k, io.x, &cols, t0, len, &mut seg);
        for m in 0..=len {
            let z: [&[R]; S] = from_fn(|q| &seg[q][m * n..(m + 1) * n]);
            grad_row::<R, M, S, C>(sg, &c, k, z, &mut grads[m * n..(m + 1) * n]);
        }
        for m in (0..len).rev() {
            let t = t0 + m;
            let mut ls: [&mut [R]; S] = from_fn(|_| &mut [][..]);
            for (q, buf) in lam.iter_mut().enumerate() {
                ls[q] = &mut buf[..n];
            }
            for q in 0..S {
                if let Some(ct) = &io.ct_z[q] {
                    for (l, &v) in ls[q].iter_mut().zip(&ct.row(t, cols.clone())[..n]) {
                        *l = *l + v;
                    }
                }
            }
            let mut lc: [&mut [R]; C] = from_fn(|_| &mut [][..]);
            for (q, buf) in lcs.iter_mut().enumerate() {
                lc[q] = &mut buf[..n];
            }
            let xs = &io.x.row(t, cols.clone())[..n];
            let cts = &io.ct_spikes.row(t, cols.clone())[..n];
            let ctx = &mut io.ct_x.row_mut(t, cols.clone())[..n];
            let zp: [&[R]; S] = from_fn(|q| &seg[q][m * n..(m + 1) * n]);
            let zn: [&[R]; S] = from_fn(|q| &seg[q][(m + 1) * n..(m + 2) * n]);
            let gp = &grads[m * n..(m + 1) * n];
            let gn = &grads[(m + 1) * n..(m + 2) * n];
            for i in 0..n {
                let ci = at(&c, i);
                let mut lz: [R; S] = from_fn(|q| ls[q][i]);
                let mut lci: [R; C] = from_fn(|q| lc[q][i]);
                M::u_vjp(&ci, k[i], &at(&zn, i), cts[i] * gn[i], &mut lz, &mut lci);
                let zpi = at(&zp, i);
                let s = spike(M::u(&ci, k[i], &zpi));
                let (mut lzp, ct_x, ct_s) =
                    M::step_vjp::<R, HARD>(&ci, &zpi, xs[i], s, &lz, &mut lci);
                M::u_vjp(&ci, k[i], &zpi, ct_s * gp[i], &mut lzp, &mut lci);
                ctx[i] = ct_x;
                for q in 0..S {
                    ls[q][i] = lzp[q];
                }
                for q in 0..C {
                    lc[q][i] = lci[q];
                }
            }
        }
    }
    for q in 0..S {
        io.ct_z0[q]
            .row_mut(0, cols.clone())
            .copy_from_slice(&lam[q][..n]);
    }
    for q in 0..C {
        io.ct_c[q]
            .row_mut(0, cols.clone())
            .copy_from_slice(&lcs[q][..n]);
    }
}
