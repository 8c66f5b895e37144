//! [`RecurrentKernel`]: the recurrent passes ([`super::recurrent`]) of a built
//! kernel ([`super::kernel::Fused`]), for every model, compiled per CPU target
//! (`multiversion`) and called by the bridge with raw buffer addresses.
//!
//! Buffer addresses, in the FFI operands' order (S states, C constants):
//!
//! ```text
//! forward  in:  x, z0[S], c[C], w                         out: spikes (0: not written),
//!                                                              saved[S] (all 0: not kept)
//! bptt     in:  x, z0[S], c[C], w, saved[S], ct_spikes, ct_z[S] (0: zero)
//!          out: ct_x, ct_z0[S], ct_c[C] (zeros unless `consts`), gw
//! ```
//!
//! Sequences are `[steps, rows n]`, states and constants `[rows n]`,
//! checkpoints `[ceil(steps / stride), rows n]`, `w` `[n, n]`. BPTT adds the
//! weight gradient of the call's rows to `gw`, the call's own `[n, n]`
//! partial (zeroed by the caller). f32 and f64 only.

use std::ops::Range;

use multiversion::multiversion;

use super::kernel::{grid, grid_mut, grids, grids_mut, groups, Fused};
use super::model::Model;
use super::recurrent::{rec_bptt_block, rec_forward_block, RecBptt, RecForward};
use crate::kernels::GradKernel;

/// The recurrent passes of a built kernel.
pub trait RecurrentKernel {
    /// # Safety
    /// `ins` and `outs` hold the addresses of live buffers of the sizes and
    /// order in the module docs (`rows` rows of `n` neurons), and no other
    /// call touches the rows `block` of the outputs meanwhile.
    unsafe fn rec_forward_f32(
        &self,
        steps: usize,
        rows: usize,
        n: usize,
        block: Range<usize>,
        ins: &[usize],
        outs: &[usize],
    );
    /// # Safety
    /// As [`RecurrentKernel::rec_forward_f32`].
    unsafe fn rec_forward_f64(
        &self,
        steps: usize,
        rows: usize,
        n: usize,
        block: Range<usize>,
        ins: &[usize],
        outs: &[usize],
    );
    /// `consts`: compute the constants' cotangents (else write zeros).
    ///
    /// # Safety
    /// As [`RecurrentKernel::rec_forward_f32`], and `gw` is the call's own.
    #[allow(clippy::too_many_arguments)]
    unsafe fn rec_bptt_f32(
        &self,
        steps: usize,
        rows: usize,
        n: usize,
        block: Range<usize>,
        ins: &[usize],
        outs: &[usize],
        consts: bool,
    );
    /// # Safety
    /// As [`RecurrentKernel::rec_bptt_f32`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn rec_bptt_f64(
        &self,
        steps: usize,
        rows: usize,
        n: usize,
        block: Range<usize>,
        ins: &[usize],
        outs: &[usize],
        consts: bool,
    );
}

/// The multiversioned passes of one precision.
macro_rules! rec_passes {
    ($forward:ident, $bptt:ident, $r:ty) => {
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        fn $forward<M: Model<S, C>, const S: usize, const C: usize>(
            hard: bool,
            n: usize,
            stride: usize,
            block: Range<usize>,
            io: &RecForward<'_, $r, S, C>,
        ) {
            if hard {
                rec_forward_block::<$r, M, S, C, true>(n, stride, block, io);
            } else {
                rec_forward_block::<$r, M, S, C, false>(n, stride, block, io);
            }
        }

        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        #[allow(clippy::too_many_arguments)]
        fn $bptt<M: Model<S, C>, const S: usize, const C: usize>(
            sg: &dyn GradKernel,
            hard: bool,
            consts: bool,
            n: usize,
            stride: usize,
            block: Range<usize>,
            io: &RecBptt<'_, $r, S, C>,
        ) {
            match (hard, consts) {
                (true, true) => rec_bptt_block::<$r, M, S, C, true, true>(sg, n, stride, block, io),
                (true, false) => {
                    rec_bptt_block::<$r, M, S, C, true, false>(sg, n, stride, block, io)
                }
                (false, true) => {
                    rec_bptt_block::<$r, M, S, C, false, true>(sg, n, stride, block, io)
                }
                (false, false) => {
                    rec_bptt_block::<$r, M, S, C, false, false>(sg, n, stride, block, io)
                }
            }
        }
    };
}

rec_passes!(rec_forward_f32, rec_bptt_f32, f32);
rec_passes!(rec_forward_f64, rec_bptt_f64, f64);

/// The trait's methods of one precision: build the grids, run the pass.
macro_rules! rec_methods {
    ($forward:ident, $bptt:ident, $r:ty) => {
        unsafe fn $forward(
            &self,
            steps: usize,
            rows: usize,
            n: usize,
            block: Range<usize>,
            ins: &[usize],
            outs: &[usize],
        ) {
            let width = rows * n;
            let [x, z0, c, w] = groups(ins, [1, S, C, 1]);
            let [spikes, saved] = groups(outs, [1, S]);
            let ckpt = steps.div_ceil(self.stride);
            let io = RecForward::<$r, S, C> {
                x: grid(x[0], steps, width),
                z0: grids(z0, 1, width),
                c: grids(c, 1, width),
                w: grid(w[0], n, n),
                spikes: (spikes[0] != 0).then(|| grid_mut(spikes[0], steps, width)),
                saved: (saved[0] != 0).then(|| grids_mut(saved, ckpt, width)),
            };
            $forward::<M, S, C>(self.hard, n, self.stride, block, &io);
        }

        unsafe fn $bptt(
            &self,
            steps: usize,
            rows: usize,
            n: usize,
            block: Range<usize>,
            ins: &[usize],
            outs: &[usize],
            consts: bool,
        ) {
            let width = rows * n;
            let [x, z0, c, w, saved, cts, ct_z] = groups(ins, [1, S, C, 1, S, 1, S]);
            let [ct_x, ct_z0, ct_c, gw] = groups(outs, [1, S, C, 1]);
            let ckpt = steps.div_ceil(self.stride);
            let io = RecBptt::<$r, S, C> {
                x: grid(x[0], steps, width),
                z0: grids(z0, 1, width),
                c: grids(c, 1, width),
                w: grid(w[0], n, n),
                saved: grids(saved, ckpt, width),
                ct_spikes: grid(cts[0], steps, width),
                ct_z: std::array::from_fn(|q| (ct_z[q] != 0).then(|| grid(ct_z[q], steps, width))),
                ct_x: grid_mut(ct_x[0], steps, width),
                ct_z0: grids_mut(ct_z0, 1, width),
                ct_c: grids_mut(ct_c, 1, width),
                gw: grid_mut(gw[0], 1, n * n),
            };
            $bptt::<M, S, C>(
                &*self.surrogate,
                self.hard,
                consts,
                n,
                self.stride,
                block,
                &io,
            );
        }
    };
}

impl<M: Model<S, C>, const S: usize, const C: usize> RecurrentKernel for Fused<M, S, C> {
    rec_methods!(rec_forward_f32, rec_bptt_f32, f32);
    rec_methods!(rec_forward_f64, rec_bptt_f64, f64);
}
