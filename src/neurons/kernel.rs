//! [`NeuronKernel`]: a built kernel of one model, surrogate, reset and
//! checkpoint stride, behind a trait object the bridge calls with raw buffer
//! addresses. Each model's passes are compiled for every CPU target
//! (`multiversion`) and picked at run time.
//!
//! Buffer addresses, in the FFI operands' order (S states, C constants):
//!
//! ```text
//! forward  in:  x, z0[S], c[C]                           out: spikes (0: not written),
//!                                                              saved[S] (all 0: not kept)
//! tangent  in:  x, z0[S], c[C], saved[S], dx, dz0[S], dc[C]   out: dspikes, dz[S]
//! bptt     in:  x, z0[S], c[C], saved[S], ct_spikes, ct_z[S] (0: zero)
//!          out: ct_x, ct_z0[S], ct_c[C] (zeros unless `consts`)
//! ```
//!
//! BPTT's `ct_x` may be `ct_spikes`' own buffer (XLA aliases them): the
//! pass reads each row of a block's segment of `ct_spikes` before it writes
//! that row of `ct_x`, and never reads it again.
//!
//! Sequences are `[steps, n]`, states and constants `[n]`, checkpoints
//! `[ceil(steps / stride), n]`. The `f16`/`bf16` passes compute in f32 and
//! take `x`, `dx`, `ct_spikes`, `spikes`, `dspikes` and `ct_x` in that type,
//! the rest in f32.

use std::marker::PhantomData;
use std::ops::Range;

use half::{bf16, f16};
use multiversion::multiversion;
use multiversion::target::match_target;

use super::model::Model;
use super::passes::{bptt_block, forward_block, tangent_block, Bptt, Forward, Seq, Tangent};
use super::rec_kernel::RecurrentKernel;
use super::{Grid, GridMut};
use crate::kernels::GradKernel;

/// One pass's signature for one precision (of the sequences).
macro_rules! pass_signatures {
    ($($pass:ident: $r:ty),+) => {
        $(
            /// # Safety
            /// `ins` and `outs` hold the addresses of live buffers of the sizes
            /// and order in the module docs, and no other call touches the
            /// columns `cols` of the outputs meanwhile.
            unsafe fn $pass(&self, steps: usize, n: usize, cols: Range<usize>, ins: &[usize], outs: &[usize]);
        )+
    };
}

/// The BPTT pass's signature for one precision; `consts`: compute the
/// constants' cotangents (else write them as zeros).
macro_rules! bptt_signatures {
    ($($pass:ident: $r:ty),+) => {
        $(
            /// # Safety
            /// As for the other passes.
            unsafe fn $pass(
                &self,
                steps: usize,
                n: usize,
                cols: Range<usize>,
                ins: &[usize],
                outs: &[usize],
                consts: bool,
            );
        )+
    };
}

/// A built fused-neuron kernel, with its recurrent passes.
pub trait NeuronKernel: RecurrentKernel + Send + Sync {
    /// The model's state count `S`.
    fn states(&self) -> usize;
    /// The model's constant count `C`.
    fn consts(&self) -> usize;
    pass_signatures!(forward_f32: f32, tangent_f32: f32);
    pass_signatures!(forward_f64: f64, tangent_f64: f64);
    pass_signatures!(forward_f16: f16, tangent_f16: f16);
    pass_signatures!(forward_bf16: bf16, tangent_bf16: bf16);
    bptt_signatures!(bptt_f32: f32, bptt_f64: f64, bptt_f16: f16, bptt_bf16: bf16);
}

/// The kernel of model `M` with a surrogate's gradient kernel.
pub(crate) struct Fused<M, const S: usize, const C: usize> {
    pub(super) surrogate: Box<dyn GradKernel>,
    pub(super) hard: bool,
    pub(super) stride: usize,
    model: PhantomData<M>,
}

pub(crate) fn fused<M: Model<S, C>, const S: usize, const C: usize>(
    surrogate: Box<dyn GradKernel>,
    hard: bool,
    stride: usize,
) -> Fused<M, S, C> {
    Fused {
        surrogate,
        hard,
        stride,
        model: PhantomData,
    }
}

// SAFETY (all three): the caller guarantees the addresses; `Grid::new` and
// `GridMut::new` take them with their shapes.
pub(super) unsafe fn grid<'a, R>(addr: usize, steps: usize, n: usize) -> Grid<'a, R> {
    Grid::new(addr as *const R, steps, n)
}
pub(super) unsafe fn grid_mut<'a, R>(addr: usize, steps: usize, n: usize) -> GridMut<'a, R> {
    GridMut::new(addr as *mut R, steps, n)
}
pub(super) unsafe fn grids<'a, R, const K: usize>(
    addrs: &[usize],
    steps: usize,
    n: usize,
) -> [Grid<'a, R>; K] {
    std::array::from_fn(|k| grid(addrs[k], steps, n))
}
pub(super) unsafe fn grids_mut<'a, R, const K: usize>(
    addrs: &[usize],
    steps: usize,
    n: usize,
) -> [GridMut<'a, R>; K] {
    std::array::from_fn(|k| grid_mut(addrs[k], steps, n))
}

/// Split `addrs` into consecutive groups of the given lengths.
pub(super) fn groups<const G: usize>(mut addrs: &[usize], lens: [usize; G]) -> [&[usize]; G] {
    std::array::from_fn(|g| {
        let (head, tail) = addrs.split_at(lens[g]);
        addrs = tail;
        head
    })
}

/// The multiversioned passes of one precision, generic over model, surrogate
/// and the sequences' type `E`. `f16c`: a constant in each clone.
macro_rules! passes {
    ($forward:ident, $tangent:ident, $bptt:ident, $r:ty) => {
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        fn $forward<E: Seq<$r>, M: Model<S, C>, const S: usize, const C: usize>(
            hard: bool,
            stride: usize,
            cols: Range<usize>,
            io: &Forward<'_, E, $r, S, C>,
        ) {
            let f16c = match_target! { "x86_64+avx+f16c" => true, _ => false };
            if hard {
                forward_block::<E, $r, M, S, C, true>(f16c, stride, cols, io);
            } else {
                forward_block::<E, $r, M, S, C, false>(f16c, stride, cols, io);
            }
        }

        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        fn $tangent<E: Seq<$r>, M: Model<S, C>, const S: usize, const C: usize>(
            sg: &dyn GradKernel,
            hard: bool,
            cols: Range<usize>,
            io: &Tangent<'_, E, $r, S, C>,
        ) {
            let f16c = match_target! { "x86_64+avx+f16c" => true, _ => false };
            if hard {
                tangent_block::<E, $r, M, S, C, true>(f16c, sg, cols, io);
            } else {
                tangent_block::<E, $r, M, S, C, false>(f16c, sg, cols, io);
            }
        }

        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        fn $bptt<E: Seq<$r>, M: Model<S, C>, const S: usize, const C: usize>(
            sg: &dyn GradKernel,
            hard: bool,
            consts: bool,
            stride: usize,
            cols: Range<usize>,
            io: &Bptt<'_, E, $r, S, C>,
        ) {
            let f16c = match_target! { "x86_64+avx+f16c" => true, _ => false };
            match (hard, consts) {
                (true, true) => {
                    bptt_block::<E, $r, M, S, C, true, true>(f16c, sg, stride, cols, io)
                }
                (true, false) => {
                    bptt_block::<E, $r, M, S, C, true, false>(f16c, sg, stride, cols, io)
                }
                (false, true) => {
                    bptt_block::<E, $r, M, S, C, false, true>(f16c, sg, stride, cols, io)
                }
                (false, false) => {
                    bptt_block::<E, $r, M, S, C, false, false>(f16c, sg, stride, cols, io)
                }
            }
        }
    };
}

passes!(forward_f32, tangent_f32, bptt_f32, f32);
passes!(forward_f64, tangent_f64, bptt_f64, f64);

/// The trait's methods of one precision: build the grids (the sequences in
/// `$e`), run the pass.
macro_rules! methods {
    ($forward:ident, $tangent:ident, $bptt:ident => $fwd:ident, $tan:ident, $bp:ident, $r:ty, $e:ty) => {
        unsafe fn $forward(
            &self,
            steps: usize,
            n: usize,
            cols: Range<usize>,
            ins: &[usize],
            outs: &[usize],
        ) {
            let [x, z0, c] = groups(ins, [1, S, C]);
            let [spikes, saved] = groups(outs, [1, S]);
            let rows = steps.div_ceil(self.stride);
            let io = Forward::<$e, $r, S, C> {
                x: grid(x[0], steps, n),
                z0: grids(z0, 1, n),
                c: grids(c, 1, n),
                spikes: (spikes[0] != 0).then(|| grid_mut(spikes[0], steps, n)),
                saved: (saved[0] != 0).then(|| grids_mut(saved, rows, n)),
            };
            $fwd::<$e, M, S, C>(self.hard, self.stride, cols, &io);
        }

        unsafe fn $tangent(
            &self,
            steps: usize,
            n: usize,
            cols: Range<usize>,
            ins: &[usize],
            outs: &[usize],
        ) {
            let [x, z0, c, _saved, dx, dz0, dc] = groups(ins, [1, S, C, S, 1, S, C]);
            let [dspikes, dz] = groups(outs, [1, S]);
            let io = Tangent::<$e, $r, S, C> {
                x: grid(x[0], steps, n),
                z0: grids(z0, 1, n),
                c: grids(c, 1, n),
                dx: grid(dx[0], steps, n),
                dz0: grids(dz0, 1, n),
                dc: grids(dc, 1, n),
                dspikes: grid_mut(dspikes[0], steps, n),
                dz: grids_mut(dz, steps, n),
            };
            $tan::<$e, M, S, C>(&*self.surrogate, self.hard, cols, &io);
        }

        unsafe fn $bptt(
            &self,
            steps: usize,
            n: usize,
            cols: Range<usize>,
            ins: &[usize],
            outs: &[usize],
            consts: bool,
        ) {
            let [x, z0, c, saved, cts, ct_z] = groups(ins, [1, S, C, S, 1, S]);
            let [ct_x, ct_z0, ct_c] = groups(outs, [1, S, C]);
            let rows = steps.div_ceil(self.stride);
            let io = Bptt::<$e, $r, S, C> {
                x: grid(x[0], steps, n),
                z0: grids(z0, 1, n),
                c: grids(c, 1, n),
                saved: grids(saved, rows, n),
                ct_spikes: grid(cts[0], steps, n),
                ct_z: std::array::from_fn(|q| (ct_z[q] != 0).then(|| grid(ct_z[q], steps, n))),
                ct_x: grid_mut(ct_x[0], steps, n),
                ct_z0: grids_mut(ct_z0, 1, n),
                ct_c: grids_mut(ct_c, 1, n),
            };
            $bp::<$e, M, S, C>(&*self.surrogate, self.hard, consts, self.stride, cols, &io);
        }
    };
}

impl<M: Model<S, C>, const S: usize, const C: usize> NeuronKernel for Fused<M, S, C> {
    fn states(&self) -> usize {
        S
    }
    fn consts(&self) -> usize {
        C
    }
    methods!(forward_f32, tangent_f32, bptt_f32 => forward_f32, tangent_f32, bptt_f32, f32, f32);
    methods!(forward_f64, tangent_f64, bptt_f64 => forward_f64, tangent_f64, bptt_f64, f64, f64);
    methods!(forward_f16, tangent_f16, bptt_f16 => forward_f32, tangent_f32, bptt_f32, f32, f16);
    methods!(forward_bf16, tangent_bf16, bptt_bf16 => forward_f32, tangent_f32, bptt_f32, f32, bf16);
}
