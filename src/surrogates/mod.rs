//! The surrogate gradients, math only: each one is a small type implementing
//! [`Surrogate`], most of them through a [`Formula`] (its `g'(x)` written once,
//! generic over f32/f64) and the [`Native`] adapter. The table of names lives in
//! `crate::registry`.

mod formula;
mod params;

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

pub(crate) use arctan::Arctan;
pub(crate) use erf::Erf;
pub(crate) use formula::{Formula, Native};
pub(crate) use gaussian::Gaussian;
pub(crate) use inv_square_grad::InvSquareGrad;
pub(crate) use leaky_relu::LeakyRelu;
pub(crate) use log_tailed_relu::LogTailedRelu;
pub(crate) use multi_gaussian::{short_sides_suffice, MultiGaussian, MultiGaussianShortSides};
pub(crate) use nonzero_sign_log::NonzeroSignLog;
pub(crate) use piecewise_exp::PiecewiseExp;
pub(crate) use piecewise_leaky_relu::PiecewiseLeakyRelu;
pub(crate) use piecewise_quadratic::PiecewiseQuadratic;
pub(crate) use q_pseudo_spike::QPseudoSpike;
pub(crate) use relu_grad::ReluGrad;
pub(crate) use s2nn::S2nn;
pub(crate) use sigmoid::Sigmoid;
pub(crate) use slayer_grad::SlayerGrad;
pub(crate) use soft_sign::SoftSign;
pub(crate) use squarewave_fourier_series::SquarewaveFourierSeries;

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
