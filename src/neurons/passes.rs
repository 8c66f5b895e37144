//! The three passes of every fused neuron model, generic over the model
//! ([`Model`]), the surrogate, the precision and the reset: forward, tangent
//! (forward-mode derivative) and BPTT (its transpose).
//!
//! **Loop order: tiles of `W` neurons, steps inside.** A pass walks a block
//! of [`BLOCK`] neurons one chunk of [`CHUNK`] steps (BPTT: one segment) at a
//! time, and within it one tile at a time through all the chunk's steps, with
//! the tile's constants and state in arrays on the stack. Walking time
//! outside and 16-neuron tiles inside instead reloaded every constant and
//! state (and in BPTT stored back every constant's cotangent) once per step;
//! the forward ran at 2-3x the time of a copy of `x` (docs/perf.md). `W` = 64
//! f32 neurons is four AVX-512 vectors: independent neurons hide the latency
//! of the recurrence. The constants are per neuron (`[1, n]` rows), so
//! per-neuron, traced and trainable parameters run the same code as scalar
//! ones.
//!
//! **Checkpoints.** The forward pass saves the state every `stride` steps
//! (row `j` holds the state after step `min((j + 1) stride, T)`), or not at all.
//! BPTT walks the segments of `stride` steps backward; it recomputes each
//! segment's states from its checkpoint (the initial state for the first)
//! and the input, with the forward pass's own code, so the recomputed states
//! are the forward pass's bit for bit. The tangent pass runs forward in time
//! and recomputes the states in chunks of [`CHUNK`] steps as it goes.
//!
//! **Half precision.** The sequences (`x`, `dx`, `ct_spikes`; `spikes`,
//! `dspikes`, `ct_x`) may be f16 or bf16 with f32 for the rest ([`Seq`]): the
//! tile loads widen them (exactly) and the tile stores round to nearest even,
//! once, so the results are those of the f32 passes on the widened input,
//! rounded, without separate conversion passes over the `[T, n]` arrays.
//!
//! **Constants' cotangents on demand.** BPTT accumulates the cotangent of
//! every constant per neuron and step only when asked (`CONSTS`); without it,
//! the case where no parameter is differentiated, that arithmetic is dead code
//! and `ct_c` is written as zeros.
//!
//! `g'` is computed over a tile's whole segment (or chunk) of states by the
//! surrogate's own vectorized kernel (`GradKernel::grad_in_place_*`, one
//! dynamic call per tile and segment): inside the recurrence loops the costlier
//! surrogates stayed scalar (docs/perf.md), and the passes are compiled once
//! per model instead of once per model and surrogate.

// Index loops over the states and constants address several per-state
// arrays in step; iterators over one of them would hide that.
#![allow(clippy::needless_range_loop)]

use std::array::from_fn;
use std::ops::Range;

use half::{bf16, f16};

use super::model::Model;
use super::{Grid, GridMut, NeuronReal};
use crate::convert;
use crate::kernels::GradKernel;

/// Neurons per tile. The loops compute on tiles copied into arrays on the
/// stack: the compute loops then touch only memory the compiler knows is
/// unaliased, and vectorize (over the operands' own rows the vectorizer's
/// run-time alias checks exceeded its budget and the loops stayed scalar).
pub(super) const W: usize = 64;

/// Neurons per block. The passes walk a block's tiles one chunk of steps
/// (or BPTT segment) at a time, so each chunk streams `BLOCK` contiguous
/// elements of `CHUNK` rows, which the hardware prefetcher follows; walking
/// every step of one tile at a time touched a new page per step and ran
/// slower at 2^16 neurons. A block's per-tile constants and states stay in L2.
const BLOCK: usize = 2048;

/// Steps per chunk: a tile's state goes back to its block's arrays after each
/// chunk. The tangent pass computes the states and `g'` a chunk at a time,
/// as BPTT does per segment.
const CHUNK: usize = 16;

/// The step `[u >= 0]` (NaN gives 0).
#[inline(always)]
fn spike<R: NeuronReal>(u: R) -> R {
    if u >= R::from_f64(0.0) {
        R::from_f64(1.0)
    } else {
        R::from_f64(0.0)
    }
}

/// The element type `Self` of the sequences of a pass computing in `R`.
/// `f16c`: the caller's CPU has the F16C and AVX instructions
/// (`convert::widen_f16`).
pub trait Seq<R>: Copy + Send + Sync + 'static {
    /// `dst = src`, widened (exact).
    fn widen(f16c: bool, src: &[Self], dst: &mut [R]);
    /// `dst = src`, rounded to nearest even.
    fn narrow(f16c: bool, src: &[R], dst: &mut [Self]);
}

macro_rules! same_seq {
    ($($r:ty),+) => {$(
        impl Seq<$r> for $r {
            #[inline(always)]
            fn widen(_: bool, src: &[$r], dst: &mut [$r]) {
                dst.copy_from_slice(src);
            }
            #[inline(always)]
            fn narrow(_: bool, src: &[$r], dst: &mut [$r]) {
                dst.copy_from_slice(src);
            }
        }
    )+};
}
same_seq!(f32, f64);

impl Seq<f32> for f16 {
    #[inline(always)]
    fn widen(f16c: bool, src: &[f16], dst: &mut [f32]) {
        convert::widen_f16(f16c, src, dst);
    }
    #[inline(always)]
    fn narrow(f16c: bool, src: &[f32], dst: &mut [f16]) {
        convert::narrow_f16(f16c, src, dst);
    }
}

impl Seq<f32> for bf16 {
    #[inline(always)]
    fn widen(_: bool, src: &[bf16], dst: &mut [f32]) {
        convert::widen_bf16(src, dst);
    }
    #[inline(always)]
    fn narrow(_: bool, src: &[f32], dst: &mut [bf16]) {
        convert::narrow_bf16(src, dst);
    }
}

/// The inputs and outputs of one pass over columns `cols`, as grids; the
/// sequences in `E`.
pub struct Forward<'a, E, R, const S: usize, const C: usize> {
    pub x: Grid<'a, E>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    /// The spikes, or none (a gradient whose spikes nothing reads).
    pub spikes: Option<GridMut<'a, E>>,
    /// Checkpoints `[ceil(T / stride), n]`, or none.
    pub saved: Option<[GridMut<'a, R>; S]>,
}

pub struct Tangent<'a, E, R, const S: usize, const C: usize> {
    pub x: Grid<'a, E>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    pub dx: Grid<'a, E>,
    pub dz0: [Grid<'a, R>; S],
    pub dc: [Grid<'a, R>; C],
    pub dspikes: GridMut<'a, E>,
    pub dz: [GridMut<'a, R>; S],
}

pub struct Bptt<'a, E, R, const S: usize, const C: usize> {
    pub x: Grid<'a, E>,
    pub z0: [Grid<'a, R>; S],
    pub c: [Grid<'a, R>; C],
    /// Checkpoints as the forward pass wrote them.
    pub saved: [Grid<'a, R>; S],
    /// May share `ct_x`'s buffer (see `bptt_block`).
    pub ct_spikes: Grid<'a, E>,
    /// Cotangents of the every-step states (stride 1 only); none: zero.
    pub ct_z: [Option<Grid<'a, R>>; S],
    pub ct_x: GridMut<'a, E>,
    pub ct_z0: [GridMut<'a, R>; S],
    pub ct_c: [GridMut<'a, R>; C],
}

pub(super) type Tile<R> = [R; W];

/// Runs `body` for each full tile of the columns `range` with `w` the
/// constant `W` (so the tile copies compile to fixed-size vector moves), then
/// once for the partial last tile; `$cols` is the tile's column range and
/// `$i` its index.
macro_rules! tiles {
    ($range:expr, |$i:ident, $cols:ident, $w:ident| $body:block) => {{
        let range: Range<usize> = $range;
        let full = range.len() / W;
        for $i in 0..full {
            let start = range.start + $i * W;
            let $cols = start..start + W;
            let $w = W;
            $body
        }
        if range.start + full * W < range.end {
            let $i = full;
            let $cols = range.start + full * W..range.end;
            let $w = $cols.len();
            $body
        }
    }};
}

#[inline(always)]
fn zero<R: NeuronReal>() -> R {
    R::from_f64(0.0)
}

/// Columns `cols` of row `t` (`w = cols.len() <= W`), zero-padded.
#[inline(always)]
fn load<R: NeuronReal>(g: &Grid<'_, R>, t: usize, cols: &Range<usize>, w: usize) -> Tile<R> {
    tile_of(g.row(t, cols.clone()), w)
}

#[inline(always)]
fn loads<R: NeuronReal, const K: usize>(
    g: &[Grid<'_, R>; K],
    t: usize,
    cols: &Range<usize>,
    w: usize,
) -> [Tile<R>; K] {
    from_fn(|k| load(&g[k], t, cols, w))
}

/// Stores the first `w = cols.len()` elements of `v` to columns `cols` of row `t`.
#[inline(always)]
fn store<R: NeuronReal>(g: &GridMut<'_, R>, t: usize, cols: &Range<usize>, w: usize, v: &Tile<R>) {
    let dst = g.row_mut(t, cols.clone());
    if w == W {
        dst[..W].copy_from_slice(v);
    } else {
        dst[..w].copy_from_slice(&v[..w]);
    }
}

#[inline(always)]
fn stores<R: NeuronReal, const K: usize>(
    g: &[GridMut<'_, R>; K],
    t: usize,
    cols: &Range<usize>,
    w: usize,
    v: &[Tile<R>; K],
) {
    for k in 0..K {
        store(&g[k], t, cols, w, &v[k]);
    }
}

/// Element `j` of each tile: one neuron's states or constants (also the
/// recurrent passes').
#[inline(always)]
pub(super) fn col<R: NeuronReal, const K: usize>(t: &[Tile<R>; K], j: usize) -> [R; K] {
    from_fn(|k| t[k][j])
}

#[inline(always)]
pub(super) fn set_col<R: NeuronReal, const K: usize>(t: &mut [Tile<R>; K], j: usize, v: [R; K]) {
    for k in 0..K {
        t[k][j] = v[k];
    }
}

/// `k = 1 / (V_th - V_reset)` per neuron of the tile.
#[inline(always)]
fn scales<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Tile<R>; C],
) -> Tile<R> {
    from_fn(|j| M::scale(&col(c, j)))
}

/// Recompute the steps from `seg[0]` into `seg[1..]`, with the inputs `xs`
/// (one tile per step): the forward pass's arithmetic, so the recomputed
/// states equal the saved ones bit for bit.
#[inline(always)]
fn run_steps<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize, const HARD: bool>(
    c: &[Tile<R>; C],
    k: &Tile<R>,
    xs: &[Tile<R>],
    seg: &mut [[Tile<R>; S]],
) {
    for m in 1..seg.len() {
        let xt = xs[m - 1];
        let mut z = seg[m - 1];
        for j in 0..W {
            let (cj, zj) = (col(c, j), col(&z, j));
            let s = spike(M::u(&cj, k[j], &zj));
            set_col(&mut z, j, M::step::<R, HARD>(&cj, &zj, xt[j], s));
        }
        seg[m] = z;
    }
}

/// `g'(u(z))` for the states `seg` into `grads` (`W` per state): `u` per
/// tile, then one call of the surrogate's kernel over all of them.
#[inline(always)]
fn grads_of<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    sg: &dyn GradKernel,
    c: &[Tile<R>; C],
    k: &Tile<R>,
    seg: &[[Tile<R>; S]],
    grads: &mut [Tile<R>],
) {
    for m in 0..seg.len() {
        let z = seg[m];
        grads[m] = from_fn(|j| M::u(&col(c, j), k[j], &col(&z, j)));
    }
    R::grad_row(sg, grads[..seg.len()].as_flattened_mut());
}

/// The tiles of a block of columns: per tile its constants and `k`.
#[inline(always)]
fn tile_consts<R: NeuronReal, M: Model<S, C>, const S: usize, const C: usize>(
    c: &[Grid<'_, R>; C],
    blk: &Range<usize>,
) -> Vec<([Tile<R>; C], Tile<R>)> {
    let mut out = Vec::with_capacity(blk.len().div_ceil(W));
    tiles!(blk.clone(), |_ti, cols, w| {
        let ct = loads(c, 0, &cols, w);
        let k = scales::<R, M, S, C>(&ct);
        out.push((ct, k));
    });
    out
}

/// Rows `t0..t0 + tiles.len()` of `g`, columns `cols`, into `tiles`. The
/// passes read a chunk's sequence tiles into buffers, compute from and into
/// buffers, then write the outputs ([`store_rows`]): with the loads and
/// stores of the `[T, n]` rows interleaved in the compute loops, loads
/// stalled on stores at the same offset in a page (4K aliasing; the rows and
/// the buffers cover every offset), and BPTT slowed with the stride.
/// A sequence's tiles are widened to `R` here.
#[inline(always)]
fn load_rows<E: Seq<R>, R: NeuronReal>(
    f16c: bool,
    g: &Grid<'_, E>,
    t0: usize,
    cols: &Range<usize>,
    w: usize,
    tiles: &mut [Tile<R>],
) {
    for (m, tile) in tiles.iter_mut().enumerate() {
        let src = g.row(t0 + m, cols.clone());
        if w == W {
            E::widen(f16c, &src[..W], tile);
        } else {
            *tile = [zero(); W];
            E::widen(f16c, src, &mut tile[..w]);
        }
    }
}

/// [`store`] for a sequence: the tile rounded to `E`.
#[inline(always)]
fn store_seq<E: Seq<R>, R: NeuronReal>(
    f16c: bool,
    g: &GridMut<'_, E>,
    t: usize,
    cols: &Range<usize>,
    w: usize,
    v: &Tile<R>,
) {
    let dst = g.row_mut(t, cols.clone());
    if w == W {
        E::narrow(f16c, v, &mut dst[..W]);
    } else {
        E::narrow(f16c, &v[..w], dst);
    }
}

/// The first `w <= W` elements of `src`, zero-padded.
#[inline(always)]
fn tile_of<R: NeuronReal>(src: &[R], w: usize) -> Tile<R> {
    let mut out = [zero(); W];
    if w == W {
        out.copy_from_slice(&src[..W]);
    } else {
        out[..w].copy_from_slice(&src[..w]);
    }
    out
}

/// `tiles` into rows `t0..t0 + tiles.len()` of the sequence `g`, columns `cols`.
#[inline(always)]
fn store_rows<E: Seq<R>, R: NeuronReal>(
    f16c: bool,
    g: &GridMut<'_, E>,
    t0: usize,
    cols: &Range<usize>,
    w: usize,
    tiles: &[Tile<R>],
) {
    for (m, tile) in tiles.iter().enumerate() {
        store_seq(f16c, g, t0 + m, cols, w, tile);
    }
}

/// The blocks of `BLOCK` columns of `cols`.
fn blocks(cols: Range<usize>) -> impl Iterator<Item = Range<usize>> {
    let end = cols.end;
    cols.step_by(BLOCK).map(move |b| b..(b + BLOCK).min(end))
}

#[inline(always)]
pub fn forward_block<
    E: Seq<R>,
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    f16c: bool,
    stride: usize,
    cols: Range<usize>,
    io: &Forward<'_, E, R, S, C>,
) {
    let steps = io.x.steps();
    for blk in blocks(cols) {
        let consts = tile_consts::<R, M, S, C>(&io.c, &blk);
        // Per tile: the state and its spike (the previous step's output).
        let mut state = Vec::with_capacity(consts.len());
        tiles!(blk.clone(), |ti, cols, w| {
            let (c, k) = &consts[ti];
            let z = loads(&io.z0, 0, &cols, w);
            let s: Tile<R> = from_fn(|j| spike(M::u(&col(c, j), k[j], &col(&z, j))));
            state.push((z, s));
        });
        // A chunk's inputs (see `load_rows`; buffering the spikes too made
        // the forward slower).
        let mut xs = [[zero::<R>(); W]; CHUNK];
        for t0 in (0..steps).step_by(CHUNK) {
            let len = CHUNK.min(steps - t0);
            tiles!(blk.clone(), |ti, cols, w| {
                // Copies on the stack: see `W`.
                let (c, k) = consts[ti];
                let (mut z, mut s) = state[ti];
                load_rows(f16c, &io.x, t0, &cols, w, &mut xs[..len]);
                for m in 0..len {
                    let xt = xs[m];
                    for j in 0..W {
                        let cj = col(&c, j);
                        let zn = M::step::<R, HARD>(&cj, &col(&z, j), xt[j], s[j]);
                        set_col(&mut z, j, zn);
                        s[j] = spike(M::u(&cj, k[j], &zn));
                    }
                    let t = t0 + m;
                    if let Some(spikes) = &io.spikes {
                        store_seq(f16c, spikes, t, &cols, w, &s);
                    }
                    if let Some(saved) = &io.saved {
                        if (t + 1) % stride == 0 || t + 1 == steps {
                            stores(saved, t / stride, &cols, w, &z);
                        }
                    }
                }
                state[ti] = (z, s);
            });
        }
    }
}

#[inline(always)]
pub fn tangent_block<
    E: Seq<R>,
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
>(
    f16c: bool,
    sg: &dyn GradKernel,
    cols: Range<usize>,
    io: &Tangent<'_, E, R, S, C>,
) {
    let steps = io.x.steps();
    // seg: the states of a tile's chunk, row 0 its initial state; grads: their g'.
    let mut seg = [[[zero::<R>(); W]; S]; CHUNK + 1];
    let mut grads = [[zero::<R>(); W]; CHUNK + 1];
    let (mut xs, mut dxs) = ([[zero::<R>(); W]; CHUNK], [[zero::<R>(); W]; CHUNK]);
    let (mut outs, mut dzs) = ([[zero::<R>(); W]; CHUNK], [[[zero::<R>(); W]; S]; CHUNK]);
    for blk in blocks(cols) {
        let consts = tile_consts::<R, M, S, C>(&io.c, &blk);
        // Per tile: the tangents of the constants, the state and its tangent.
        let mut state = Vec::with_capacity(consts.len());
        tiles!(blk.clone(), |_ti, cols, w| {
            let dc = loads(&io.dc, 0, &cols, w);
            state.push((dc, loads(&io.z0, 0, &cols, w), loads(&io.dz0, 0, &cols, w)));
        });
        for t0 in (0..steps).step_by(CHUNK) {
            let len = CHUNK.min(steps - t0);
            tiles!(blk.clone(), |ti, cols, w| {
                // Copies on the stack: see `W`.
                let (c, k) = consts[ti];
                let (dc, z, mut dz) = state[ti];
                load_rows(f16c, &io.x, t0, &cols, w, &mut xs[..len]);
                load_rows(f16c, &io.dx, t0, &cols, w, &mut dxs[..len]);
                seg[0] = z;
                run_steps::<R, M, S, C, HARD>(&c, &k, &xs[..len], &mut seg[..=len]);
                grads_of::<R, M, S, C>(sg, &c, &k, &seg[..=len], &mut grads);
                for m in 0..len {
                    let (xt, dxt) = (xs[m], dxs[m]);
                    let (zp, zn) = (seg[m], seg[m + 1]);
                    let (gp, gn) = (grads[m], grads[m + 1]);
                    let mut out = [zero(); W];
                    for j in 0..W {
                        let (cj, dcj, zpj, dzj) =
                            (col(&c, j), col(&dc, j), col(&zp, j), col(&dz, j));
                        let s = spike(M::u(&cj, k[j], &zpj));
                        let ds = gp[j] * M::u_jvp(&cj, k[j], &zpj, &dzj, &dcj);
                        let dzn =
                            M::step_jvp::<R, HARD>(&cj, &zpj, xt[j], s, &dzj, dxt[j], ds, &dcj);
                        set_col(&mut dz, j, dzn);
                        out[j] = gn[j] * M::u_jvp(&cj, k[j], &col(&zn, j), &dzn, &dcj);
                    }
                    outs[m] = out;
                    dzs[m] = dz;
                }
                store_rows(f16c, &io.dspikes, t0, &cols, w, &outs[..len]);
                for m in 0..len {
                    stores(&io.dz, t0 + m, &cols, w, &dzs[m]);
                }
                state[ti] = (dc, seg[len], dz);
            });
        }
    }
}

#[inline(always)]
pub fn bptt_block<
    E: Seq<R>,
    R: NeuronReal,
    M: Model<S, C>,
    const S: usize,
    const C: usize,
    const HARD: bool,
    const CONSTS: bool,
>(
    f16c: bool,
    sg: &dyn GradKernel,
    stride: usize,
    cols: Range<usize>,
    io: &Bptt<'_, E, R, S, C>,
) {
    let steps = io.x.steps();
    let seg_len = stride.min(steps.max(1));
    let segments = steps.div_ceil(stride);
    // seg: a tile's segment states, row 0 its checkpoint; grads: their g'.
    let mut seg = vec![[[zero::<R>(); W]; S]; seg_len + 1];
    let mut grads = vec![[zero::<R>(); W]; seg_len + 1];
    // A tile's segment of inputs and `ct_x` (see `load_rows`).
    let (mut xs, mut cts) = (
        vec![[zero::<R>(); W]; seg_len],
        vec![[zero::<R>(); W]; seg_len],
    );
    let mut outs = vec![[zero::<R>(); W]; seg_len];
    // `ct_x` may be `ct_spikes`' buffer (XLA aliases them, saving a `[T, n]`
    // buffer): a block's segment rows of `ct_spikes` are all read into `cb`
    // before any of those rows of `ct_x` is written, and never read again.
    // A block's segment of `x`, `ct_spikes` and `ct_x`, `[len, block]`: the
    // rows are copied whole, in and out. Read tile by tile, a segment's rows
    // were `stride` streams per operand, too many for the hardware prefetcher:
    // BPTT at 2^16 neurons slowed with the stride.
    let bn = cols.len().min(BLOCK);
    let (mut xb, mut cb, mut ob) = (
        vec![zero::<R>(); seg_len * bn],
        vec![zero::<R>(); seg_len * bn],
        vec![zero::<R>(); seg_len * bn],
    );
    for blk in blocks(cols) {
        let bn = blk.len();
        let consts = tile_consts::<R, M, S, C>(&io.c, &blk);
        // Per tile: the state cotangent, the constants' cotangents and the g'
        // of the first state of the segment processed last.
        let zeros = [zero::<R>(); W];
        let mut acc = vec![([zeros; S], [zeros; C], zeros); consts.len()];
        for j in (0..segments).rev() {
            let t0 = j * stride;
            let len = stride.min(steps - t0);
            for m in 0..len {
                let row = m * bn..(m + 1) * bn;
                E::widen(f16c, io.x.row(t0 + m, blk.clone()), &mut xb[row.clone()]);
                E::widen(f16c, io.ct_spikes.row(t0 + m, blk.clone()), &mut cb[row]);
            }
            tiles!(blk.clone(), |ti, cols, w| {
                // Copies on the stack: see `W`.
                let (c, k) = consts[ti];
                let (mut lam, mut lc, mut carried) = acc[ti];
                let off = cols.start - blk.start;
                for m in 0..len {
                    xs[m] = tile_of(&xb[m * bn + off..], w);
                    cts[m] = tile_of(&cb[m * bn + off..], w);
                }
                seg[0] = if j == 0 {
                    loads(&io.z0, 0, &cols, w)
                } else {
                    loads(&io.saved, j - 1, &cols, w)
                };
                run_steps::<R, M, S, C, HARD>(&c, &k, &xs[..len], &mut seg[..=len]);
                // The segment's last state starts the segment processed before
                // it: its g' is that segment's row 0, kept in `carried`.
                let fresh = if j + 1 == segments { len + 1 } else { len };
                grads_of::<R, M, S, C>(sg, &c, &k, &seg[..fresh], &mut grads);
                if fresh == len {
                    grads[len] = carried;
                }
                carried = grads[0];
                for m in (0..len).rev() {
                    let t = t0 + m;
                    for q in 0..S {
                        if let Some(ct) = &io.ct_z[q] {
                            let v = load(ct, t, &cols, w);
                            for i in 0..W {
                                lam[q][i] = lam[q][i] + v[i];
                            }
                        }
                    }
                    let (xt, ctst) = (xs[m], cts[m]);
                    let (zp, zn) = (seg[m], seg[m + 1]);
                    let (gp, gn) = (grads[m], grads[m + 1]);
                    let mut out = [zero(); W];
                    for i in 0..W {
                        let cj = col(&c, i);
                        let mut lz = col(&lam, i);
                        // Without CONSTS the constants' cotangents are never
                        // stored, so their arithmetic is dead code and goes.
                        let mut lci = if CONSTS { col(&lc, i) } else { [zero(); C] };
                        M::u_vjp(&cj, k[i], &col(&zn, i), ctst[i] * gn[i], &mut lz, &mut lci);
                        let zpj = col(&zp, i);
                        let s = spike(M::u(&cj, k[i], &zpj));
                        let (mut lzp, ct_x, ct_s) =
                            M::step_vjp::<R, HARD>(&cj, &zpj, xt[i], s, &lz, &mut lci);
                        M::u_vjp(&cj, k[i], &zpj, ct_s * gp[i], &mut lzp, &mut lci);
                        out[i] = ct_x;
                        set_col(&mut lam, i, lzp);
                        if CONSTS {
                            set_col(&mut lc, i, lci);
                        }
                    }
                    outs[m] = out;
                }
                for m in 0..len {
                    let dst = &mut ob[m * bn + off..m * bn + off + w];
                    dst.copy_from_slice(&outs[m][..w]);
                }
                acc[ti] = (lam, lc, carried);
            });
            for m in 0..len {
                let row = &ob[m * bn..(m + 1) * bn];
                E::narrow(f16c, row, io.ct_x.row_mut(t0 + m, blk.clone()));
            }
        }
        tiles!(blk.clone(), |ti, cols, w| {
            stores(&io.ct_z0, 0, &cols, w, &acc[ti].0);
            stores(&io.ct_c, 0, &cols, w, &acc[ti].1);
        });
    }
}
