//! The table of native surrogates: the name the Python layer and the FFI
//! attribute `surrogate` use, the parameter names, and the surrogate type of
//! each, with the checks every surrogate's parameters pass before its own.
//!
//! Adding a surrogate is one line in [`table!`]'s list below.

use crate::kernels::{self, GradKernel};
use crate::neurons::adex_if::AdExIf;
use crate::neurons::alif::Alif;
use crate::neurons::coba_lif::CobaLif;
use crate::neurons::cuba_lif::CubaLif;
use crate::neurons::exp_if::ExpIf;
use crate::neurons::gif::Gif;
use crate::neurons::if_::If;
use crate::neurons::kernel::fused;
pub use crate::neurons::kernel::NeuronKernel;
use crate::neurons::lif::Lif;
use crate::neurons::lif_ref::LifRef;
use crate::neurons::model::Model;
use crate::surrogates::{
    short_sides_suffice, Arctan, Erf, Formula, Gaussian, InvSquareGrad, LeakyRelu, LogTailedRelu,
    MultiGaussian, MultiGaussianShortSides, Native, NonzeroSignLog, PiecewiseExp,
    PiecewiseLeakyRelu, PiecewiseQuadratic, QPseudoSpike, ReluGrad, S2nn, Sigmoid, SlayerGrad,
    SoftSign, SquarewaveFourierSeries, Surrogate,
};

/// A computation generic over the surrogate type, run on the surrogate built from a name.
pub trait WithSurrogate {
    type Output;
    fn run<S: Surrogate>(self, surrogate: S) -> Self::Output;
}

/// Validate `params` for `name` (count, finiteness, the formula's own checks) and call
/// `w.run` with the surrogate (MultiGaussian picks its short or full side polynomials here).
pub fn with_surrogate<W: WithSurrogate>(
    name: &str,
    params: &[f64],
    w: W,
) -> Result<W::Output, String> {
    let (_, names) = ROWS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| unknown(name))?;
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
    dispatch(name, params, w)
}

/// The fused `t * g'(x)` kernel (a WithSurrogate impl).
pub fn grad_kernel(name: &str, params: &[f64]) -> Result<Box<dyn GradKernel>, String> {
    with_surrogate(name, params, FusedGradKernel)
}

/// The fused multi-step kernel of neuron model `model` with surrogate
/// `surrogate` (validated as in [`with_surrogate`]), reset mode and checkpoint
/// stride (>= 1). The constants are per-neuron operands, checked by the caller.
pub fn neuron_kernel(
    model: &str,
    surrogate: &str,
    surrogate_params: &[f64],
    hard_reset: bool,
    stride: i64,
) -> Result<Box<dyn NeuronKernel>, String> {
    if stride < 1 {
        return Err(format!("the checkpoint stride must be >= 1, got {stride}"));
    }
    let m = MODELS
        .iter()
        .position(|(name, _, _)| *name == model)
        .ok_or_else(|| {
            let known: Vec<&str> = MODELS.iter().map(|(n, _, _)| *n).collect();
            format!("unknown neuron model {model:?}; known: {known:?}")
        })?;
    let g = grad_kernel(surrogate, surrogate_params)?;
    let stride = stride as usize;
    Ok(match m {
        0 => Box::new(fused::<Lif, 1, 5>(g, hard_reset, stride)),
        1 => Box::new(fused::<Alif, 2, 7>(g, hard_reset, stride)),
        2 => Box::new(fused::<CubaLif, 2, 6>(g, hard_reset, stride)),
        3 => Box::new(fused::<If, 1, 3>(g, hard_reset, stride)),
        4 => Box::new(fused::<LifRef, 2, 8>(g, hard_reset, stride)),
        5 => Box::new(fused::<Gif, 4, 14>(g, hard_reset, stride)),
        6 => Box::new(fused::<CobaLif, 2, 7>(g, hard_reset, stride)),
        7 => Box::new(fused::<ExpIf, 1, 7>(g, hard_reset, stride)),
        _ => Box::new(fused::<AdExIf, 2, 10>(g, hard_reset, stride)),
    })
}

/// (name, state names, constant names) of every fused neuron model. Adding a
/// model: one row here and one arm in [`neuron_kernel`].
pub const MODELS: &[(&str, &[&str], &[&str])] = &[
    row::<Lif, 1, 5>(),
    row::<Alif, 2, 7>(),
    row::<CubaLif, 2, 6>(),
    row::<If, 1, 3>(),
    row::<LifRef, 2, 8>(),
    row::<Gif, 4, 14>(),
    row::<CobaLif, 2, 7>(),
    row::<ExpIf, 1, 7>(),
    row::<AdExIf, 2, 10>(),
];

const fn row<M: Model<S, C>, const S: usize, const C: usize>() -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    (M::NAME, &M::STATES, &M::CONSTS)
}

/// (name, parameter names) of every native surrogate, in table order.
pub fn surrogates() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    ROWS.iter().copied()
}

/// Builds the fused gradient kernel of the surrogate it is given.
struct FusedGradKernel;

impl WithSurrogate for FusedGradKernel {
    type Output = Box<dyn GradKernel>;
    fn run<S: Surrogate>(self, surrogate: S) -> Box<dyn GradKernel> {
        kernels::fused(surrogate)
    }
}

fn unknown(name: &str) -> String {
    let known: Vec<&str> = ROWS.iter().map(|(n, _)| *n).collect();
    format!("unknown surrogate {name:?}; known: {known:?}")
}

/// Builds surrogate `S` from parameters that passed the shared checks and runs `w` on it.
fn build_then_run<S: Surrogate, W: WithSurrogate>(
    params: &[f64],
    w: W,
) -> Result<W::Output, String> {
    Ok(w.run(S::new(params)?))
}

/// A row of the table: how it builds its surrogate.
trait Row: Surrogate {
    fn build_and_run<W: WithSurrogate>(params: &[f64], w: W) -> Result<W::Output, String> {
        build_then_run::<Self, W>(params, w)
    }
}

impl<F: Formula> Row for Native<F> {}

/// The f32 side terms take the shorter `2^f` polynomial where its error stays
/// far below the f32 budget (`short_sides_suffice`); both forms have the same
/// name and parameters.
impl Row for MultiGaussian {
    fn build_and_run<W: WithSurrogate>(params: &[f64], w: W) -> Result<W::Output, String> {
        if short_sides_suffice(params) {
            build_then_run::<MultiGaussianShortSides, W>(params, w)
        } else {
            build_then_run::<Self, W>(params, w)
        }
    }
}

/// Declares `ROWS` (name and parameter names of each row) and `dispatch` (build
/// the row named `name` and run `w` on it) from one list of [`Row`] types.
macro_rules! table {
    ($($row:ty),+ $(,)?) => {
        const ROWS: &[(&str, &[&str])] = &[$((<$row>::NAME, <$row>::PARAMS)),+];

        fn dispatch<W: WithSurrogate>(name: &str, params: &[f64], w: W) -> Result<W::Output, String> {
            $(if name == <$row>::NAME {
                return <$row>::build_and_run(params, w);
            })+
            Err(unknown(name))
        }
    };
}

table![
    MultiGaussian,
    Native<Gaussian>,
    Native<Sigmoid>,
    Native<PiecewiseQuadratic>,
    Native<PiecewiseExp>,
    Native<SoftSign>,
    Native<Arctan>,
    Native<NonzeroSignLog>,
    Native<Erf>,
    Native<PiecewiseLeakyRelu>,
    Native<SquarewaveFourierSeries>,
    Native<S2nn>,
    Native<QPseudoSpike>,
    Native<LeakyRelu>,
    Native<LogTailedRelu>,
    Native<ReluGrad>,
    Native<InvSquareGrad>,
    Native<SlayerGrad>,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the name of the surrogate type it runs on.
    struct NameOf;

    impl WithSurrogate for NameOf {
        type Output = &'static str;
        fn run<S: Surrogate>(self, _: S) -> &'static str {
            S::NAME
        }
    }

    /// Each row builds the surrogate of its own name, and names are unique.
    #[test]
    fn every_row_builds_its_own_surrogate() {
        let rows: Vec<_> = surrogates().collect();
        assert_eq!(rows.len(), 18);
        for (i, (name, params)) in rows.iter().enumerate() {
            assert!(rows[..i].iter().all(|(n, _)| n != name), "{name} twice");
            let ones = vec![1.0; params.len()];
            assert_eq!(with_surrogate(name, &ones, NameOf), Ok(*name));
        }
    }

    #[test]
    fn shared_checks_come_first() {
        let err = grad_kernel("nope", &[]).err().unwrap();
        assert!(
            err.contains("unknown surrogate \"nope\"") && err.contains("sigmoid"),
            "{err}"
        );
        let err = grad_kernel("sigmoid", &[1.0, 2.0]).err().unwrap();
        assert!(
            err.contains("takes 1 parameters [\"alpha\"], got 2"),
            "{err}"
        );
        let err = grad_kernel("gaussian", &[f64::NAN, 1.0]).err().unwrap();
        assert!(err.contains("parameter sigma must be finite"), "{err}");
        let err = grad_kernel("gaussian", &[0.0, 1.0]).err().unwrap();
        assert_eq!(err, "sigma must be > 0, got 0");
    }

    /// The kernel for `multi_gaussian` is the short-sided form exactly where
    /// `short_sides_suffice` says so (bit for bit), and the full form elsewhere.
    #[test]
    fn multi_gaussian_picks_its_side_polynomials() {
        let x: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.001).collect();
        let t = vec![1.0f32; x.len()];
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        for (p, short) in [
            ([0.15, 6.0, 0.5, 0.5], true),
            ([1.0, 0.7, 0.05, 1.0], false),
            ([0.5, 2.0, 1.5, 2.0], false),
        ] {
            assert_eq!(short_sides_suffice(&p), short);
            let mut got = vec![0f32; x.len()];
            grad_kernel("multi_gaussian", &p)
                .unwrap()
                .f32(&x, &t, &mut got);
            let (full, short_sides) = (
                MultiGaussian::new(&p).unwrap(),
                MultiGaussianShortSides::new(&p).unwrap(),
            );
            let full: Vec<f32> = x.iter().map(|&v| full.grad_f32(v)).collect();
            let short_sides: Vec<f32> = x.iter().map(|&v| short_sides.grad_f32(v)).collect();
            // The two forms differ, so the comparison below tells them apart.
            assert_ne!(bits(full.clone()), bits(short_sides.clone()), "p={p:?}");
            let want = if short { short_sides } else { full };
            assert_eq!(bits(got), bits(want), "p={p:?}");
        }
    }
}
