//! The Rust kernels alone, on the calling thread, without JAX: median time of
//! the MultiGaussian fused gradient per dtype, the Heaviside step, and an
//! `a + b` loop with the gradient's memory traffic for reference.
//!
//!     PYO3_PYTHON=.venv/bin/python cargo run --release --no-default-features --example kernel_bench [N]
//!
//! Pin it to one CPU (`taskset -c 1 ...`) for steadier numbers.

use std::hint::black_box;
use std::time::Instant;

use half::{bf16, f16};
use spikegrad::kernels::heaviside_f32;
use spikegrad::registry::grad_kernel;

const REPEATS: usize = 30;

fn median_ms(mut run: impl FnMut()) -> f64 {
    run();
    let mut samples: Vec<f64> = (0..REPEATS)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[REPEATS / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 20);
    let k = grad_kernel("multi_gaussian", &[0.15, 6.0, 0.5, 0.5]).expect("default parameters");
    let x: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 10007) as f32 / 10007.0 * 6.0 - 3.0)
        .collect();
    let t: Vec<f32> = (0..n).map(|i| 1.0 + (i % 13) as f32 * 0.1).collect();
    let widen = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<_>>();
    let (xd, td) = (widen(&x), widen(&t));
    let (xb, tb): (Vec<bf16>, Vec<bf16>) = (
        x.iter().map(|&a| bf16::from_f32(a)).collect(),
        t.iter().map(|&a| bf16::from_f32(a)).collect(),
    );
    let (xh, th): (Vec<f16>, Vec<f16>) = (
        x.iter().map(|&a| f16::from_f32(a)).collect(),
        t.iter().map(|&a| f16::from_f32(a)).collect(),
    );
    let mut o = vec![0f32; n];
    let mut od = vec![0f64; n];
    let mut ob = vec![bf16::ZERO; n];
    let mut oh = vec![f16::ZERO; n];

    println!("N = {n}, one thread, median of {REPEATS}");
    let rows: [(&str, f64); 6] = [
        (
            "multi_gaussian vjp f32",
            median_ms(|| k.f32(black_box(&x), &t, &mut o)),
        ),
        (
            "multi_gaussian vjp f64",
            median_ms(|| k.f64(black_box(&xd), &td, &mut od)),
        ),
        (
            "multi_gaussian vjp bf16",
            median_ms(|| k.bf16(black_box(&xb), &tb, &mut ob)),
        ),
        (
            "multi_gaussian vjp f16",
            median_ms(|| k.f16(black_box(&xh), &th, &mut oh)),
        ),
        (
            "heaviside f32",
            median_ms(|| heaviside_f32(black_box(&x), &mut o)),
        ),
        (
            "a + b f32 (same traffic as vjp)",
            median_ms(|| {
                for ((d, a), b) in o.iter_mut().zip(black_box(&x)).zip(&t) {
                    *d = a + b;
                }
                black_box(&o);
            }),
        ),
    ];
    for (name, ms) in rows {
        println!(
            "{name:34} {ms:8.3} ms  {:6.3} ns/element",
            ms * 1e6 / n as f64
        );
    }
}
