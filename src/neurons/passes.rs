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

// Index loops over the states and constants address several per-state
// arrays in step; iterators over one of them would hide that.
#![allow(clippy::needless_range_loop)]

use std::array::from_fn;
use std::ops::Range;

use super::model::Model;
use super::{Grid, GridMut, NeuronReal};
use crate::kernels::GradKernel;

/// Neurons per block. Each step touches `BLOCK` contiguous elements of every
/// row: long enough for the prefetcher, short enough that a block's arrays
/// stay in L1/L2 (docs/perf.md).
const BLOCK: usize = 2048;

/// Neurons per tile: the loops copy a tile of every operand into arrays on
/// the stack, compute there, and copy the results back. The compute loop then
/// touches only memory the compiler knows is unaliased, and vectorizes; over
/// the operands' own rows (one pointer per state and constant) the vectorizer's
/// run-time alias checks exceeded its budget and the loops stayed scalar, 10x
/// slower.
const W: usize = 16;

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

type Tile<R> = [R; W];

/// Runs `body` for each full tile of `n` neurons with `w` the constant `W`
/// (so the tile copies compile to vector moves), then once for the tail.
macro_rules! tiles {
    ($n:expr, |$base:ident, $w:ident| $body:block) => {{
        let n: usize = $n;
        let full = n / W * W;
        let mut start = 0;
        while start < full {
            let $base = start;
            let $w = W;
            $body
            start += W;
        }
        if full < n {
            let $base = full;
            let $w = n - full;
            $body
        }
    }};
}

#[inline(always)]
fn zero<R: NeuronReal>() -> R {
    R::from_f64(0.0)
}

/// Elements `base..base + w` of `src` (`w <= W`), zero-padded.
#[inline(always)]
fn load<R: NeuronReal>(src: &[R], base: usize, w: usize) -> Tile<R> {
    let mut t = [zero(); W];
    if w == W {
        t.copy_from_slice(&src[base..base + W]);
    } else {
        t[..w].copy_from_slice(&src[base..base + w]);
    }
    t
}

#[inline(always)]
fn loads<R: NeuronReal, T: AsRef<[R]>, const K: usize>(
    src: &[T; K],
    base: usize,
    w: usize,
) -> [Tile<R>; K] {
    let mut t = [[zero(); W]; K];
    for k in 0..K {
        t[k] = load(src[k].as_ref(), base, w);
    }
    t
}

#[inline(always)]
fn store<R: NeuronReal>(dst: &mut [R], base: usize, w: usize, t: &Tile<R>) {
    if w == W {
        dst[base..base + W].copy_from_slice(t);
    } else {
        dst[base..base + w].copy_from_slice(&t[..w]);
    }
}

#[inline(always)]
fn stores<R: NeuronReal, T: AsMut<[R]>, const K: usize>(
    dst: &mut [T; K],
    base: usize,
    w: usize,
    t: &[Tile<R>; K],
) {
    for k in 0..K {
        store(dst[k].as_mut(), base, w, &t[k]);
    }
}

/// Element `j` of each tile.
#[inline(always)]
fn col<R: NeuronReal, const K: usize>(t: &[Tile<R>; K], j: usize) -> [R; K] {
    let mut o = [zero(); K];
    for k in 0..K {
        o[k] = t[k][j];
    }
    o
}

#[inline(always)]
fn set_col<R: NeuronReal, const K: usize>(t: &mut [Tile<R>; K], j: usize, v: [R; K]) {
    for k in 0..K {
        t[k][j] = v[k];
    }
}

/// Row 0 of each `[1, n]` grid, columns `cols`, as the block's own buffers.
#[inline(always)]
fn owned_rows<R: Copy, const K: usize>(g: &[Grid<'_, R>; K], cols: &Range<usize>) -> [Vec<R>; K] {
    from_fn(|k| g[k].row(0, cols.clone()).to_vec())
}

/// `k = 1 / (V_th - V_reset)` per neuron of the block.
#[inline(always)]
fn scales<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Vec<R>; C],
    n: usize,
) -> Vec<R> {
    (0..n).map(|i| M::scale(&from_fn(|q| c[q][i]))).collect()
}

/// The block's state rows `m` of a segment buffer (`[rows][n]` per state).
#[inline(always)]
fn seg_row<R, const S: usize>(seg: &[Vec<R>; S], m: usize, n: usize) -> [&[R]; S] {
    let mut out: [&[R]; S] = [&[]; S];
    for q in 0..S {
        out[q] = &seg[q][m * n..(m + 1) * n];
    }
    out
}

/// Recompute `len` steps from row 0 of `seg` into rows `1..=len`, reading
/// `x` rows `t0..t0 + len`: the forward pass's arithmetic, so the recomputed
/// states equal the saved ones bit for bit.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run_steps<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    c: &[Vec<R>; C],
    k: &[R],
    x: Grid<'_, R>,
    cols: &Range<usize>,
    t0: usize,
    len: usize,
    seg: &mut [Vec<R>; S],
) {
    let n = cols.len();
    for m in 0..len {
        let xs = x.row(t0 + m, cols.clone());
        tiles!(n, |base, w| {
            let ct = loads(c, base, w);
            let kt = load(k, base, w);
            let xt = load(xs, base, w);
            let mut zt = loads(&seg_row(seg, m, n), base, w);
            for j in 0..W {
                let cj = col(&ct, j);
                let zj = col(&zt, j);
                let s = spike(M::u(&cj, kt[j], &zj));
                set_col(&mut zt, j, M::step::<R, HARD>(&cj, &zj, xt[j], s));
            }
            for q in 0..S {
                store(&mut seg[q][(m + 1) * n..(m + 2) * n], base, w, &zt[q]);
            }
        });
    }
}

/// `g'(u(z))` over a row of states: `u` by tiles, then the surrogate's kernel.
#[inline(always)]
fn grad_row<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    sg: &dyn GradKernel,
    c: &[Vec<R>; C],
    k: &[R],
    z: [&[R]; S],
    out: &mut [R],
) {
    let n = out.len();
    tiles!(n, |base, w| {
        let ct = loads(c, base, w);
        let kt = load(k, base, w);
        let zt = loads(&z, base, w);
        let mut ut = [zero(); W];
        for j in 0..W {
            ut[j] = M::u(&col(&ct, j), kt[j], &col(&zt, j));
        }
        store(out, base, w, &ut);
    });
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
    let c = owned_rows(&io.c, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    let mut state: [Vec<R>; S] = owned_rows(&io.z0, &cols);
    for t in 0..steps {
        let xs = io.x.row(t, cols.clone());
        let ss = io.spikes.row_mut(t, cols.clone());
        tiles!(n, |base, w| {
            let ct = loads(&c, base, w);
            let kt = load(&k, base, w);
            let xt = load(xs, base, w);
            let mut zt = loads(&state, base, w);
            let mut out = [zero(); W];
            for j in 0..W {
                let cj = col(&ct, j);
                let zj = col(&zt, j);
                let s = spike(M::u(&cj, kt[j], &zj));
                let zn = M::step::<R, HARD>(&cj, &zj, xt[j], s);
                set_col(&mut zt, j, zn);
                out[j] = spike(M::u(&cj, kt[j], &zn));
            }
            stores(&mut state, base, w, &zt);
            store(ss, base, w, &out);
        });
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
    let c = owned_rows(&io.c, &cols);
    let dc = owned_rows(&io.dc, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    // seg holds [z_{t-1}; z_t]; dz the tangent of z_{t-1}, then of z_t.
    let mut seg: [Vec<R>; S] = from_fn(|q| {
        let mut v = vec![zero(); 2 * n];
        v[..n].copy_from_slice(io.z0[q].row(0, cols.clone()));
        v
    });
    let mut dz: [Vec<R>; S] = owned_rows(&io.dz0, &cols);
    let mut g_prev = vec![zero(); n];
    let mut g_now = vec![zero(); n];
    grad_row::<R, M, S, C>(sg, &c, &k, seg_row(&seg, 0, n), &mut g_prev);
    for t in 0..steps {
        run_steps::<R, M, S, C, HARD>(&c, &k, io.x, &cols, t, 1, &mut seg);
        grad_row::<R, M, S, C>(sg, &c, &k, seg_row(&seg, 1, n), &mut g_now);
        let xs = io.x.row(t, cols.clone());
        let dxs = io.dx.row(t, cols.clone());
        let dss = io.dspikes.row_mut(t, cols.clone());
        tiles!(n, |base, w| {
            let ct = loads(&c, base, w);
            let dct = loads(&dc, base, w);
            let kt = load(&k, base, w);
            let zpt = loads(&seg_row(&seg, 0, n), base, w);
            let znt = loads(&seg_row(&seg, 1, n), base, w);
            let mut dzt = loads(&dz, base, w);
            let (xt, dxt) = (load(xs, base, w), load(dxs, base, w));
            let (gpt, gnt) = (load(&g_prev, base, w), load(&g_now, base, w));
            let mut out = [zero(); W];
            for j in 0..W {
                let (cj, dcj, zpj, dzj) = (col(&ct, j), col(&dct, j), col(&zpt, j), col(&dzt, j));
                let s = spike(M::u(&cj, kt[j], &zpj));
                let ds = gpt[j] * M::u_jvp(&cj, kt[j], &zpj, &dzj, &dcj);
                let dzn = M::step_jvp::<R, HARD>(&cj, &zpj, xt[j], s, &dzj, dxt[j], ds, &dcj);
                set_col(&mut dzt, j, dzn);
                out[j] = gnt[j] * M::u_jvp(&cj, kt[j], &col(&znt, j), &dzn, &dcj);
            }
            stores(&mut dz, base, w, &dzt);
            store(dss, base, w, &out);
        });
        for q in 0..S {
            io.dz[q]
                .row_mut(t, cols.clone())
                .copy_from_slice(&dz[q][..n]);
            seg[q].copy_within(n..2 * n, 0);
        }
        std::mem::swap(&mut g_prev, &mut g_now);
    }
}

/// Neurons per BPTT block for segments of `stride` steps and `S` states.
pub fn bptt_block_size(stride: usize, states: usize) -> usize {
    let per_neuron = (stride + 1) * (states + 1) * 8;
    (SEGMENT_BYTES / per_neuron).clamp(64, BLOCK) / W * W
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
    let c = owned_rows(&io.c, &cols);
    let k = scales::<R, M, S, C>(&c, n);
    let mut lam: [Vec<R>; S] = from_fn(|_| vec![zero(); n]);
    let mut lcs: [Vec<R>; C] = from_fn(|_| vec![zero(); n]);
    let seg_len = stride.min(steps.max(1));
    let mut seg: [Vec<R>; S] = from_fn(|_| vec![zero(); (seg_len + 1) * n]);
    let mut grads = vec![zero(); (seg_len + 1) * n];
    let mut carried = vec![zero(); n];
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
        run_steps::<R, M, S, C, HARD>(&c, &k, io.x, &cols, t0, len, &mut seg);
        // The segment's last state starts the segment processed before it:
        // its g' row is that segment's row 0, kept in `carried`.
        let fresh = if j + 1 == segments { len + 1 } else { len };
        for m in 0..fresh {
            let row = &mut grads[m * n..(m + 1) * n];
            grad_row::<R, M, S, C>(sg, &c, &k, seg_row(&seg, m, n), row);
        }
        if fresh == len {
            grads[len * n..(len + 1) * n].copy_from_slice(&carried);
        }
        carried.copy_from_slice(&grads[..n]);
        for m in (0..len).rev() {
            let t = t0 + m;
            for q in 0..S {
                if let Some(ct) = &io.ct_z[q] {
                    for (l, &v) in lam[q].iter_mut().zip(ct.row(t, cols.clone())) {
                        *l = *l + v;
                    }
                }
            }
            let xs = io.x.row(t, cols.clone());
            let cts = io.ct_spikes.row(t, cols.clone());
            let ctx = io.ct_x.row_mut(t, cols.clone());
            let (zp, zn) = (seg_row(&seg, m, n), seg_row(&seg, m + 1, n));
            let gp = &grads[m * n..(m + 1) * n];
            let gn = &grads[(m + 1) * n..(m + 2) * n];
            tiles!(n, |base, w| {
                let ct = loads(&c, base, w);
                let kt = load(&k, base, w);
                let mut lt = loads(&lam, base, w);
                let mut lct = loads(&lcs, base, w);
                let (zpt, znt) = (loads(&zp, base, w), loads(&zn, base, w));
                let (gpt, gnt) = (load(gp, base, w), load(gn, base, w));
                let (xt, ctst) = (load(xs, base, w), load(cts, base, w));
                let mut out = [zero(); W];
                for i in 0..W {
                    let cj = col(&ct, i);
                    let mut lz = col(&lt, i);
                    let mut lc = col(&lct, i);
                    M::u_vjp(
                        &cj,
                        kt[i],
                        &col(&znt, i),
                        ctst[i] * gnt[i],
                        &mut lz,
                        &mut lc,
                    );
                    let zpj = col(&zpt, i);
                    let s = spike(M::u(&cj, kt[i], &zpj));
                    let (mut lzp, ct_x, ct_s) =
                        M::step_vjp::<R, HARD>(&cj, &zpj, xt[i], s, &lz, &mut lc);
                    M::u_vjp(&cj, kt[i], &zpj, ct_s * gpt[i], &mut lzp, &mut lc);
                    out[i] = ct_x;
                    set_col(&mut lt, i, lzp);
                    set_col(&mut lct, i, lc);
                }
                stores(&mut lam, base, w, &lt);
                stores(&mut lcs, base, w, &lct);
                store(ctx, base, w, &out);
            });
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
