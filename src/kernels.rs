//! The loops: the Heaviside forward pass and the fused `t * g'(x)` pass, for
//! f32, f64, f16 and bf16. Each loop is compiled several times for different
//! CPU features (`multiversion`) and the best one is picked at run time.
//!
//! f16 and bf16 are widened to f32 in blocks, computed in f32 and rounded once.
//! Every element is computed the same way wherever it sits in the array, so a
//! split of the array over threads never changes a result bit.

use half::{bf16, f16};
use multiversion::multiversion;
use multiversion::target::match_target;

use crate::convert;
use crate::surrogates::Surrogate;

/// Compiles each function given for every CPU target below, plus the baseline,
/// and picks the best at run time. The one list of targets: `match_target!`
/// in `fused_f16` asks only which of these clones has F16C.
macro_rules! multiversioned {
    ($($function:tt)*) => {
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512vl+avx2+fma+f16c",
            "x86_64+avx2+fma+f16c",
            "aarch64+neon"
        ))]
        $($function)*
    };
}

/// Elements widened to f32 at a time for half-precision inputs (stays in L1).
const HALF_BLOCK: usize = 512;

/// The fused gradient pass of one surrogate with fixed parameters:
/// `out[i] = t[i] * g'(x[i])`. All slices have the same length.
pub trait GradKernel: Send + Sync {
    fn f32(&self, x: &[f32], t: &[f32], out: &mut [f32]);
    fn f64(&self, x: &[f64], t: &[f64], out: &mut [f64]);
    fn f16(&self, x: &[f16], t: &[f16], out: &mut [f16]);
    fn bf16(&self, x: &[bf16], t: &[bf16], out: &mut [bf16]);
    /// `x[i] = g'(x[i])` (the fused neurons' rows of surrogate gradients).
    fn grad_in_place_f32(&self, x: &mut [f32]);
    fn grad_in_place_f64(&self, x: &mut [f64]);
}

struct Fused<S>(S);

/// The fused kernel of a surrogate built with its parameters.
pub(crate) fn fused<S: Surrogate>(surrogate: S) -> Box<dyn GradKernel> {
    Box::new(Fused(surrogate))
}

multiversioned! {
    fn fused_f32<S: Surrogate>(s: &S, x: &[f32], t: &[f32], out: &mut [f32]) {
        for ((o, &x), &t) in out.iter_mut().zip(x).zip(t) {
            *o = t * s.grad_f32(x);
        }
    }
}

multiversioned! {
    fn fused_f64<S: Surrogate>(s: &S, x: &[f64], t: &[f64], out: &mut [f64]) {
        for ((o, &x), &t) in out.iter_mut().zip(x).zip(t) {
            *o = t * s.grad_f64(x);
        }
    }
}

multiversioned! {
    fn in_place_f32<S: Surrogate>(s: &S, x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = s.grad_f32(*v);
        }
    }
}

multiversioned! {
    fn in_place_f64<S: Surrogate>(s: &S, x: &mut [f64]) {
        for v in x.iter_mut() {
            *v = s.grad_f64(*v);
        }
    }
}

/// Widen a block of half-precision `x` and `t`, compute in f32, round once.
/// Inlined into each `multiversion` clone below, so the conversions and the
/// math are compiled for that clone's CPU features.
#[inline(always)]
fn fused_half<H: Copy, S: Surrogate>(
    s: &S,
    x: &[H],
    t: &[H],
    out: &mut [H],
    widen: impl Fn(&[H], &mut [f32]),
    narrow: impl Fn(&[f32], &mut [H]),
) {
    let mut xf = [0f32; HALF_BLOCK];
    let mut tf = [0f32; HALF_BLOCK];
    let mut of = [0f32; HALF_BLOCK];
    for ((xb, tb), ob) in x
        .chunks(HALF_BLOCK)
        .zip(t.chunks(HALF_BLOCK))
        .zip(out.chunks_mut(HALF_BLOCK))
    {
        let n = xb.len();
        widen(xb, &mut xf[..n]);
        widen(tb, &mut tf[..n]);
        for ((o, &x), &t) in of[..n].iter_mut().zip(&xf[..n]).zip(&tf[..n]) {
            *o = t * s.grad_f32(x);
        }
        narrow(&of[..n], ob);
    }
}

multiversioned! {
    fn fused_f16<S: Surrogate>(s: &S, x: &[f16], t: &[f16], out: &mut [f16]) {
        // A compile-time constant in each clone (false on aarch64 and the baseline).
        let f16c = match_target! {
            "x86_64+avx+f16c" => true,
            _ => false,
        };
        let widen = |src: &[f16], dst: &mut [f32]| convert::widen_f16(f16c, src, dst);
        let narrow = |src: &[f32], dst: &mut [f16]| convert::narrow_f16(f16c, src, dst);
        fused_half(s, x, t, out, widen, narrow)
    }
}

multiversioned! {
    fn fused_bf16<S: Surrogate>(s: &S, x: &[bf16], t: &[bf16], out: &mut [bf16]) {
        fused_half(s, x, t, out, convert::widen_bf16, convert::narrow_bf16)
    }
}

impl<S: Surrogate> GradKernel for Fused<S> {
    fn f32(&self, x: &[f32], t: &[f32], out: &mut [f32]) {
        fused_f32(&self.0, x, t, out)
    }
    fn f64(&self, x: &[f64], t: &[f64], out: &mut [f64]) {
        fused_f64(&self.0, x, t, out)
    }
    fn f16(&self, x: &[f16], t: &[f16], out: &mut [f16]) {
        fused_f16(&self.0, x, t, out)
    }
    fn bf16(&self, x: &[bf16], t: &[bf16], out: &mut [bf16]) {
        fused_bf16(&self.0, x, t, out)
    }
    fn grad_in_place_f32(&self, x: &mut [f32]) {
        in_place_f32(&self.0, x)
    }
    fn grad_in_place_f64(&self, x: &mut [f64]) {
        in_place_f64(&self.0, x)
    }
}

/// The Heaviside step on raw IEEE bits: 1 where `x >= 0` (-0 included), 0 where
/// `x < 0` or NaN. One generic loop serves every float width.
trait StepBits: Copy + Send + Sync {
    /// The bit pattern of 1.0.
    const ONE: Self;
    const ZERO: Self;
    /// `x >= 0` from the bits: sign clear and not NaN, or a negative zero or
    /// subnormal. XLA on CPU reads subnormal inputs as zero, so -1e-45 (f32)
    /// steps to 1 there; the kernel gives the same answer.
    fn non_negative(self) -> bool;
}

macro_rules! step_bits {
    ($bits:ty, $one:expr, $sign:expr, $inf:expr, $min_normal:expr) => {
        impl StepBits for $bits {
            const ONE: Self = $one;
            const ZERO: Self = 0;
            #[inline(always)]
            fn non_negative(self) -> bool {
                let magnitude = self & !$sign;
                (self & $sign == 0 && magnitude <= $inf) || magnitude < $min_normal
            }
        }
    };
}

// f16 subnormals are normal once widened to f32, as XLA computes them: only
// zero counts as zero (min_normal 1). bf16 uses its own ONE below.
step_bits!(u16, 0x3c00, 0x8000, 0x7c00, 1);
step_bits!(u32, 0x3f80_0000, 0x8000_0000, 0x7f80_0000, 0x0080_0000);
step_bits!(
    u64,
    0x3ff0_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0x0010_0000_0000_0000
);

/// bf16 bits: same sign and exponent layout as the top half of an f32.
#[derive(Clone, Copy)]
#[repr(transparent)]
struct Bf16Bits(u16);

impl StepBits for Bf16Bits {
    const ONE: Self = Bf16Bits(0x3f80);
    const ZERO: Self = Bf16Bits(0);
    #[inline(always)]
    fn non_negative(self) -> bool {
        let magnitude = self.0 & 0x7fff;
        (self.0 & 0x8000 == 0 && magnitude <= 0x7f80) || magnitude < 0x0080
    }
}

multiversioned! {
    fn step<B: StepBits>(x: &[B], out: &mut [B]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = if x.non_negative() { B::ONE } else { B::ZERO };
        }
    }
}

pub fn heaviside_f32(x: &[f32], out: &mut [f32]) {
    step::<u32>(bits_of(x), bits_of_mut(out))
}

pub(crate) fn heaviside_f64(x: &[f64], out: &mut [f64]) {
    step::<u64>(bits_of(x), bits_of_mut(out))
}

pub(crate) fn heaviside_f16(x: &[u16], out: &mut [u16]) {
    step::<u16>(x, out)
}

pub(crate) fn heaviside_bf16(x: &[u16], out: &mut [u16]) {
    // SAFETY: Bf16Bits is repr(transparent) over u16.
    let (x, out) = unsafe {
        (
            std::slice::from_raw_parts(x.as_ptr().cast::<Bf16Bits>(), x.len()),
            std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<Bf16Bits>(), out.len()),
        )
    };
    step::<Bf16Bits>(x, out)
}

/// View a float slice as its bit patterns (same size and alignment).
fn bits_of<F: FloatBits>(x: &[F]) -> &[F::Bits] {
    // SAFETY: F and F::Bits have the same size and alignment (checked by FloatBits impls).
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast(), x.len()) }
}

fn bits_of_mut<F: FloatBits>(x: &mut [F]) -> &mut [F::Bits] {
    // SAFETY: as in bits_of; the borrow is unique.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len()) }
}

/// # Safety
/// `Bits` must have the size and alignment of `Self` and every bit pattern must be valid for both.
unsafe trait FloatBits {
    type Bits: StepBits;
}
// SAFETY: f32/u32 and f64/u64 have equal size and alignment; all bit patterns are valid.
unsafe impl FloatBits for f32 {
    type Bits = u32;
}
// SAFETY: as above.
unsafe impl FloatBits for f64 {
    type Bits = u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogates::MultiGaussian;

    #[test]
    fn heaviside_f32_special_values() {
        let x = [
            -1.0f32,
            -0.0,
            0.0,
            1e-45,
            -1e-45,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        let mut out = [7.0f32; 9];
        heaviside_f32(&x, &mut out);
        // -1e-45 is subnormal: read as zero, as XLA on CPU does.
        assert_eq!(out, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn negative_subnormals_step_to_one_except_f16() {
        let f32_min = f32::MIN_POSITIVE; // smallest normal
        let x = [-f32::from_bits(1), -f32::from_bits(0x007f_ffff), -f32_min];
        let mut out = [7.0f32; 3];
        heaviside_f32(&x, &mut out);
        assert_eq!(out, [1.0, 1.0, 0.0]);
        let x = [
            -f64::from_bits(1),
            -f64::from_bits(0x000f_ffff_ffff_ffff),
            -f64::MIN_POSITIVE,
        ];
        let mut out = [7.0f64; 3];
        heaviside_f64(&x, &mut out);
        assert_eq!(out, [1.0, 1.0, 0.0]);
        // bf16: 0x8001 and 0x807f are negative subnormals, 0x8080 the smallest normal.
        let mut out = [7u16; 3];
        heaviside_bf16(&[0x8001, 0x807f, 0x8080], &mut out);
        assert_eq!(out, [0x3f80, 0x3f80, 0]);
        // f16 subnormals are normal f32 numbers: negative ones step to 0.
        let mut out = [7u16; 3];
        heaviside_f16(&[0x8001, 0x83ff, 0x8000], &mut out);
        assert_eq!(out, [0, 0, 0x3c00]);
    }

    #[test]
    fn heaviside_halves_match_f32() {
        let xs: Vec<f32> = vec![
            -2.0,
            -0.0,
            0.0,
            0.5,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1e-7,
            6e-8,
        ];
        let mut want = vec![0f32; xs.len()];
        heaviside_f32(&xs, &mut want);
        let h: Vec<u16> = xs.iter().map(|&v| f16::from_f32(v).to_bits()).collect();
        let mut out = vec![0u16; xs.len()];
        heaviside_f16(&h, &mut out);
        let hx: Vec<f32> = h.iter().map(|&b| f16::from_bits(b).to_f32()).collect();
        let mut want_h = vec![0f32; xs.len()];
        heaviside_f32(&hx, &mut want_h);
        assert_eq!(
            out.iter()
                .map(|&b| f16::from_bits(b).to_f32())
                .collect::<Vec<_>>(),
            want_h
        );
        let b: Vec<u16> = xs.iter().map(|&v| bf16::from_f32(v).to_bits()).collect();
        heaviside_bf16(&b, &mut out);
        assert_eq!(
            out.iter()
                .map(|&b| bf16::from_bits(b).to_f32())
                .collect::<Vec<_>>(),
            want
        );
    }

    #[test]
    fn heaviside_f64_special_values() {
        let x = [
            -1.0f64,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut out = [3.0f64; 7];
        heaviside_f64(&x, &mut out);
        assert_eq!(out, [0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    }

    fn kernel() -> (MultiGaussian, Box<dyn GradKernel>) {
        let p = [0.15, 6.0, 0.5, 0.5];
        (
            MultiGaussian::new(&p).unwrap(),
            fused(MultiGaussian::new(&p).unwrap()),
        )
    }

    #[test]
    fn fused_f32_is_t_times_grad_for_every_length() {
        let (s, k) = kernel();
        for n in [0usize, 1, 7, 8, 15, 16, 17, 33, 1000] {
            let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.37 - 3.0).collect();
            let t: Vec<f32> = (0..n).map(|i| 1.0 + i as f32 * 0.01).collect();
            let mut out = vec![f32::NAN; n];
            k.f32(&x, &t, &mut out);
            for i in 0..n {
                assert_eq!(out[i], t[i] * s.grad_f32(x[i]), "n={n} i={i}");
            }
        }
    }

    #[test]
    fn fused_half_rounds_once_from_f32() {
        let (s, k) = kernel();
        let n = 2 * HALF_BLOCK + 3;
        let xf: Vec<f32> = (0..n).map(|i| i as f32 / n as f32 * 8.0 - 4.0).collect();
        let x16: Vec<f16> = xf.iter().map(|&v| f16::from_f32(v)).collect();
        let t16 = vec![f16::from_f32(1.5); n];
        let mut out = vec![f16::NAN; n];
        k.f16(&x16, &t16, &mut out);
        for i in 0..n {
            let want = f16::from_f32(1.5 * s.grad_f32(x16[i].to_f32()));
            assert_eq!(out[i].to_bits(), want.to_bits(), "i={i}");
        }
        let xb: Vec<bf16> = xf.iter().map(|&v| bf16::from_f32(v)).collect();
        let tb = vec![bf16::from_f32(-2.0); n];
        let mut outb = vec![bf16::NAN; n];
        k.bf16(&xb, &tb, &mut outb);
        for i in 0..n {
            let want = bf16::from_f32(-2.0 * s.grad_f32(xb[i].to_f32()));
            assert_eq!(outb[i].to_bits(), want.to_bits(), "i={i}");
        }
    }

    /// What makes results independent of the thread count: any split of the
    /// array into chunks (aligned or not, so SIMD bodies and scalar tails meet
    /// different elements) gives the same bits as one pass.
    #[test]
    fn any_chunking_gives_identical_bits() {
        let (_, k) = kernel();
        let n = 10_000;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 4001) as f32 / 500.0 - 4.0)
            .collect();
        let t: Vec<f32> = (0..n).map(|i| 1.0 - (i % 17) as f32 * 0.13).collect();
        let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let th: Vec<f16> = t.iter().map(|&v| f16::from_f32(v)).collect();
        let xb: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
        let tb: Vec<bf16> = t.iter().map(|&v| bf16::from_f32(v)).collect();
        let xd: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let td: Vec<f64> = t.iter().map(|&v| v as f64).collect();
        let (mut whole, mut whole_h, mut whole_b, mut whole_d) = (
            vec![0f32; n],
            vec![f16::ZERO; n],
            vec![bf16::ZERO; n],
            vec![0f64; n],
        );
        k.f32(&x, &t, &mut whole);
        k.f16(&xh, &th, &mut whole_h);
        k.bf16(&xb, &tb, &mut whole_b);
        k.f64(&xd, &td, &mut whole_d);
        for chunk in [1usize, 3, 64, 100, 513, 4096] {
            let (mut o, mut oh, mut ob, mut od) = (
                vec![0f32; n],
                vec![f16::ZERO; n],
                vec![bf16::ZERO; n],
                vec![0f64; n],
            );
            for start in (0..n).step_by(chunk) {
                let r = start..(start + chunk).min(n);
                k.f32(&x[r.clone()], &t[r.clone()], &mut o[r.clone()]);
                k.f16(&xh[r.clone()], &th[r.clone()], &mut oh[r.clone()]);
                k.bf16(&xb[r.clone()], &tb[r.clone()], &mut ob[r.clone()]);
                k.f64(&xd[r.clone()], &td[r.clone()], &mut od[r]);
            }
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&o), bits(&whole), "f32 chunk={chunk}");
            assert_eq!(oh, whole_h, "f16 chunk={chunk}");
            assert_eq!(ob, whole_b, "bf16 chunk={chunk}");
            assert_eq!(
                od.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                whole_d.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                "f64 chunk={chunk}"
            );
            let mut step = vec![0f32; n];
            for start in (0..n).step_by(chunk) {
                let r = start..(start + chunk).min(n);
                heaviside_f32(&x[r.clone()], &mut step[r]);
            }
            let mut step_whole = vec![0f32; n];
            heaviside_f32(&x, &mut step_whole);
            assert_eq!(step, step_whole);
        }
    }

    #[test]
    fn fused_f64_is_t_times_grad() {
        let (s, k) = kernel();
        let x: Vec<f64> = (0..101).map(|i| i as f64 * 0.1 - 5.0).collect();
        let t: Vec<f64> = (0..101).map(|i| (i as f64).sin()).collect();
        let mut out = vec![0.0; 101];
        k.f64(&x, &t, &mut out);
        for i in 0..101 {
            assert_eq!(out[i], t[i] * s.grad_f64(x[i]));
        }
    }
}
