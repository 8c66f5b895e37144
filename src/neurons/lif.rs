//! The leaky integrate-and-fire neuron of brainpy.state (`brainpy.state.LIF`),
//! unitless, over `T` steps in one call.
//!
//! With `a = exp(-dt/tau)`, `delta = V_th - V_reset`, `u(V) = (V - V_th)/delta`
//! and `s(V) = [u(V) >= 0]`, each step is
//!
//! ```text
//! soft reset: U = V_{t-1} - delta s(V_{t-1})
//! hard reset: U = V_{t-1} - (V_{t-1} - V_reset) s(V_{t-1})   (the factor is not differentiated)
//! V_t = a U + bias + drive x_t,   bias = (1 - a) V_rest,  drive = (1 - a) R
//! output s(V_t)
//! ```
//!
//! The derivative of `s` is the surrogate's `g'(u)/delta`. Differentiating a
//! step gives `dV_t = a rho(V_{t-1}) dV_{t-1} + drive dx_t` with
//! `rho = 1 - g'(u)` (soft) or `1 - (V - V_reset) g'(u)/delta` (hard), and the
//! output tangent `g'(u(V_t))/delta dV_t`. [`LifKernel::tangent`] runs that
//! recurrence forward; [`LifKernel::bptt`] is its transpose, run backward:
//! `lambda_t = ct_s_t g'(u_t)/delta + ct_v_t + a rho_t lambda_{t+1}`,
//! `ct_x_t = drive lambda_t`, `ct_v0 = a rho_0 lambda_1`.
//! Only the potentials `V_1..V_T` are kept between the passes.

use std::ops::Range;

use multiversion::multiversion;

use super::{Grid, GridMut, NeuronReal};
use crate::surrogates::Surrogate;

/// Neurons processed together through all steps. Each step then touches
/// `BLOCK` contiguous elements of every row: long enough for the hardware
/// prefetcher to stream the rows, short enough that the
/// per-block state (a few arrays of `BLOCK`) stays in L1/L2 (docs/perf.md).
const BLOCK: usize = 2048;

/// The LIF constants, folded from brainpy.state's parameters in f64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifParams {
    /// `a = exp(-dt/tau)`.
    pub decay: f64,
    /// `(1 - a) V_rest`.
    pub bias: f64,
    /// `(1 - a) R`.
    pub drive: f64,
    pub v_th: f64,
    pub v_reset: f64,
    pub hard_reset: bool,
}

impl LifParams {
    /// From `[decay, bias, drive, v_th, v_reset]` and the reset mode, validated.
    pub fn new(values: &[f64], hard_reset: bool) -> Result<Self, String> {
        const NAMES: [&str; 5] = ["decay", "bias", "drive", "V_th", "V_reset"];
        let [decay, bias, drive, v_th, v_reset] = values else {
            return Err(format!(
                "LIF takes 5 constants {NAMES:?}, got {}",
                values.len()
            ));
        };
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "LIF: {} must be finite, got {}",
                NAMES[i], values[i]
            ));
        }
        if !(0.0..=1.0).contains(decay) {
            return Err(format!(
                "LIF: decay exp(-dt/tau) must be in [0, 1], got {decay}"
            ));
        }
        if v_th == v_reset {
            return Err(format!(
                "LIF: V_th must differ from V_reset, both are {v_th}"
            ));
        }
        Ok(Self {
            decay: *decay,
            bias: *bias,
            drive: *drive,
            v_th: *v_th,
            v_reset: *v_reset,
            hard_reset,
        })
    }
}

/// The constants in the kernel's precision.
#[derive(Clone, Copy)]
struct Consts<R> {
    decay: R,
    bias: R,
    drive: R,
    v_th: R,
    v_reset: R,
    delta: R,
    inv_delta: R,
}

impl<R: NeuronReal> Consts<R> {
    fn of(p: &LifParams) -> Self {
        let delta = p.v_th - p.v_reset;
        Self {
            decay: R::from_f64(p.decay),
            bias: R::from_f64(p.bias),
            drive: R::from_f64(p.drive),
            v_th: R::from_f64(p.v_th),
            v_reset: R::from_f64(p.v_reset),
            delta: R::from_f64(delta),
            inv_delta: R::from_f64(1.0 / delta),
        }
    }

    /// `u(V)`, the surrogate's argument.
    #[inline(always)]
    fn u(&self, v: R) -> R {
        (v - self.v_th) * self.inv_delta
    }

    /// The spike `[u(V) >= 0]` (NaN gives 0).
    #[inline(always)]
    fn spike(&self, v: R) -> R {
        if self.u(v) >= R::from_f64(0.0) {
            R::from_f64(1.0)
        } else {
            R::from_f64(0.0)
        }
    }

    /// One step's potential from the previous one and the input.
    #[inline(always)]
    fn step<const HARD: bool>(&self, v: R, x: R) -> R {
        let s = self.spike(v);
        let reset = if HARD { v - self.v_reset } else { self.delta };
        let u = v - reset * s;
        self.decay * u + (self.bias + self.drive * x)
    }

    /// `a rho(V)` given `g = g'(u(V))`: the factor from `dV_{t-1}` to `dV_t`.
    #[inline(always)]
    fn carry<const HARD: bool>(&self, v: R, g: R) -> R {
        let one = R::from_f64(1.0);
        let rho = if HARD {
            one - (v - self.v_reset) * g * self.inv_delta
        } else {
            one - g
        };
        self.decay * rho
    }
}

/// The trait's three passes for one precision.
macro_rules! kernel_signatures {
    ($fwd:ident, $tan:ident, $bwd:ident, $r:ty) => {
        /// `spikes` and (if asked for) `v` from `x`, `v0`.
        fn $fwd(
            &self,
            cols: Range<usize>,
            x: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            spikes: GridMut<'_, $r>,
            v: Option<GridMut<'_, $r>>,
        );
        /// The linear tangent map: `(dx, dv0) -> (d spikes, dv)` at the potentials `v`.
        #[allow(clippy::too_many_arguments)]
        fn $tan(
            &self,
            cols: Range<usize>,
            v: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            dx: Grid<'_, $r>,
            dv0: Grid<'_, $r>,
            dspikes: GridMut<'_, $r>,
            dv: GridMut<'_, $r>,
        );
        /// Its transpose: `(ct_spikes, ct_v) -> (ct_x, ct_v0)`; `ct_v` may be absent (zero).
        #[allow(clippy::too_many_arguments)]
        fn $bwd(
            &self,
            cols: Range<usize>,
            v: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            ct_spikes: Grid<'_, $r>,
            ct_v: Option<Grid<'_, $r>>,
            ct_x: GridMut<'_, $r>,
            ct_v0: GridMut<'_, $r>,
        );
    };
}

/// The fused LIF passes of one surrogate and one set of constants, over the
/// columns `cols` of `[steps, n]` grids (`v0`, `dv0`, `ct_v0` are `[1, n]`).
/// One method per pass and precision: generic methods would not make a trait object.
pub trait LifKernel: Send + Sync {
    kernel_signatures!(forward_f32, tangent_f32, bptt_f32, f32);
    kernel_signatures!(forward_f64, tangent_f64, bptt_f64, f64);
}

struct Lif<S> {
    surrogate: S,
    params: LifParams,
}

/// The LIF kernel of surrogate `S` with folded LIF constants (the registry
/// builds it from names: `registry::lif_kernel`).
pub(crate) fn lif<S: Surrogate>(surrogate: S, params: LifParams) -> Box<dyn LifKernel> {
    Box::new(Lif { surrogate, params })
}

// ---- the passes, generic over precision and reset ---------------------------

#[inline(always)]
fn forward_block<R: NeuronReal, const HARD: bool>(
    c: &Consts<R>,
    cols: Range<usize>,
    x: Grid<'_, R>,
    v0: Grid<'_, R>,
    spikes: GridMut<'_, R>,
    v: Option<GridMut<'_, R>>,
) {
    let n = cols.len();
    let mut state = v0.row(0, cols.clone()).to_vec();
    for t in 0..x.steps() {
        let xs = &x.row(t, cols.clone())[..n];
        let ss = &mut spikes.row_mut(t, cols.clone())[..n];
        let state = &mut state[..n];
        match v {
            Some(v) => {
                let vs = &mut v.row_mut(t, cols.clone())[..n];
                for i in 0..n {
                    let vn = c.step::<HARD>(state[i], xs[i]);
                    state[i] = vn;
                    vs[i] = vn;
                    ss[i] = c.spike(vn);
                }
            }
            None => {
                for i in 0..n {
                    let vn = c.step::<HARD>(state[i], xs[i]);
                    state[i] = vn;
                    ss[i] = c.spike(vn);
                }
            }
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tangent_block<R: NeuronReal, S: Surrogate, const HARD: bool>(
    s: &S,
    c: &Consts<R>,
    cols: Range<usize>,
    v: Grid<'_, R>,
    v0: Grid<'_, R>,
    dx: Grid<'_, R>,
    dv0: Grid<'_, R>,
    dspikes: GridMut<'_, R>,
    dv: GridMut<'_, R>,
) {
    let n = cols.len();
    let mut tangent = vec![R::from_f64(0.0); n];
    let mut grads = vec![R::from_f64(0.0); n];
    let mut next = vec![R::from_f64(0.0); n];
    let tangent = &mut tangent[..n];
    let (mut grads, mut next) = (&mut grads[..n], &mut next[..n]);
    tangent.copy_from_slice(dv0.row(0, cols.clone()));
    let mut prev = v0.row(0, cols.clone());
    surrogate_row(s, c, prev, grads);
    for t in 0..v.steps() {
        let vs = v.row(t, cols.clone());
        let dxs = dx.row(t, cols.clone());
        let dvs = dv.row_mut(t, cols.clone());
        let dss = dspikes.row_mut(t, cols.clone());
        surrogate_row(s, c, vs, next);
        // Equal lengths, stated to the compiler: no bounds checks, so the loop vectorizes.
        let (dxs, dvs, dss, pv) = (&dxs[..n], &mut dvs[..n], &mut dss[..n], &prev[..n]);
        let (tangent, g_prev, g) = (&mut tangent[..n], &grads[..n], &next[..n]);
        for i in 0..n {
            let dvn = c.carry::<HARD>(pv[i], g_prev[i]) * tangent[i] + c.drive * dxs[i];
            tangent[i] = dvn;
            dvs[i] = dvn;
            dss[i] = g[i] * c.inv_delta * dvn;
        }
        std::mem::swap(&mut grads, &mut next);
        prev = vs;
    }
}

/// `g'(u(V))` over one row, in a loop of its own: the shape of the fused
/// surrogate kernel, which LLVM vectorizes for every surrogate. Computed inside
/// the recurrence loops instead, the costlier surrogates (MultiGaussianGrad)
/// stayed scalar: BPTT with MultiGaussianGrad ran 4x slower (docs/perf.md).
#[inline(always)]
fn surrogate_row<R: NeuronReal, S: Surrogate>(s: &S, c: &Consts<R>, v: &[R], out: &mut [R]) {
    for (g, &vi) in out.iter_mut().zip(v) {
        *g = R::grad(s, c.u(vi));
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn bptt_block<R: NeuronReal, S: Surrogate, const HARD: bool>(
    s: &S,
    c: &Consts<R>,
    cols: Range<usize>,
    v: Grid<'_, R>,
    v0: Grid<'_, R>,
    ct_spikes: Grid<'_, R>,
    ct_v: Option<Grid<'_, R>>,
    ct_x: GridMut<'_, R>,
    ct_v0: GridMut<'_, R>,
) {
    let n = cols.len();
    let steps = v.steps();
    // carry[i] = a rho(V_t) lambda_{t+1}; grads[i] = g'(u(V_t)) of the row below.
    let mut carry = vec![R::from_f64(0.0); n];
    let mut grads = vec![R::from_f64(0.0); n];
    let mut below = vec![R::from_f64(0.0); n];
    let carry = &mut carry[..n];
    let (mut grads, mut below) = (&mut grads[..n], &mut below[..n]);
    if steps > 0 {
        surrogate_row(s, c, v.row(steps - 1, cols.clone()), grads);
    }
    for t in (0..steps).rev() {
        let prev = if t == 0 {
            v0.row(0, cols.clone())
        } else {
            v.row(t - 1, cols.clone())
        };
        surrogate_row(s, c, prev, below);
        let cts = ct_spikes.row(t, cols.clone());
        let ctx = ct_x.row_mut(t, cols.clone());
        let ctv = ct_v.map(|g| g.row(t, cols.clone()));
        let (prev, cts, ctx) = (&prev[..n], &cts[..n], &mut ctx[..n]);
        let (carry, g_t, g_prev) = (&mut carry[..n], &grads[..n], &below[..n]);
        match ctv {
            Some(ctv) => {
                let ctv = &ctv[..n];
                for i in 0..n {
                    let lambda = cts[i] * g_t[i] * c.inv_delta + carry[i] + ctv[i];
                    ctx[i] = c.drive * lambda;
                    carry[i] = c.carry::<HARD>(prev[i], g_prev[i]) * lambda;
                }
            }
            None => {
                for i in 0..n {
                    let lambda = cts[i] * g_t[i] * c.inv_delta + carry[i];
                    ctx[i] = c.drive * lambda;
                    carry[i] = c.carry::<HARD>(prev[i], g_prev[i]) * lambda;
                }
            }
        }
        std::mem::swap(&mut grads, &mut below);
    }
    ct_v0.row_mut(0, cols).copy_from_slice(carry);
}

// ---- CPU-feature clones ------------------------------------------------------

macro_rules! clones {
    ($fwd:ident, $tan:ident, $bwd:ident, $r:ty) => {
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        fn $fwd<'a>(
            p: &LifParams,
            cols: Range<usize>,
            x: Grid<'a, $r>,
            v0: Grid<'a, $r>,
            spikes: GridMut<'a, $r>,
            v: Option<GridMut<'a, $r>>,
        ) {
            let c = Consts::<$r>::of(p);
            for b in cols.clone().step_by(BLOCK) {
                let blk = b..(b + BLOCK).min(cols.end);
                if p.hard_reset {
                    forward_block::<$r, true>(&c, blk, x, v0, spikes, v);
                } else {
                    forward_block::<$r, false>(&c, blk, x, v0, spikes, v);
                }
            }
        }

        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        #[allow(clippy::too_many_arguments)]
        fn $tan<'a, S: Surrogate>(
            s: &S,
            p: &LifParams,
            cols: Range<usize>,
            v: Grid<'a, $r>,
            v0: Grid<'a, $r>,
            dx: Grid<'a, $r>,
            dv0: Grid<'a, $r>,
            dspikes: GridMut<'a, $r>,
            dv: GridMut<'a, $r>,
        ) {
            let c = Consts::<$r>::of(p);
            for b in cols.clone().step_by(BLOCK) {
                let blk = b..(b + BLOCK).min(cols.end);
                if p.hard_reset {
                    tangent_block::<$r, S, true>(s, &c, blk, v, v0, dx, dv0, dspikes, dv);
                } else {
                    tangent_block::<$r, S, false>(s, &c, blk, v, v0, dx, dv0, dspikes, dv);
                }
            }
        }

        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        #[allow(clippy::too_many_arguments)]
        fn $bwd<'a, S: Surrogate>(
            s: &S,
            p: &LifParams,
            cols: Range<usize>,
            v: Grid<'a, $r>,
            v0: Grid<'a, $r>,
            ct_spikes: Grid<'a, $r>,
            ct_v: Option<Grid<'a, $r>>,
            ct_x: GridMut<'a, $r>,
            ct_v0: GridMut<'a, $r>,
        ) {
            let c = Consts::<$r>::of(p);
            for b in cols.clone().step_by(BLOCK) {
                let blk = b..(b + BLOCK).min(cols.end);
                if p.hard_reset {
                    bptt_block::<$r, S, true>(s, &c, blk, v, v0, ct_spikes, ct_v, ct_x, ct_v0);
                } else {
                    bptt_block::<$r, S, false>(s, &c, blk, v, v0, ct_spikes, ct_v, ct_x, ct_v0);
                }
            }
        }
    };
}

clones!(forward_f32, tangent_f32, bptt_f32, f32);
clones!(forward_f64, tangent_f64, bptt_f64, f64);

/// The trait's three methods for one precision, each calling its clone above.
macro_rules! kernel_methods {
    ($fwd:ident, $tan:ident, $bwd:ident, $r:ty) => {
        fn $fwd(
            &self,
            cols: Range<usize>,
            x: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            spikes: GridMut<'_, $r>,
            v: Option<GridMut<'_, $r>>,
        ) {
            $fwd(&self.params, cols, x, v0, spikes, v)
        }

        fn $tan(
            &self,
            cols: Range<usize>,
            v: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            dx: Grid<'_, $r>,
            dv0: Grid<'_, $r>,
            dspikes: GridMut<'_, $r>,
            dv: GridMut<'_, $r>,
        ) {
            let s = &self.surrogate;
            $tan(s, &self.params, cols, v, v0, dx, dv0, dspikes, dv)
        }

        fn $bwd(
            &self,
            cols: Range<usize>,
            v: Grid<'_, $r>,
            v0: Grid<'_, $r>,
            ct_spikes: Grid<'_, $r>,
            ct_v: Option<Grid<'_, $r>>,
            ct_x: GridMut<'_, $r>,
            ct_v0: GridMut<'_, $r>,
        ) {
            let s = &self.surrogate;
            $bwd(s, &self.params, cols, v, v0, ct_spikes, ct_v, ct_x, ct_v0)
        }
    };
}

impl<S: Surrogate> LifKernel for Lif<S> {
    kernel_methods!(forward_f32, tangent_f32, bptt_f32, f32);
    kernel_methods!(forward_f64, tangent_f64, bptt_f64, f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lif_kernel;

    const T: usize = 7;
    const N: usize = 300; // more than one block

    /// The step-by-step f64 reference: (spikes, v) and the tangent map.
    fn reference(
        p: &LifParams,
        g: impl Fn(f64) -> f64,
        x: &[f64],
        v0: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let delta = p.v_th - p.v_reset;
        let mut spikes = vec![0.0; T * N];
        let mut v = vec![0.0; T * N];
        for i in 0..N {
            let mut vp = v0[i];
            for t in 0..T {
                let s = if (vp - p.v_th) / delta >= 0.0 {
                    1.0
                } else {
                    0.0
                };
                let reset = if p.hard_reset { vp - p.v_reset } else { delta };
                let u = vp - reset * s;
                let vn = p.decay * u + p.bias + p.drive * x[t * N + i];
                v[t * N + i] = vn;
                spikes[t * N + i] = if (vn - p.v_th) / delta >= 0.0 {
                    1.0
                } else {
                    0.0
                };
                vp = vn;
            }
        }
        let _ = g;
        (spikes, v)
    }

    fn inputs() -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..T * N)
            .map(|k| ((k * 7919 % 1000) as f64 / 250.0) - 0.5)
            .collect();
        let v0: Vec<f64> = (0..N).map(|k| (k % 13) as f64 / 10.0 - 0.3).collect();
        (x, v0)
    }

    fn params(hard: bool) -> LifParams {
        let a = (-0.1f64 / 2.0).exp();
        LifParams::new(&[a, (1.0 - a) * 0.1, (1.0 - a) * 3.0, 1.0, -0.2], hard).unwrap()
    }

    #[test]
    fn forward_matches_reference() {
        let (x, v0) = inputs();
        for hard in [false, true] {
            let p = params(hard);
            let k = lif_kernel(
                "relu_grad",
                &[0.3, 1.0],
                &[p.decay, p.bias, p.drive, p.v_th, p.v_reset],
                hard,
            )
            .unwrap();
            let mut spikes = vec![0.0; T * N];
            let mut v = vec![0.0; T * N];
            // Two column ranges, as two threads would run them.
            for cols in [0..100, 100..N] {
                k.forward_f64(
                    cols,
                    Grid::of(&x, T, N),
                    Grid::of(&v0, 1, N),
                    GridMut::of(&mut spikes, T, N),
                    Some(GridMut::of(&mut v, T, N)),
                );
            }
            let (rs, rv) = reference(&p, |_| 0.0, &x, &v0);
            assert_eq!(spikes, rs);
            for (a, b) in v.iter().zip(&rv) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
            }
            assert!(spikes.contains(&1.0) && spikes.contains(&0.0));
        }
    }

    #[test]
    fn bptt_is_the_transpose_of_the_tangent() {
        // <bptt(ct), (dx, dv0)> == <ct, tangent(dx, dv0)> for random vectors.
        let (x, v0) = inputs();
        for hard in [false, true] {
            let p = params(hard);
            let k = lif_kernel(
                "sigmoid",
                &[2.0],
                &[p.decay, p.bias, p.drive, p.v_th, p.v_reset],
                hard,
            )
            .unwrap();
            let mut spikes = vec![0.0; T * N];
            let mut v = vec![0.0; T * N];
            k.forward_f64(
                0..N,
                Grid::of(&x, T, N),
                Grid::of(&v0, 1, N),
                GridMut::of(&mut spikes, T, N),
                Some(GridMut::of(&mut v, T, N)),
            );
            let dx: Vec<f64> = (0..T * N)
                .map(|k| ((k * 31 % 17) as f64) / 17.0 - 0.4)
                .collect();
            let dv0: Vec<f64> = (0..N).map(|k| ((k * 5 % 11) as f64) / 11.0 - 0.5).collect();
            let cts: Vec<f64> = (0..T * N)
                .map(|k| ((k * 13 % 23) as f64) / 23.0 - 0.6)
                .collect();
            let ctv: Vec<f64> = (0..T * N)
                .map(|k| ((k * 3 % 19) as f64) / 19.0 - 0.3)
                .collect();
            let mut ds = vec![0.0; T * N];
            let mut dv = vec![0.0; T * N];
            k.tangent_f64(
                0..N,
                Grid::of(&v, T, N),
                Grid::of(&v0, 1, N),
                Grid::of(&dx, T, N),
                Grid::of(&dv0, 1, N),
                GridMut::of(&mut ds, T, N),
                GridMut::of(&mut dv, T, N),
            );
            let mut ctx = vec![0.0; T * N];
            let mut ctv0 = vec![0.0; N];
            k.bptt_f64(
                0..N,
                Grid::of(&v, T, N),
                Grid::of(&v0, 1, N),
                Grid::of(&cts, T, N),
                Some(Grid::of(&ctv, T, N)),
                GridMut::of(&mut ctx, T, N),
                GridMut::of(&mut ctv0, 1, N),
            );
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let lhs = dot(&ctx, &dx) + dot(&ctv0, &dv0);
            let rhs = dot(&cts, &ds) + dot(&ctv, &dv);
            assert!(
                (lhs - rhs).abs() <= 1e-10 * rhs.abs().max(1.0),
                "{lhs} vs {rhs}"
            );
            assert!(rhs.abs() > 1e-3);
        }
    }

    #[test]
    fn bad_params_are_errors() {
        assert!(LifParams::new(&[0.5, 0.0, 0.5, 1.0, 1.0], false).is_err());
        assert!(LifParams::new(&[1.5, 0.0, 0.5, 1.0, 0.0], false).is_err());
        assert!(LifParams::new(&[0.5, f64::NAN, 0.5, 1.0, 0.0], false).is_err());
        assert!(LifParams::new(&[0.5, 0.0], false).is_err());
        assert!(lif_kernel("nope", &[], &[0.5, 0.0, 0.5, 1.0, 0.0], false).is_err());
    }
}
