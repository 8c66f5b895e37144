//! Every native surrogate's fused f32 gradient on the calling thread, without
//! JAX: median time per call over 2^20 elements (or N), to spot a loop that
//! LLVM did not vectorize.
//!
//!     PYO3_PYTHON=.venv/bin/python cargo run --release --no-default-features --example surrogate_bench [N]

use std::hint::black_box;
use std::time::Instant;

use spikegrad::registry::{grad_kernel, surrogates};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 20);
    let x: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 10007) as f32 / 10007.0 * 6.0 - 3.0)
        .collect();
    let t = vec![1.0f32; n];
    let mut out = vec![0f32; n];
    for (name, _) in surrogates() {
        let defaults: &[f64] = match name {
            "multi_gaussian" => &[0.15, 6.0, 0.5, 0.5],
            "gaussian" => &[0.5, 0.5],
            "piecewise_leaky_relu" => &[0.01, 1.0],
            "squarewave_fourier_series" => &[2.0, 8.0],
            "s2nn" => &[4.0, 1.0, 1e-8],
            "leaky_relu" => &[0.1, 1.0],
            "relu_grad" => &[0.3, 1.0],
            "log_tailed_relu" => &[0.0],
            "inv_square_grad" => &[100.0],
            _ => &[1.0],
        };
        let Ok(k) = grad_kernel(name, defaults) else {
            println!("{name:28} (skipped: parameters)");
            continue;
        };
        let mut samples: Vec<f64> = (0..21)
            .map(|_| {
                let start = Instant::now();
                k.f32(black_box(&x), black_box(&t), &mut out);
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        println!("{name:28} {:8.1} us", samples[10]);
    }
}
