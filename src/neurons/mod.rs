//! Fused multi-step neuron models: the whole time loop of a population in one
//! kernel call, forward and backward (BPTT), generic over the surrogate.
//!
//! Buffers are time-major `[steps, n]` (row `t` holds every neuron at step
//! `t + 1`). One call handles the neuron columns `begin..end`; the C++ shim
//! splits a population into disjoint column ranges over threads, so the
//! kernels take raw row-major grids ([`Grid`], [`GridMut`]) and only ever form
//! slices of their own columns.
//!
//! One design serves every model: a model is a [`model::Model`] (its step,
//! the step's tangent and its transpose, per neuron), [`passes`] runs the
//! forward, tangent and BPTT passes of any model, and [`kernel`] compiles them
//! per CPU target behind one trait object. Adding a model: a module like
//! [`lif`], one line in `crate::registry`'s model table.
//!
//! The recurrent form (`x_t + s_prev @ w_rec` as each step's input) has its
//! own passes ([`recurrent`]) behind [`rec_kernel::RecurrentKernel`], which
//! every built kernel implements for its model.

pub mod adex_if;
pub mod alif;
pub mod coba_lif;
pub mod cuba_lif;
pub mod exp_if;
pub mod gif;
pub mod if_;
pub mod kernel;
pub mod lif;
pub mod lif_ref;
pub mod model;
pub mod passes;
pub mod rec_kernel;
pub mod rec_tile;
pub mod recurrent;
pub mod refractory;

use std::marker::PhantomData;
use std::ops::Range;

use crate::kernels::GradKernel;
use crate::math::Real;

/// The float types the neuron kernels compute and store the state in.
pub trait NeuronReal: Real + rec_tile::SimdTile {
    /// `x[i] = g'(x[i])` over a row, with the surrogate's own vectorized loop.
    fn grad_row(g: &dyn GradKernel, x: &mut [Self]);
}

impl NeuronReal for f32 {
    #[inline(always)]
    fn grad_row(g: &dyn GradKernel, x: &mut [f32]) {
        g.grad_in_place_f32(x)
    }
}

impl NeuronReal for f64 {
    #[inline(always)]
    fn grad_row(g: &dyn GradKernel, x: &mut [f64]) {
        g.grad_in_place_f64(x)
    }
}

/// A read-only row-major `[steps, n]` buffer.
#[derive(Clone, Copy)]
pub struct Grid<'a, R> {
    ptr: *const R,
    steps: usize,
    n: usize,
    data: PhantomData<&'a [R]>,
}

/// A writable row-major `[steps, n]` buffer.
#[derive(Clone, Copy)]
pub struct GridMut<'a, R> {
    ptr: *mut R,
    steps: usize,
    n: usize,
    data: PhantomData<&'a mut [R]>,
}

// SAFETY: a grid is only a pointer and a shape; the callers of the kernels
// guarantee that concurrent calls touch disjoint columns.
unsafe impl<R: Sync> Send for Grid<'_, R> {}
unsafe impl<R: Sync> Sync for Grid<'_, R> {}
unsafe impl<R: Send> Send for GridMut<'_, R> {}
unsafe impl<R: Send> Sync for GridMut<'_, R> {}

impl<'a, R> Grid<'a, R> {
    /// # Safety
    /// `ptr` points to `steps * n` initialized elements that outlive the grid.
    pub unsafe fn new(ptr: *const R, steps: usize, n: usize) -> Self {
        Self {
            ptr,
            steps,
            n,
            data: PhantomData,
        }
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Row `t`, columns `cols`.
    #[inline(always)]
    pub fn row(&self, t: usize, cols: Range<usize>) -> &'a [R] {
        assert!(t < self.steps && cols.start <= cols.end && cols.end <= self.n);
        // SAFETY: in bounds by the assertion and `new`'s contract.
        unsafe { std::slice::from_raw_parts(self.ptr.add(t * self.n + cols.start), cols.len()) }
    }
}

impl<'a, R> GridMut<'a, R> {
    /// # Safety
    /// `ptr` points to `steps * n` elements that outlive the grid, and no
    /// other access touches the columns a kernel is given while it runs, but
    /// BPTT's `ct_spikes`, which may share `ct_x`'s buffer: the pass reads
    /// each of its rows before writing that row (`passes::bptt_block`).
    pub unsafe fn new(ptr: *mut R, steps: usize, n: usize) -> Self {
        Self {
            ptr,
            steps,
            n,
            data: PhantomData,
        }
    }

    /// Row `t`, columns `cols`. The caller (a kernel) holds one such slice at
    /// a time per row and column range.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn row_mut(&self, t: usize, cols: Range<usize>) -> &'a mut [R] {
        assert!(t < self.steps && cols.start <= cols.end && cols.end <= self.n);
        // SAFETY: in bounds; disjointness is `new`'s contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(t * self.n + cols.start), cols.len()) }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod rec_tests;
