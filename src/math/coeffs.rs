//! Polynomial coefficients, highest degree first (the order [`horner`](super::poly)
//! takes): the `2^f` fits of `exp`, and the Taylor series of `sin(pi r)` and `atanh`.

/// A polynomial `p` with `2^f = 1 + f p(f)` on `[-1/2, 1/2]` (a fit of `(2^f - 1) / f`),
/// in the float type `R`. Its length is part of its type, so a scaled copy of it
/// ([`ScaledExp2`](super::ScaledExp2)) is an array of the right size by construction.
pub(crate) trait Exp2Fit<R>: Send + Sync + 'static {
    type Coeffs: Copy + Send + Sync + AsRef<[R]> + AsMut<[R]>;
    const COEFFS: Self::Coeffs;
}

/// Declares a fit: its marker type and its coefficients, as printed by the fit
/// (the compiler rounds them once).
macro_rules! exp2_fit {
    ($(#[$doc:meta])* $name:ident: [$float:ty; $n:literal] = $coeffs:expr) => {
        $(#[$doc])*
        pub(crate) struct $name;

        #[allow(clippy::excessive_precision)]
        impl Exp2Fit<$float> for $name {
            type Coeffs = [$float; $n];
            const COEFFS: [$float; $n] = $coeffs;
        }
    };
}

// Chebyshev fits.
exp2_fit!(
    /// f32, degree 5 in all: within 2.3e-7 relative of `2^f`.
    Exp2F32: [f32; 5] = [
        1.338_130_3e-3,
        9.666_368_5e-3,
        5.550_381e-2,
        2.402_234_9e-1,
        6.931_472e-1,
    ]
);
exp2_fit!(
    /// f32, degree 4 in all: within 7e-6 relative of `2^f`, one fused multiply-add
    /// cheaper, for terms whose weight in a sum makes this error negligible.
    Exp2F32Short: [f32; 4] = [
        9.656_710_288_54e-3,
        5.583_828_294_62e-2,
        2.402_253_009_74e-1,
        6.931_367_338_84e-1,
    ]
);
exp2_fit!(
    /// f64, degree 10 in all: within 6e-16 relative of `2^f`.
    Exp2F64: [f64; 10] = [
        7.070_977_866_508_138_6e-9,
        1.020_590_541_376_559_6e-7,
        1.321_545_163_322_143_4e-6,
        1.525_267_292_485_073_6e-5,
        1.540_353_042_477_652_8e-4,
        1.333_355_820_079_459_3e-3,
        9.618_129_107_618_665_6e-3,
        5.550_410_866_465_167_2e-2,
        2.402_265_069_591_007_6e-1,
        6.931_471_805_599_461_6e-1,
    ]
);

/// Relative error bound of `a 2^-z` computed with [`Exp2F32Short`] (fit 7e-6 plus rounding).
pub(crate) const SHORT_EXP2_F32_ERROR: f64 = 7.4e-6;

/// `1 / (2k+1)` for `k = N-1 down to 0` (the atanh series `atanh(s)/s` in powers of `s^2`).
const fn atanh_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut k = 0;
    while k < N {
        c[N - 1 - k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    c
}

/// `(-1)^k pi^(2k+1) / (2k+1)!` for `k = N-1 down to 0` (the Taylor series of
/// `sin(pi r) / r` in powers of `r^2`).
const fn sinpi_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut term = std::f64::consts::PI;
    let mut k = 0;
    while k < N {
        c[N - 1 - k] = term;
        let (a, b) = ((2 * k + 2) as f64, (2 * k + 3) as f64);
        term = -term * std::f64::consts::PI * std::f64::consts::PI / (a * b);
        k += 1;
    }
    c
}

/// `1/(k+1)!` for `k = N-1 down to 0`: the Taylor series of `exprel(z) = (e^z - 1)/z`.
const fn exprel_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut fact = 1.0; // (k+1)!
    let mut k = 0;
    while k < N {
        fact *= (k + 1) as f64;
        c[N - 1 - k] = 1.0 / fact;
        k += 1;
    }
    c
}

/// `(k+1)/(k+2)!` for `k = N-1 down to 0`: the Taylor series of `exprel'(z)`.
const fn exprel_slope_coeffs<const N: usize>() -> [f64; N] {
    let mut c = [0.0; N];
    let mut fact = 2.0; // (k+2)!
    let mut k = 0;
    while k < N {
        c[N - 1 - k] = (k + 1) as f64 / fact;
        fact *= (k + 3) as f64;
        k += 1;
    }
    c
}

const fn narrow<const N: usize>(c: [f64; N]) -> [f32; N] {
    let mut out = [0.0f32; N];
    let mut k = 0;
    while k < N {
        out[k] = c[k] as f32;
        k += 1;
    }
    out
}

// Truncation errors: sin(pi r) to degree 17 leaves < 2e-11 relative (f32 needs 6e-8),
// to degree 25 < 3e-21; atanh to s^13 leaves < 1e-11, to s^27 < 3e-22.
pub(crate) const SINPI_F32: [f32; 9] = narrow(sinpi_coeffs::<9>());
pub(crate) const SINPI_F64: [f64; 13] = sinpi_coeffs::<13>();
pub(crate) const ATANH_F32: [f32; 7] = narrow(atanh_coeffs::<7>());
pub(crate) const ATANH_F64: [f64; 14] = atanh_coeffs::<14>();
// exprel on |z| <= 1: the first omitted term is below 1/(N+1)! (value) and
// (N+1)/(N+2)! (slope): 2.1e-9 / 1.9e-9 for f32 (N = 11), 4.1e-19 / 3.9e-19 for f64 (N = 19).
pub(crate) const EXPREL_F32: [f32; 11] = narrow(exprel_coeffs::<11>());
pub(crate) const EXPREL_F64: [f64; 19] = exprel_coeffs::<19>();
pub(crate) const EXPREL_SLOPE_F32: [f32; 11] = narrow(exprel_slope_coeffs::<11>());
pub(crate) const EXPREL_SLOPE_F64: [f64; 19] = exprel_slope_coeffs::<19>();
