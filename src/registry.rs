//! The name table: surrogate name and parameters -> a concrete [`Surrogate`]
//! type, handed to a generic builder ([`WithSurrogate`]). Each kernel family
//! (the fused `t * g'(x)` pass, the neuron models) is one `WithSurrogate`
//! impl, so adding a surrogate is one line here for all of them.

use crate::surrogates::{
    multi_gaussian_short_sides_suffice, Arctan, Erf, Formula, Gaussian, InvSquareGrad, LeakyRelu,
    LogTailedRelu, MultiGaussian, MultiGaussianWith, Native, NonzeroSignLog, PiecewiseExp,
    PiecewiseLeakyRelu, PiecewiseQuadratic, QPseudoSpike, ReluGrad, S2nn, Sigmoid, SlayerGrad,
    SoftSign, SquarewaveFourierSeries, Surrogate,
};

/// A computation generic over the surrogate type, run once the name is resolved.
pub trait WithSurrogate {
    type Output;
    fn run<S: Surrogate>(self, surrogate: S) -> Self::Output;
}

/// Every native surrogate's name and parameter names, as the Python layer sees them.
pub static NAMES: &[(&str, &[&str])] = &[
    (MultiGaussian::NAME, MultiGaussian::PARAMS),
    (Gaussian::NAME, Gaussian::PARAMS),
    (Sigmoid::NAME, Sigmoid::PARAMS),
    (PiecewiseQuadratic::NAME, PiecewiseQuadratic::PARAMS),
    (PiecewiseExp::NAME, PiecewiseExp::PARAMS),
    (SoftSign::NAME, SoftSign::PARAMS),
    (Arctan::NAME, Arctan::PARAMS),
    (NonzeroSignLog::NAME, NonzeroSignLog::PARAMS),
    (Erf::NAME, Erf::PARAMS),
    (PiecewiseLeakyRelu::NAME, PiecewiseLeakyRelu::PARAMS),
    (
        SquarewaveFourierSeries::NAME,
        SquarewaveFourierSeries::PARAMS,
    ),
    (S2nn::NAME, S2nn::PARAMS),
    (QPseudoSpike::NAME, QPseudoSpike::PARAMS),
    (LeakyRelu::NAME, LeakyRelu::PARAMS),
    (LogTailedRelu::NAME, LogTailedRelu::PARAMS),
    (ReluGrad::NAME, ReluGrad::PARAMS),
    (InvSquareGrad::NAME, InvSquareGrad::PARAMS),
    (SlayerGrad::NAME, SlayerGrad::PARAMS),
];

fn build<S: Surrogate, W: WithSurrogate>(params: &[f64], w: W) -> Result<W::Output, String> {
    Ok(w.run(S::new(params)?))
}

/// Resolve `name`, validate `params` (count, finiteness, the surrogate's own
/// rules) and run `w` with the surrogate.
pub fn with_surrogate<W: WithSurrogate>(
    name: &str,
    params: &[f64],
    w: W,
) -> Result<W::Output, String> {
    let (_, names) = NAMES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
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
    match name {
        // The cheaper side polynomials where they keep the f32 accuracy.
        "multi_gaussian" if multi_gaussian_short_sides_suffice(params) => {
            build::<MultiGaussianWith<5>, W>(params, w)
        }
        "multi_gaussian" => build::<MultiGaussian, W>(params, w),
        "gaussian" => build::<Gaussian, W>(params, w),
        "sigmoid" => build::<Native<Sigmoid>, W>(params, w),
        "piecewise_quadratic" => build::<Native<PiecewiseQuadratic>, W>(params, w),
        "piecewise_exp" => build::<Native<PiecewiseExp>, W>(params, w),
        "soft_sign" => build::<Native<SoftSign>, W>(params, w),
        "arctan" => build::<Native<Arctan>, W>(params, w),
        "nonzero_sign_log" => build::<Native<NonzeroSignLog>, W>(params, w),
        "erf" => build::<Native<Erf>, W>(params, w),
        "piecewise_leaky_relu" => build::<Native<PiecewiseLeakyRelu>, W>(params, w),
        "squarewave_fourier_series" => build::<Native<SquarewaveFourierSeries>, W>(params, w),
        "s2nn" => build::<Native<S2nn>, W>(params, w),
        "q_pseudo_spike" => build::<Native<QPseudoSpike>, W>(params, w),
        "leaky_relu" => build::<Native<LeakyRelu>, W>(params, w),
        "log_tailed_relu" => build::<Native<LogTailedRelu>, W>(params, w),
        "relu_grad" => build::<Native<ReluGrad>, W>(params, w),
        "inv_square_grad" => build::<Native<InvSquareGrad>, W>(params, w),
        "slayer_grad" => build::<Native<SlayerGrad>, W>(params, w),
        _ => unreachable!("{name:?} is in NAMES but not dispatched"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::REGISTRY;

    struct Grad0;
    impl WithSurrogate for Grad0 {
        type Output = f64;
        fn run<S: Surrogate>(self, s: S) -> f64 {
            s.grad_f64(0.25)
        }
    }

    #[test]
    fn every_surrogate_dispatches_like_the_fused_table() {
        assert_eq!(NAMES.len(), REGISTRY.len());
        for ((name, params), (rname, rparams, _)) in NAMES.iter().zip(REGISTRY) {
            assert_eq!((name, params), (rname, rparams));
        }
        assert!(with_surrogate("nope", &[], Grad0).is_err());
        assert!(with_surrogate("relu_grad", &[1.0], Grad0).is_err());
        assert!(with_surrogate("relu_grad", &[f64::NAN, 1.0], Grad0).is_err());
        let g = with_surrogate("relu_grad", &[1.0, 1.0], Grad0).unwrap();
        assert_eq!(g, 0.75);
    }
}
