//! The kernels against a naive f64 product: random shapes (empty ones too),
//! 0%, 100% and partial firing, non-binary spike values, every dtype, and
//! the weight gradient split into row blocks as the shim splits it.

use half::{bf16, f16};

use super::spike_matmul::Nonzero;
use super::*;

/// Deterministic pseudo-random numbers in `[0, 1)` (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Spikes firing with probability `rate`: 1.0, or a value in [-2, 2) when `binary` is false.
fn spikes(rng: &mut Lcg, len: usize, rate: f64, binary: bool) -> Vec<f64> {
    (0..len)
        .map(|_| {
            if rng.next() < rate {
                if binary {
                    1.0
                } else {
                    4.0 * rng.next() - 2.0
                }
            } else {
                0.0
            }
        })
        .collect()
}

fn dense(rng: &mut Lcg, len: usize) -> Vec<f64> {
    (0..len).map(|_| 2.0 * rng.next() - 1.0).collect()
}

/// `a: [m, k] @ b: [k, n]` in f64.
fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for r in 0..m {
        for i in 0..k {
            for c in 0..n {
                out[r * n + c] += a[r * k + i] * b[i * n + c];
            }
        }
    }
    out
}

fn transpose(a: &[f64], m: usize, k: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * k];
    for r in 0..m {
        for c in 0..k {
            out[c * m + r] = a[r * k + c];
        }
    }
    out
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

const SHAPES: &[(usize, usize, usize)] = &[
    (0, 3, 4),
    (3, 0, 4),
    (3, 4, 0),
    (1, 1, 1),
    (5, 37, 13),
    (7, 130, 67),
    (4, 300, 1030), // more than one weight-gradient block in f64
];

/// One (shape, rate, values) case in one dtype: forward and weight gradient,
/// the gradient both whole and in row blocks of 64 (the shim's split).
fn check_dtype<E: Copy>(
    to: impl Fn(f64) -> E,
    from: impl Fn(E) -> f64,
    tol: f64,
    run: &dyn Fn(Case<E>) -> Vec<E>,
) {
    let mut rng = Lcg(7);
    for &(b, n_in, n_out) in SHAPES {
        for &(rate, binary) in &[
            (0.0, true),
            (1.0, true),
            (0.05, true),
            (0.3, false),
            (1.0, false),
        ] {
            let s64: Vec<f64> = spikes(&mut rng, b * n_in, rate, binary)
                .into_iter()
                .map(|v| from(to(v)))
                .collect();
            let w64: Vec<f64> = dense(&mut rng, n_in * n_out)
                .into_iter()
                .map(|v| from(to(v)))
                .collect();
            let c64: Vec<f64> = dense(&mut rng, b * n_out)
                .into_iter()
                .map(|v| from(to(v)))
                .collect();
            let s: Vec<E> = s64.iter().map(|&v| to(v)).collect();
            let w: Vec<E> = w64.iter().map(|&v| to(v)).collect();
            let c: Vec<E> = c64.iter().map(|&v| to(v)).collect();
            let what = format!("b={b} n_in={n_in} n_out={n_out} rate={rate} binary={binary}");
            let y = run(Case::Forward {
                s: &s,
                w: &w,
                b,
                n_in,
                n_out,
            });
            let y: Vec<f64> = y.into_iter().map(&from).collect();
            assert_close(
                &y,
                &matmul(&s64, &w64, b, n_in, n_out),
                tol,
                &format!("forward {what}"),
            );
            let want = matmul(&transpose(&s64, b, n_in), &c64, n_in, b, n_out);
            let whole: Vec<f64> = run(Case::Wgrad {
                s: &s,
                ct: &c,
                n_in,
                n_out,
                block: n_in.max(1),
            })
            .into_iter()
            .map(&from)
            .collect();
            assert_close(&whole, &want, tol, &format!("wgrad {what}"));
            let split: Vec<f64> = run(Case::Wgrad {
                s: &s,
                ct: &c,
                n_in,
                n_out,
                block: 64,
            })
            .into_iter()
            .map(&from)
            .collect();
            assert_eq!(
                split.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                whole.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "split wgrad {what}"
            );
        }
    }
}

enum Case<'a, E> {
    Forward {
        s: &'a [E],
        w: &'a [E],
        b: usize,
        n_in: usize,
        n_out: usize,
    },
    Wgrad {
        s: &'a [E],
        ct: &'a [E],
        n_in: usize,
        n_out: usize,
        block: usize,
    },
}

/// A forward kernel: `(s, w, out, n_in, n_out)`.
type ForwardFn<E> = fn(&[E], &[E], &mut [E], usize, usize);
/// A weight-gradient kernel: `(s, ct, out, n_in, n_out, i0)`.
type WgradFn<E> = fn(&[E], &[E], &mut [E], usize, usize, usize);

/// Run a case with the given forward and gradient kernels.
fn runner<E: Copy + Default>(fwd: ForwardFn<E>, grad: WgradFn<E>) -> impl Fn(Case<E>) -> Vec<E> {
    move |case| match case {
        Case::Forward {
            s,
            w,
            b,
            n_in,
            n_out,
        } => {
            let mut out = vec![E::default(); b * n_out];
            fwd(s, w, &mut out, n_in, n_out);
            out
        }
        Case::Wgrad {
            s,
            ct,
            n_in,
            n_out,
            block,
        } => {
            let mut out = vec![E::default(); n_in * n_out];
            if n_out > 0 {
                for (k, part) in out.chunks_mut(block * n_out).enumerate() {
                    grad(s, ct, part, n_in, n_out, k * block);
                }
            }
            out
        }
    }
}

#[test]
fn f64_matches_naive() {
    check_dtype(|v| v, |v| v, 1e-12, &runner(forward_f64, wgrad_f64));
}

#[test]
fn f32_matches_naive() {
    check_dtype(
        |v| v as f32,
        f64::from,
        1e-4,
        &runner(forward_f32, wgrad_f32),
    );
}

#[test]
fn f16_matches_naive() {
    // One rounding of an f32 sum: the f16 epsilon relative to the magnitudes summed.
    check_dtype(
        f16::from_f64,
        |v: f16| v.to_f64(),
        0.15,
        &runner(forward_f16, wgrad_f16),
    );
}

#[test]
fn bf16_matches_naive() {
    check_dtype(
        bf16::from_f64,
        |v: bf16| v.to_f64(),
        1.0,
        &runner(forward_bf16, wgrad_bf16),
    );
}

#[test]
fn f32_sums_in_increasing_index_order() {
    // Each output element is a sequential sum over increasing k, with one
    // rounding per multiply-add (fused, where the CPU target has FMA) or
    // two: the same bits as one of these loops, the same one for all columns.
    let mut rng = Lcg(3);
    let (n_in, n_out) = (23, 9);
    let s: Vec<f32> = spikes(&mut rng, n_in, 0.6, false)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let w: Vec<f32> = dense(&mut rng, n_in * n_out)
        .into_iter()
        .map(|v| v as f32 * 1e3)
        .collect();
    let mut out = vec![0f32; n_out];
    forward_f32(&s, &w, &mut out, n_in, n_out);
    let sequential = |fused: bool| -> Vec<u32> {
        (0..n_out)
            .map(|j| {
                let mut acc = 0f32;
                for i in 0..n_in {
                    if s[i] != 0.0 {
                        let x = w[i * n_out + j];
                        acc = if fused {
                            s[i].mul_add(x, acc)
                        } else {
                            acc + s[i] * x
                        };
                    }
                }
                acc.to_bits()
            })
            .collect()
    };
    let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
    assert!(
        got == sequential(true) || got == sequential(false),
        "{out:?}"
    );
}

/// Spike rows whose firing differs from row to row: silent rows, full rows,
/// sparse and dense ones, with non-binary values.
fn mixed_rows(rng: &mut Lcg, rows: usize, n_in: usize) -> Vec<f64> {
    const RATES: [f64; 7] = [0.0, 1.0, 0.02, 0.3, 0.7, 0.1, 1.0];
    (0..rows)
        .flat_map(|r| {
            let binary = r % 3 != 2;
            spikes(rng, n_in, RATES[r % RATES.len()], binary)
        })
        .collect()
}

/// The forward kernel on rows `0..rows` split into calls of `parts` rows
/// (cycled), as the shim splits a batch over threads.
fn forward_split<E: Copy + Default>(
    fwd: ForwardFn<E>,
    s: &[E],
    w: &[E],
    n_in: usize,
    n_out: usize,
    parts: &[usize],
) -> Vec<E> {
    let rows = s.len().checked_div(n_in).unwrap_or(0);
    let mut out = vec![E::default(); rows * n_out];
    let (mut r0, mut p) = (0, 0);
    while r0 < rows {
        let r1 = (r0 + parts[p % parts.len()]).min(rows);
        fwd(
            &s[r0 * n_in..r1 * n_in],
            w,
            &mut out[r0 * n_out..r1 * n_out],
            n_in,
            n_out,
        );
        r0 = r1;
        p += 1;
    }
    out
}

fn bits<T: Copy>(v: &[T], to_bits: impl Fn(T) -> u64) -> Vec<u64> {
    v.iter().map(|&x| to_bits(x)).collect()
}

#[test]
fn blocked_forward_is_the_same_for_any_split_of_the_rows() {
    // Rows with fewer spikes than a pass of W rows and remainders after the
    // passes, W in several column slabs with a narrower last one, slabs
    // packed or read in place (many or few spikes per call), and rows of
    // every firing in one call: every split gives the same bits as the
    // whole batch and as each row alone.
    let mut rng = Lcg(11);
    for &(rows, n_in, n_out) in &[
        (7, 37, 13),
        (13, 70, 67),
        (22, 45, 200),
        (9, 300, 130),
        (30, 20, 1030),
        (6, 3, 64),
        (12, 600, 520),
    ] {
        let s64 = mixed_rows(&mut rng, rows, n_in);
        let w64 = dense(&mut rng, n_in * n_out);
        let want = matmul(&s64, &w64, rows, n_in, n_out);
        let what = format!("rows={rows} n_in={n_in} n_out={n_out}");
        let s32: Vec<f32> = s64.iter().map(|&v| v as f32).collect();
        let w32: Vec<f32> = w64.iter().map(|&v| v as f32).collect();
        let whole64 = forward_split(forward_f64, &s64, &w64, n_in, n_out, &[rows]);
        let whole32 = forward_split(forward_f32, &s32, &w32, n_in, n_out, &[rows]);
        assert_close(&whole64, &want, 1e-12, &format!("f64 {what}"));
        let as64: Vec<f64> = whole32.iter().map(|&v| f64::from(v)).collect();
        assert_close(&as64, &want, 1e-4, &format!("f32 {what}"));
        for parts in [&[1][..], &[3], &[5, 2, 4], &[2, 1]] {
            let split64 = forward_split(forward_f64, &s64, &w64, n_in, n_out, parts);
            let split32 = forward_split(forward_f32, &s32, &w32, n_in, n_out, parts);
            assert_eq!(
                bits(&split64, f64::to_bits),
                bits(&whole64, f64::to_bits),
                "f64 {what} split {parts:?}"
            );
            assert_eq!(
                bits(&split32, |v| u64::from(v.to_bits())),
                bits(&whole32, |v| u64::from(v.to_bits())),
                "f32 {what} split {parts:?}"
            );
        }
    }
}

#[test]
fn blocked_forward_skips_non_finite_weights_behind_zero_spikes() {
    // Dense firing: the result is the product over the nonzero spikes only,
    // and a nonzero spike on a non-finite weight still gives inf or NaN.
    let (rows, n_in, n_out) = (8, 24, 70);
    let mut rng = Lcg(5);
    let mut w = dense(&mut rng, n_in * n_out);
    w[3 * n_out + 5] = f64::INFINITY;
    w[10 * n_out + 66] = f64::NAN;
    w[17 * n_out + 40] = f64::NEG_INFINITY;
    let mut s = spikes(&mut rng, rows * n_in, 0.8, true);
    for r in 0..rows {
        // Rows 0, 2, 4, 6 are silent on the non-finite weights' inputs.
        let on = if r % 2 == 0 { 0.0 } else { 1.0 };
        for k in [3, 10, 17] {
            s[r * n_in + k] = on;
        }
    }
    let mut out = vec![0.0; rows * n_out];
    forward_f64(&s, &w, &mut out, n_in, n_out);
    let finite_w: Vec<f64> = w
        .iter()
        .map(|&v| if v.is_finite() { v } else { 0.0 })
        .collect();
    let want = matmul(&s, &finite_w, rows, n_in, n_out);
    for r in 0..rows {
        let row = &out[r * n_out..(r + 1) * n_out];
        if r % 2 == 0 {
            assert_close(row, &want[r * n_out..(r + 1) * n_out], 1e-12, "silent row");
        } else {
            assert!(row[5] == f64::INFINITY && row[40] == f64::NEG_INFINITY && row[66].is_nan());
            assert!(
                row.iter().filter(|v| !v.is_finite()).count() == 3,
                "row {r}"
            );
        }
    }
    let mut alone = vec![0.0; n_out];
    for r in 0..rows {
        forward_f64(&s[r * n_in..(r + 1) * n_in], &w, &mut alone, n_in, n_out);
        let row = &out[r * n_out..(r + 1) * n_out];
        assert_eq!(
            bits(row, f64::to_bits),
            bits(&alone, f64::to_bits),
            "row {r}"
        );
    }
}

#[test]
fn zero_spikes_skip_non_finite_weights_and_nan_spikes_propagate() {
    let w = [f64::INFINITY, f64::NAN, 1.0, 2.0];
    let mut out = [0.0; 2];
    forward_f64(&[0.0, 1.0], &w, &mut out, 2, 2);
    assert_eq!(out, [1.0, 2.0]);
    forward_f64(&[-0.0, f64::NAN], &w, &mut out, 2, 2);
    assert!(out.iter().all(|v| v.is_nan()));
    forward_f64(&[f64::INFINITY, 0.0], &[0.0, 1.0, 5.0, 5.0], &mut out, 2, 2);
    assert!(out[0].is_nan() && out[1] == f64::INFINITY);
    assert!(!f16::from_f32(-0.0).nonzero() && bf16::NAN.nonzero());
}
