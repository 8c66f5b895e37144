//! [`Formula`]: a surrogate whose `g'(x)` is written once, generically over the
//! float type, and [`Native`], which makes any formula a [`Surrogate`].

use std::marker::PhantomData;

use super::Surrogate;
use crate::math::Real;

/// The most coefficients a formula folds its parameters into.
pub(crate) const MAX_COEFFS: usize = 6;

/// A formula's precomputed coefficients, in the float type of the kernel.
pub(crate) type Coeffs<R> = [R; MAX_COEFFS];

/// One surrogate gradient, its math in one place.
pub(crate) trait Formula: Send + Sync + 'static {
    /// The name used by the Python layer and the FFI attribute `surrogate`.
    const NAME: &'static str;
    /// Parameter names in the order the Python layer passes them.
    const PARAMS: &'static [&'static str];
    /// Compute the f32 kernel in f64 and round once, where f32 arithmetic
    /// cannot reach the accuracy target (periodic functions of large `x`).
    const F32_VIA_F64: bool = false;

    /// Validate parameters (in `PARAMS` order, already checked finite) and fold
    /// them into coefficients, computed in f64.
    fn coefficients(params: &[f64]) -> Result<Coeffs<f64>, String>;

    /// `g'(x)`, branch-free (selects only) so that a loop over it vectorizes.
    fn grad<R: Real>(c: &Coeffs<R>, x: R) -> R;
}

/// The kernel type of a [`Formula`]: its coefficients in f32 and f64.
pub(crate) struct Native<F> {
    c32: Coeffs<f32>,
    c64: Coeffs<f64>,
    formula: PhantomData<fn() -> F>,
}

impl<F: Formula> Surrogate for Native<F> {
    const NAME: &'static str = F::NAME;
    const PARAMS: &'static [&'static str] = F::PARAMS;

    fn new(params: &[f64]) -> Result<Self, String> {
        let c64 = F::coefficients(params)?;
        Ok(Self {
            c32: c64.map(|v| v as f32),
            c64,
            formula: PhantomData,
        })
    }

    #[inline(always)]
    fn grad_f32(&self, x: f32) -> f32 {
        // The coefficients are copied to a local first: given references, LLVM
        // turns a select between two coefficients into a load through a
        // selected address, which does not vectorize (LeakyRelu ran 3x slower).
        if F::F32_VIA_F64 {
            let c = self.c64;
            F::grad(&c, x as f64) as f32
        } else {
            let c = self.c32;
            F::grad(&c, x)
        }
    }

    #[inline(always)]
    fn grad_f64(&self, x: f64) -> f64 {
        let c = self.c64;
        F::grad(&c, x)
    }
}

/// Coefficients from the first few values (the rest are zero).
pub(crate) fn coeffs<const N: usize>(values: [f64; N]) -> Result<Coeffs<f64>, String> {
    let mut out = [0.0; MAX_COEFFS];
    out[..N].copy_from_slice(&values);
    Ok(out)
}

/// A check every formula module runs: f64 and f32 kernels against an f64 reference.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Inputs: a fine grid, the special values, and the given break points (and their neighbours).
    fn grid(breaks: &[f64]) -> Vec<f64> {
        let mut xs: Vec<f64> = (-4000..=4000).map(|i| i as f64 * 0.0025).collect();
        xs.extend([
            0.0,
            -0.0,
            1e-30,
            -1e-30,
            37.0,
            -50.0,
            1e6,
            -1e6,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        for &b in breaks {
            xs.extend([
                b,
                -b,
                b.next_up(),
                b.next_down(),
                -b.next_up(),
                -b.next_down(),
            ]);
        }
        xs
    }

    fn same(got: f64, want: f64, tol: f64) -> bool {
        if want.is_nan() {
            got.is_nan()
        } else if want.is_infinite() {
            got == want
        } else {
            (got - want).abs() <= tol
        }
    }

    /// `reference(x, params)` is braintools' expression in f64. Checks f64 within
    /// 1e-12 relative (plus 1e-14 of the peak, for zero crossings), f32 within 2e-6 of the peak
    /// (the reference taken at the f32-rounded input), on `grid(breaks)`.
    pub(crate) fn check<F: Formula>(
        params: &[&[f64]],
        breaks: &[f64],
        reference: fn(f64, &[f64]) -> f64,
    ) {
        check_with::<F>(params, breaks, 1e-14, reference)
    }

    /// [`check`] with the f64 absolute tolerance (a fraction of the peak) given, for
    /// references whose own rounding error is larger (long sums).
    pub(crate) fn check_with<F: Formula>(
        params: &[&[f64]],
        breaks: &[f64],
        abs64: f64,
        reference: fn(f64, &[f64]) -> f64,
    ) {
        for &p in params {
            let k = Native::<F>::new(p).unwrap_or_else(|e| panic!("{} {p:?}: {e}", F::NAME));
            let xs = grid(breaks);
            let peak = xs
                .iter()
                .map(|&x| reference(x, p).abs())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            for &x in &xs {
                let want = reference(x, p);
                let got = k.grad_f64(x);
                assert!(
                    same(got, want, 1e-12 * want.abs() + abs64 * peak),
                    "{} f64 p={p:?} x={x} got={got} want={want}",
                    F::NAME
                );
                let xf = x as f32;
                let want = reference(xf as f64, p);
                let got = k.grad_f32(xf) as f64;
                let want_f32 = want as f32 as f64; // overflow to inf happens at the f32 range
                let ok =
                    same(got, want, 2e-6 * peak) || (want_f32.is_infinite() && got == want_f32);
                assert!(ok, "{} f32 p={p:?} x={xf} got={got} want={want}", F::NAME);
            }
        }
    }

    /// Parameters the constructor must reject.
    pub(crate) fn rejects<F: Formula>(bad: &[&[f64]]) {
        for &p in bad {
            assert!(Native::<F>::new(p).is_err(), "{} accepted {p:?}", F::NAME);
        }
    }
}
