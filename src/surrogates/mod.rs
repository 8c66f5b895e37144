//! The surrogate gradients: each one is a small type implementing [`Surrogate`],
//! and [`REGISTRY`] is the one table that maps the name used by the FFI
//! attribute `surrogate` to a kernel.
//!
//! Adding a surrogate: write a module with a type that implements [`Formula`]
//! (its `g'(x)` once, generic over f32/f64) or `Surrogate` directly, and add
//! one line to `REGISTRY`.

mod formula;

mod arctan;
mod erf;
mod gaussian;
mod inv_square_grad;
mod leaky_relu;
mod log_tailed_relu;
mod multi_gaussian;
mod nonzero_sign_log;
mod piecewise_exp;
mod piecewise_leaky_relu;
mod piecewise_quadratic;
mod q_pseudo_spike;
mod relu_grad;
mod s2nn;
mod sigmoid;
mod slayer_grad;
mod soft_sign;
mod squarewave_fourier_series;

pub use arctan::Arctan;
pub use erf::Erf;
pub use formula::{Coeffs, Formula, Native, MAX_COEFFS};
pub use gaussian::Gaussian;
pub use inv_square_grad::InvSquareGrad;
pub use leaky_relu::LeakyRelu;
pub use log_tailed_relu::LogTailedRelu;
pub use multi_gaussian::{
    short_sides_suffice as multi_gaussian_short_sides_suffice, MultiGaussian, MultiGaussianWith,
};
pub use nonzero_sign_log::NonzeroSignLog;
pub use piecewise_exp::PiecewiseExp;
pub use piecewise_leaky_relu::PiecewiseLeakyRelu;
pub use piecewise_quadratic::PiecewiseQuadratic;
pub use q_pseudo_spike::QPseudoSpike;
pub use relu_grad::ReluGrad;
pub use s2nn::S2nn;
pub use sigmoid::Sigmoid;
pub use slayer_grad::SlayerGrad;
pub use soft_sign::SoftSign;
pub use squarewave_fourier_series::SquarewaveFourierSeries;

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
    (
        MultiGaussian::NAME,
        MultiGaussian::PARAMS,
        multi_gaussian::kernel,
    ),
    (Gaussian::NAME, Gaussian::PARAMS, fused_kernel::<Gaussian>),
    (
        Sigmoid::NAME,
        Sigmoid::PARAMS,
        fused_kernel::<Native<Sigmoid>>,
    ),
    (
        PiecewiseQuadratic::NAME,
        PiecewiseQuadratic::PARAMS,
        fused_kernel::<Native<PiecewiseQuadratic>>,
    ),
    (
        PiecewiseExp::NAME,
        PiecewiseExp::PARAMS,
        fused_kernel::<Native<PiecewiseExp>>,
    ),
    (
        SoftSign::NAME,
        SoftSign::PARAMS,
        fused_kernel::<Native<SoftSign>>,
    ),
    (Arctan::NAME, Arctan::PARAMS, fused_kernel::<Native<Arctan>>),
    (
        NonzeroSignLog::NAME,
        NonzeroSignLog::PARAMS,
        fused_kernel::<Native<NonzeroSignLog>>,
    ),
    (Erf::NAME, Erf::PARAMS, fused_kernel::<Native<Erf>>),
    (
        PiecewiseLeakyRelu::NAME,
        PiecewiseLeakyRelu::PARAMS,
        fused_kernel::<Native<PiecewiseLeakyRelu>>,
    ),
    (
        SquarewaveFourierSeries::NAME,
        SquarewaveFourierSeries::PARAMS,
        fused_kernel::<Native<SquarewaveFourierSeries>>,
    ),
    (S2nn::NAME, S2nn::PARAMS, fused_kernel::<Native<S2nn>>),
    (
        QPseudoSpike::NAME,
        QPseudoSpike::PARAMS,
        fused_kernel::<Native<QPseudoSpike>>,
    ),
    (
        LeakyRelu::NAME,
        LeakyRelu::PARAMS,
        fused_kernel::<Native<LeakyRelu>>,
    ),
    (
        LogTailedRelu::NAME,
        LogTailedRelu::PARAMS,
        fused_kernel::<Native<LogTailedRelu>>,
    ),
    (
        ReluGrad::NAME,
        ReluGrad::PARAMS,
        fused_kernel::<Native<ReluGrad>>,
    ),
    (
        InvSquareGrad::NAME,
        InvSquareGrad::PARAMS,
        fused_kernel::<Native<InvSquareGrad>>,
    ),
    (
        SlayerGrad::NAME,
        SlayerGrad::PARAMS,
        fused_kernel::<Native<SlayerGrad>>,
    ),
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
