//! The forward product `out = s @ W` in f32 and f64, blocked in registers.
//!
//! Batch rows go in blocks of up to four. Per block, one scan of the spikes
//! finds the inputs `k` where any of its rows spikes, and a cost model
//! chooses how the block is run: as one group of four rows, two groups of
//! two, or one row at a time. A group of `R` rows walks its list of `k` (the
//! union of its rows' nonzero spikes) once per column tile of `W`: each
//! `W[k, tile]` is loaded once and added, scaled, into all `R` rows'
//! accumulators, which stay in registers for the whole walk. A row alone
//! visits only its own nonzero spikes; a group also adds `0 * W[k, tile]`
//! for its rows that are silent at `k`, more multiply-adds for fewer loads
//! of `W`, which wins from a few percent firing up.
//!
//! Every path sums the same products in increasing `k` with the same
//! operation (fused where the target has FMA), and adding `0 * w` (`±0`) to
//! an accumulator that is never `-0` leaves its bits unchanged, so the
//! grouping, and with it the split of the rows over threads, never changes a
//! bit. The one exception is a non-finite weight: `0 * inf` is NaN, which the
//! exact product leaves out. NaN and infinities stick in a sum, so a group's
//! row whose tile ends finite never met one, and a row that ends non-finite
//! is summed again by itself, skipping its zero spikes.

use super::spike_matmul::{for_each_nonzero, nonzero_bits, Acc, Elem, Nonzero, SCAN_STEP};

/// An accumulation type with a multiply-add, fused or not.
pub(crate) trait Madd: Acc {
    /// `self * b + c`, rounded once when `FMA`.
    fn madd<const FMA: bool>(self, b: Self, c: Self) -> Self;
}

impl Madd for f32 {
    #[inline(always)]
    fn madd<const FMA: bool>(self, b: f32, c: f32) -> f32 {
        if FMA {
            self.mul_add(b, c)
        } else {
            self * b + c
        }
    }
}

impl Madd for f64 {
    #[inline(always)]
    fn madd<const FMA: bool>(self, b: f64, c: f64) -> f64 {
        if FMA {
            self.mul_add(b, c)
        } else {
            self * b + c
        }
    }
}

/// Cost of a list entry of a group of `r` rows, in units of one vector
/// multiply-add per row: `r` multiply-adds plus the load of the `W` tile and
/// the loop (`ENTRY_COST`). Measured with benchmarks/synapse.py.
const ENTRY_COST: usize = 9;

/// Walks over all of `k` (entries of all groups, per `n_in`) from which a
/// tile of `W` is packed before the walks.
const PACK_MIN_WALKS: usize = 2;

fn cost(entries: usize, rows: usize) -> usize {
    entries * (rows + ENTRY_COST)
}

/// The lists of one kind of group: per group its first output row and the
/// range of its entries; per entry `k` and the `R` rows' spikes at `k`.
struct Groups<A, const R: usize> {
    heads: Vec<(usize, usize, usize)>,
    ks: Vec<u32>,
    vs: Vec<[A; R]>,
}

impl<A: Acc, const R: usize> Groups<A, R> {
    fn new() -> Self {
        Groups {
            heads: Vec::new(),
            ks: Vec::new(),
            vs: Vec::new(),
        }
    }

    /// Appends the group of rows `row..row + R` of `s`, with the entries of
    /// `list` whose mask has one of the group's bits (`bits`). Branch-free:
    /// every entry is written and only the group's are kept.
    fn push<E: Elem<A>>(&mut self, s: &[E], n_in: usize, row: usize, bits: u8, list: &[(u32, u8)]) {
        let start = self.ks.len();
        self.ks.resize(start + list.len(), 0);
        self.vs.resize(start + list.len(), [A::default(); R]);
        let mut end = start;
        for &(k, m) in list {
            let at = k as usize;
            self.ks[end] = k;
            self.vs[end] = std::array::from_fn(|r| s[(row + r) * n_in + at].widen());
            end += usize::from(m & bits != 0);
        }
        self.ks.truncate(end);
        self.vs.truncate(end);
        self.heads.push((row, start, end));
    }
}

/// The inputs `k` where any of the `n <= 4` rows at `s` (rows of `n_in`)
/// spikes, with a mask of which rows do (bit `r` for row `r`), in increasing
/// `k`. Per `STEP` inputs, a bit mask of each row: the work is per nonzero
/// spike, not per branch on each input (firing is random, a branch would miss).
fn block_masks<E: Nonzero>(s: &[E], n: usize, n_in: usize, out: &mut Vec<(u32, u8)>) {
    out.clear();
    for c0 in (0..n_in).step_by(SCAN_STEP) {
        let c1 = (c0 + SCAN_STEP).min(n_in);
        let mut rows = [0u32; 4];
        for (r, b) in rows.iter_mut().enumerate().take(n) {
            *b = nonzero_bits(&s[r * n_in + c0..r * n_in + c1]);
        }
        let mut any = rows[0] | rows[1] | rows[2] | rows[3];
        while any != 0 {
            let j = any.trailing_zeros();
            let m = (0..4).fold(0u8, |m, r| m | ((rows[r] >> j & 1) as u8) << r);
            out.push((c0 as u32 + j, m));
            any &= any - 1;
        }
    }
}

/// `acc[r] = sum over entries of vs[e][r] * wt[ks[e] * stride + off..][..C]`,
/// in entry order, with the accumulators in registers.
#[inline(always)]
fn group_tile<A: Madd, const R: usize, const C: usize, const FMA: bool>(
    ks: &[u32],
    vs: &[[A; R]],
    wt: &[A],
    stride: usize,
    off: usize,
) -> [[A; C]; R] {
    let mut acc = [[A::default(); C]; R];
    for (&k, v) in ks.iter().zip(vs) {
        let o = k as usize * stride + off;
        let row: &[A; C] = wt[o..o + C].try_into().unwrap();
        for (a, &v) in acc.iter_mut().zip(v) {
            for (a, &x) in a.iter_mut().zip(row) {
                *a = v.madd::<FMA>(x, *a);
            }
        }
    }
    acc
}

/// As [`group_tile`] for the last `width < C` columns, not in registers.
#[inline(always)]
fn group_tail<A: Madd, const R: usize, const FMA: bool>(
    ks: &[u32],
    vs: &[[A; R]],
    w: &[A],
    n_out: usize,
    c0: usize,
    acc: &mut [Vec<A>; R],
) {
    let width = n_out - c0;
    for a in acc.iter_mut() {
        a.clear();
        a.resize(width, A::default());
    }
    for (&k, v) in ks.iter().zip(vs) {
        let o = k as usize * n_out + c0;
        let row = &w[o..o + width];
        for (a, &v) in acc.iter_mut().zip(v) {
            for (a, &x) in a.iter_mut().zip(row) {
                *a = v.madd::<FMA>(x, *a);
            }
        }
    }
}

/// Not NaN or infinite: `x - x` is 0 only for finite `x`.
#[inline(always)]
fn all_finite<A: Acc>(xs: &[A]) -> bool {
    xs.iter().fold(A::default(), |c, &x| c + (x - x)) == A::default()
}

/// One row's columns `c0..c0 + out.len()`, visiting only its nonzero spikes:
/// what a group's row that ended non-finite is replaced with.
fn exact_row<A: Madd + Elem<A>, const FMA: bool>(
    srow: &[A],
    w: &[A],
    n_out: usize,
    c0: usize,
    out: &mut [A],
) {
    out.fill(A::default());
    let width = out.len();
    for_each_nonzero(srow, |k, v| {
        let row = &w[k * n_out + c0..k * n_out + c0 + width];
        for (a, &x) in out.iter_mut().zip(row) {
            *a = v.madd::<FMA>(x, *a);
        }
    });
}

/// Runs the groups of `R` rows over the column tile `c0..c0 + C` (or the
/// narrower tail) and writes their rows of `out`. `wt` holds the tile's
/// columns, rows of `stride` starting at `off` (packed or `w` itself).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_groups<A: Madd + Elem<A>, const R: usize, const C: usize, const FMA: bool>(
    g: &Groups<A, R>,
    s: &[A],
    (wt, stride, off): (&[A], usize, usize),
    w: &[A],
    out: &mut [A],
    (n_in, n_out): (usize, usize),
    c0: usize,
    tail: &mut [Vec<A>; R],
) {
    let width = C.min(n_out - c0);
    for &(row, e0, e1) in &g.heads {
        let (ks, vs) = (&g.ks[e0..e1], &g.vs[e0..e1]);
        if width == C {
            let acc = group_tile::<A, R, C, FMA>(ks, vs, wt, stride, off);
            for (r, a) in acc.iter().enumerate() {
                let o = (row + r) * n_out + c0;
                out[o..o + C].copy_from_slice(a);
            }
        } else {
            group_tail::<A, R, FMA>(ks, vs, w, n_out, c0, tail);
            for (r, a) in tail.iter().enumerate() {
                let o = (row + r) * n_out + c0;
                out[o..o + a.len()].copy_from_slice(a);
            }
        }
        if R > 1 {
            for r in row..row + R {
                let o = &mut out[r * n_out + c0..r * n_out + c0 + width];
                if !all_finite(o) {
                    exact_row::<A, FMA>(&s[r * n_in..(r + 1) * n_in], w, n_out, c0, o);
                }
            }
        }
    }
}

/// `out = s @ w` for `s: [rows, n_in]`, `w: [n_in, n_out]`, `out: [rows,
/// n_out]`, in column tiles of `C` (a few vector registers wide).
#[inline(always)]
pub(crate) fn forward<A: Madd + Elem<A>, const C: usize, const FMA: bool>(
    s: &[A],
    w: &[A],
    out: &mut [A],
    n_in: usize,
    n_out: usize,
) {
    if n_out == 0 {
        return;
    }
    if n_in == 0 {
        out.fill(A::default());
        return;
    }
    let rows = s.len() / n_in;
    let (mut g1, mut g2, mut g4) = (
        Groups::<A, 1>::new(),
        Groups::<A, 2>::new(),
        Groups::<A, 4>::new(),
    );
    let mut list = Vec::new();
    for b0 in (0..rows).step_by(4) {
        let n = (rows - b0).min(4);
        block_masks(&s[b0 * n_in..(b0 + n) * n_in], n, n_in, &mut list);
        // Entries per plan: one row at a time (a row per spike), in pairs,
        // and four together.
        let mut ones = [0usize; 4];
        let (mut pairs, mut quad) = ([0usize; 2], 0usize);
        for &(_, m) in &list {
            for (r, c) in ones.iter_mut().enumerate() {
                *c += usize::from(m >> r & 1);
            }
            pairs[0] += usize::from(m & 0b0011 != 0);
            pairs[1] += usize::from(m & 0b1100 != 0);
            quad += 1;
        }
        // The cheaper of a pair and its two rows alone, per pair.
        let pair_plan = |p: usize| cost(pairs[p], 2) < cost(ones[2 * p] + ones[2 * p + 1], 1);
        let pair_cost = |p: usize| cost(pairs[p], 2).min(cost(ones[2 * p] + ones[2 * p + 1], 1));
        if n == 4 && cost(quad, 4) < pair_cost(0) + pair_cost(1) {
            g4.push(s, n_in, b0, 0b1111, &list);
            continue;
        }
        for p in 0..n.div_ceil(2) {
            let row = b0 + 2 * p;
            if row + 1 < b0 + n && pair_plan(p) {
                g2.push(s, n_in, row, 0b11 << (2 * p), &list);
            } else {
                for r in row..(row + 2).min(b0 + n) {
                    g1.push(s, n_in, r, 1 << (r - b0), &list);
                }
            }
        }
    }
    // Packing a tile of `W` into contiguous rows costs about one walk over
    // all of `k`; it pays when the walks load more rows than that, as rows
    // `n_out` apart alias in the caches (4 KiB apart for 1024 f32 columns).
    let entries = g1.ks.len() + g2.ks.len() + g4.ks.len();
    let pack = entries >= PACK_MIN_WALKS * n_in && n_out > C;
    let mut packed = Vec::new();
    let (mut t1, mut t2, mut t4) = (
        std::array::from_fn(|_| Vec::new()),
        std::array::from_fn(|_| Vec::new()),
        std::array::from_fn(|_| Vec::new()),
    );
    for c0 in (0..n_out).step_by(C) {
        let tile = if pack && c0 + C <= n_out {
            packed.clear();
            for row in w.chunks_exact(n_out) {
                packed.extend_from_slice(&row[c0..c0 + C]);
            }
            (&packed[..], C, 0)
        } else {
            (w, n_out, c0)
        };
        let dims = (n_in, n_out);
        run_groups::<A, 4, C, FMA>(&g4, s, tile, w, out, dims, c0, &mut t4);
        run_groups::<A, 2, C, FMA>(&g2, s, tile, w, out, dims, c0, &mut t2);
        run_groups::<A, 1, C, FMA>(&g1, s, tile, w, out, dims, c0, &mut t1);
    }
}
