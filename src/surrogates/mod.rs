//! The surrogate gradients: each one is a small type implementing [`Surrogate`],
//! and [`REGISTRY`] is the one table that maps the name used by the FFI
//! attribute `surrogate` to a kernel.
//!
//! Adding a surrogate: write a module with a type that implements `Surrogate`
//! and add one line to `REGISTRY`.

mod gaussian;
mod multi_gaussian;

pub use gaussian::Gaussian;
pub use multi_gaussian::MultiGaussian;

use crate::kernels::{fused_kernel, GradKernel};

/// One surrogate gradient `g'(x)`, with parameters validated and folded into
/// coefficients once per call.
pub trait Surrogate: Sized + Send + Sync + 'static {
    /// The name used by the Python layer and the FFI attribute `surrogate`.
    const NAME: &'static str;
    /// Parameter names in the order the Python layer passes them.
    const PARAMS: &'static [&'static str];

    /// Validate parameters (in `PARAMS` order) and precompute coefficients.
    fn new(params: &[f64]) -> Result<Self, String>;

    /// `g'(x)` in f32. Must be branch-free enough for LLVM to vectorize a loop over it.
    fn grad_f32(&self, x: f32) -> f32;

    /// `g'(x)` in f64.
    fn grad_f64(&self, x: f64) -> f64;
}

type Constructor = fn(&[f64]) -> Result<Box<dyn GradKernel>, String>;

/// Every native surrogate: `(name, parameter names, constructor)`.
pub static REGISTRY: &[(&str, &[&str], Constructor)] = &[
    (MultiGaussian::NAME, MultiGaussian::PARAMS, multi_gaussian::kernel),
    (Gaussian::NAME, Gaussian::PARAMS, fused_kernel::<Gaussian>),
];

/// Build the fused `t * g'(x)` kernel for a named surrogate.
pub fn kernel_for(name: &str, params: &[f64]) -> Result<Box<dyn GradKernel>, String> {
    let (_, names, make) = REGISTRY
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            let known: Vec<&str> = REGISTRY.iter().map(|(n, _, _)| *n).collect();
            format!("unknown surrogate {name:?}; known: {known:?}")
        })?;
    if params.len() != names.len() {
        return Err(format!(
            "surrogate {name:?} takes {} parameters {names:?}, got {}",
            names.len(),
            params.len()
        ));
    }
    if let Some(i) = params.iter().position(|p| !p.is_finite()) {
        return Err(format!(
            "surrogate {name:?}: parameter {} must be finite, got {}",
            names[i], params[i]
        ));
    }
    make(params)
}

/// Check a parameter is strictly positive (used by `Surrogate::new`).
pub(crate) fn positive(name: &str, value: f64) -> Result<f64, String> {
    if value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{name} must be > 0, got {value}"))
    }
}
