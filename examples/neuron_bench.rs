//! The fused neuron kernels alone, on the calling thread, without JAX: median
//! time of the forward pass (spikes only, or with checkpoints) and of BPTT per
//! model and checkpoint stride (with and without the constants' cotangents),
//! f32, MultiGaussianGrad, and a copy of the input for the memory floor.
//!
//!     PYO3_PYTHON=.venv/bin/python cargo run --release --no-default-features --example neuron_bench [N] [T] [MODEL] [STRIDE]
//!
//! Pin it to one CPU (`taskset -c 1 ...`) for steadier numbers.

use std::hint::black_box;
use std::time::Instant;

use spikegrad::registry::{grad_kernel, neuron_kernel, MODELS};

const REPEATS: usize = 9;

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
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (n, steps) = (arg(1, 1 << 13), arg(2, 100));
    // Optional filters: one model, one stride.
    let only_model = std::env::args().nth(3);
    let only_stride = std::env::args()
        .nth(4)
        .and_then(|s| s.parse::<usize>().ok());
    let x: Vec<f32> = (0..n * steps)
        .map(|i| ((i * 7919) % 10007) as f32 / 10007.0 * 1.2 - 0.1)
        .collect();
    let cts: Vec<f32> = (0..n * steps)
        .map(|i| ((i * 31) % 101) as f32 / 101.0 - 0.5)
        .collect();
    let mut copy = vec![0f32; n * steps];
    let floor = median_ms(|| copy.copy_from_slice(black_box(&x)));
    // The surrogate's g' of T N states, in cache (a segment of 16 steps of
    // 64 neurons at a time, as BPTT computes it): BPTT needs it once per
    // state, so it bounds that pass's time from below.
    let sg = grad_kernel("multi_gaussian", &[0.15, 6.0, 0.5, 0.5]).unwrap();
    let mut seg = x[..1024.min(x.len())].to_vec();
    let grad = median_ms(|| {
        for _ in 0..(n * steps).div_ceil(seg.len()) {
            sg.grad_in_place_f32(black_box(&mut seg));
        }
    });
    println!("N={n} T={steps} f32, one thread; copy of x: {floor:.3} ms; g' of T N states in cache: {grad:.3} ms");
    println!(
        "{:<9} {:>6} {:>10} {:>10} {:>10} {:>12}",
        "model", "stride", "fwd", "fwd+ckpt", "bptt", "bptt(no c)"
    );
    for (model, states, consts) in MODELS {
        if only_model.as_deref().is_some_and(|m| m != *model) {
            continue;
        }
        let (s, c) = (states.len(), consts.len());
        let mut cvals = vec![vec![0f32; n]; c];
        let defaults = [0.8187f32, 0.0, 0.1813, 1.0, 0.0, 0.99, 0.1];
        for (q, v) in cvals.iter_mut().enumerate() {
            v.fill(defaults[q]);
        }
        let z0 = vec![vec![0f32; n]; s];
        for stride in [1usize, 4, 8, 16, 32] {
            if only_stride.is_some_and(|s| s != stride) {
                continue;
            }
            let k = neuron_kernel(
                model,
                "multi_gaussian",
                &[0.15, 6.0, 0.5, 0.5],
                false,
                stride as i64,
            )
            .unwrap();
            let rows = steps.div_ceil(stride);
            let mut spikes = vec![0f32; n * steps];
            let mut saved = vec![vec![0f32; rows * n]; s];
            let mut ins = vec![x.as_ptr() as usize];
            ins.extend(z0.iter().map(|v| v.as_ptr() as usize));
            ins.extend(cvals.iter().map(|v| v.as_ptr() as usize));
            let fwd_outs = [vec![spikes.as_mut_ptr() as usize], vec![0; s]].concat();
            // SAFETY (all): buffers of the documented sizes, one thread.
            let fwd = median_ms(|| unsafe { k.forward_f32(steps, n, 0..n, &ins, &fwd_outs) });
            let mut outs = vec![spikes.as_mut_ptr() as usize];
            outs.extend(saved.iter_mut().map(|v| v.as_mut_ptr() as usize));
            let ckpt = median_ms(|| unsafe { k.forward_f32(steps, n, 0..n, &ins, &outs) });
            let mut ct_x = vec![0f32; n * steps];
            let mut ct_z0 = vec![vec![0f32; n]; s];
            let mut ct_c = vec![vec![0f32; n]; c];
            let mut bins = ins.clone();
            bins.extend(saved.iter().map(|v| v.as_ptr() as usize));
            bins.push(cts.as_ptr() as usize);
            bins.extend(std::iter::repeat_n(0, s));
            let mut bouts = vec![ct_x.as_mut_ptr() as usize];
            bouts.extend(ct_z0.iter_mut().map(|v| v.as_mut_ptr() as usize));
            bouts.extend(ct_c.iter_mut().map(|v| v.as_mut_ptr() as usize));
            let bptt = median_ms(|| unsafe { k.bptt_f32(steps, n, 0..n, &bins, &bouts, true) });
            let states = median_ms(|| unsafe { k.bptt_f32(steps, n, 0..n, &bins, &bouts, false) });
            println!("{model:<9} {stride:>6} {fwd:>10.3} {ckpt:>10.3} {bptt:>10.3} {states:>12.3}");
            black_box((&ct_x, &ct_z0, &ct_c));
        }
    }
}
