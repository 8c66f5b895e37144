//! The cxx bridge of the fused neuron kernels (cpp_shim/neuron_handlers.cc).
//!
//! The shim splits a population into disjoint neuron column ranges run on
//! different threads, so buffers cross as addresses, in the FFI operands'
//! order (`crate::neurons::kernel`), with the `[steps, n]` shape and each
//! call's `begin..end` columns. Every entry checks the counts and the range,
//! runs the kernel under `catch_unwind` and reports failure as `Err`.

use crate::bridge::guarded;
use crate::neurons::kernel::NeuronKernel;
use crate::registry::neuron_kernel;

#[cxx::bridge(namespace = "spikegrad")]
mod ffi {
    extern "Rust" {
        /// A fused-neuron kernel with a validated model, surrogate and stride.
        type NeuronFused;

        fn new_neuron(
            model: &str,
            surrogate: &str,
            params: &[f64],
            hard_reset: bool,
            stride: i64,
        ) -> Result<Box<NeuronFused>>;
        /// The model's state count.
        fn neuron_states(k: &NeuronFused) -> usize;
        /// The model's constant count.
        fn neuron_consts(k: &NeuronFused) -> usize;
        /// Run pass `pass` (0 forward, 1 tangent, 2 BPTT, 3 BPTT without the
        /// constants' cotangents, written as zeros) over columns
        /// `begin..end` in `precision`: 0 f32, 1 f64, 2 f32 with f16
        /// sequences, 3 f32 with bf16 sequences.
        #[allow(clippy::too_many_arguments)]
        unsafe fn neuron_pass(
            k: &NeuronFused,
            pass: u8,
            precision: u8,
            steps: usize,
            n: usize,
            begin: usize,
            end: usize,
            ins: &[usize],
            outs: &[usize],
        ) -> Result<()>;
        /// Run recurrent pass `pass` (0 forward, 2 BPTT, 3 BPTT without the
        /// constants' cotangents) over rows `begin..end` of `rows` rows of
        /// `n` neurons, in `precision` 0 (f32) or 1 (f64)
        /// (`crate::neurons::rec_kernel`).
        #[allow(clippy::too_many_arguments)]
        unsafe fn neuron_rec_pass(
            k: &NeuronFused,
            pass: u8,
            precision: u8,
            steps: usize,
            rows: usize,
            n: usize,
            begin: usize,
            end: usize,
            ins: &[usize],
            outs: &[usize],
        ) -> Result<()>;
    }
}

pub struct NeuronFused(Box<dyn NeuronKernel>);

fn new_neuron(
    model: &str,
    surrogate: &str,
    params: &[f64],
    hard_reset: bool,
    stride: i64,
) -> Result<Box<NeuronFused>, String> {
    guarded("new_neuron", || {
        neuron_kernel(model, surrogate, params, hard_reset, stride)
            .map(|k| Box::new(NeuronFused(k)))
    })
}

fn neuron_states(k: &NeuronFused) -> usize {
    k.0.states()
}

fn neuron_consts(k: &NeuronFused) -> usize {
    k.0.consts()
}

/// The operand and result counts of a pass, for `S` states and `C` constants.
pub(crate) fn arity(pass: u8, s: usize, c: usize) -> Option<(usize, usize)> {
    match pass {
        0 => Some((1 + s + c, 1 + s)),
        1 => Some((1 + s + c + s + 1 + s + c, 1 + s)),
        2 | 3 => Some((1 + s + c + s + 1 + s, 1 + s + c)),
        _ => None,
    }
}

/// Which addresses may be 0: the spikes of a forward pass that writes none,
/// its checkpoints when it keeps none (all or nothing), the absent state
/// cotangents of BPTT.
fn check_addresses(
    pass: u8,
    s: usize,
    c: usize,
    ins: &[usize],
    outs: &[usize],
) -> Result<(), String> {
    let nullable_in = |i: usize| pass >= 2 && i > 2 * s + c + 1;
    if let Some(i) = (0..ins.len()).find(|&i| ins[i] == 0 && !nullable_in(i)) {
        return Err(format!("null operand {i}"));
    }
    let saved = &outs[1..];
    let saved_all_or_none =
        pass != 0 || saved.iter().all(|&a| a == 0) || saved.iter().all(|&a| a != 0);
    if !saved_all_or_none {
        return Err("checkpoints must be all kept or all absent".into());
    }
    if let Some(i) = (0..outs.len()).find(|&i| outs[i] == 0 && pass != 0) {
        return Err(format!("null result {i}"));
    }
    Ok(())
}

/// # Safety
/// The addresses are those of live buffers of the sizes in
/// `crate::neurons::kernel`'s docs, in that order; no concurrent call writes
/// the same columns.
#[allow(clippy::too_many_arguments)]
unsafe fn neuron_pass(
    k: &NeuronFused,
    pass: u8,
    precision: u8,
    steps: usize,
    n: usize,
    begin: usize,
    end: usize,
    ins: &[usize],
    outs: &[usize],
) -> Result<(), String> {
    guarded("neuron_pass", || {
        let (s, c) = (k.0.states(), k.0.consts());
        let (want_in, want_out) =
            arity(pass, s, c).ok_or_else(|| format!("spikegrad: unknown neuron pass {pass}"))?;
        if ins.len() != want_in || outs.len() != want_out {
            return Err(format!(
                "spikegrad: neuron pass {pass}: {} operands and {} results, expected {want_in} and {want_out}",
                ins.len(),
                outs.len()
            ));
        }
        if !(begin <= end && end <= n) {
            return Err(format!(
                "spikegrad: neuron pass {pass}: columns {begin}..{end} outside 0..{n}"
            ));
        }
        check_addresses(pass, s, c, ins, outs)
            .map_err(|e| format!("spikegrad: neuron pass {pass}: {e}"))?;
        let cols = begin..end;
        let kern = &k.0;
        // SAFETY: the caller's contract, and the counts checked above.
        unsafe {
            match (pass, precision) {
                (0, 0) => kern.forward_f32(steps, n, cols, ins, outs),
                (1, 0) => kern.tangent_f32(steps, n, cols, ins, outs),
                (2 | 3, 0) => kern.bptt_f32(steps, n, cols, ins, outs, pass == 2),
                (0, 1) => kern.forward_f64(steps, n, cols, ins, outs),
                (1, 1) => kern.tangent_f64(steps, n, cols, ins, outs),
                (2 | 3, 1) => kern.bptt_f64(steps, n, cols, ins, outs, pass == 2),
                (0, 2) => kern.forward_f16(steps, n, cols, ins, outs),
                (1, 2) => kern.tangent_f16(steps, n, cols, ins, outs),
                (2 | 3, 2) => kern.bptt_f16(steps, n, cols, ins, outs, pass == 2),
                (0, 3) => kern.forward_bf16(steps, n, cols, ins, outs),
                (1, 3) => kern.tangent_bf16(steps, n, cols, ins, outs),
                (2 | 3, 3) => kern.bptt_bf16(steps, n, cols, ins, outs, pass == 2),
                _ => {
                    return Err(format!(
                        "spikegrad: neuron pass {pass}: unknown precision {precision}"
                    ))
                }
            }
        }
        Ok(())
    })
}

/// The operand and result counts of a recurrent pass, for `S` states and `C`
/// constants.
pub(crate) fn rec_arity(pass: u8, s: usize, c: usize) -> Option<(usize, usize)> {
    match pass {
        0 => Some((2 + s + c, 1 + s)),
        2 | 3 => Some((3 + 3 * s + c, 2 + s + c)),
        _ => None,
    }
}

/// # Safety
/// The addresses are those of live buffers of the sizes in
/// `crate::neurons::rec_kernel`'s docs, in that order; no concurrent call
/// writes the same rows, and each BPTT call has its own `gw`.
#[allow(clippy::too_many_arguments)]
unsafe fn neuron_rec_pass(
    k: &NeuronFused,
    pass: u8,
    precision: u8,
    steps: usize,
    rows: usize,
    n: usize,
    begin: usize,
    end: usize,
    ins: &[usize],
    outs: &[usize],
) -> Result<(), String> {
    guarded("neuron_rec_pass", || {
        let (s, c) = (k.0.states(), k.0.consts());
        let (want_in, want_out) = rec_arity(pass, s, c)
            .ok_or_else(|| format!("spikegrad: unknown recurrent pass {pass}"))?;
        if ins.len() != want_in || outs.len() != want_out {
            return Err(format!(
                "spikegrad: recurrent pass {pass}: {} operands and {} results, expected {want_in} and {want_out}",
                ins.len(),
                outs.len()
            ));
        }
        if !(begin <= end && end <= rows) {
            return Err(format!(
                "spikegrad: recurrent pass {pass}: rows {begin}..{end} outside 0..{rows}"
            ));
        }
        // Nullable: BPTT's state cotangents (after ct_spikes); the forward's
        // spikes and checkpoints (all or none).
        let nullable_in = |i: usize| pass >= 2 && i > 2 + 2 * s + c;
        if let Some(i) = (0..ins.len()).find(|&i| ins[i] == 0 && !nullable_in(i)) {
            return Err(format!(
                "spikegrad: recurrent pass {pass}: null operand {i}"
            ));
        }
        let saved = &outs[1..];
        let bad_out = if pass == 0 {
            !(saved.iter().all(|&a| a == 0) || saved.iter().all(|&a| a != 0))
        } else {
            outs.contains(&0)
        };
        if bad_out {
            return Err(format!(
                "spikegrad: recurrent pass {pass}: null or partial results"
            ));
        }
        let block = begin..end;
        let kern = &k.0;
        // SAFETY: the caller's contract, and the counts checked above.
        unsafe {
            match (pass, precision) {
                (0, 0) => kern.rec_forward_f32(steps, rows, n, block, ins, outs),
                (0, 1) => kern.rec_forward_f64(steps, rows, n, block, ins, outs),
                (2 | 3, 0) => kern.rec_bptt_f32(steps, rows, n, block, ins, outs, pass == 2),
                (2 | 3, 1) => kern.rec_bptt_f64(steps, rows, n, block, ins, outs, pass == 2),
                _ => {
                    return Err(format!(
                        "spikegrad: recurrent pass {pass}: unknown precision {precision}"
                    ))
                }
            }
        }
        Ok(())
    })
}
