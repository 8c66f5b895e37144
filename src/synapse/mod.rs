//! Event-driven synapses: products of a spike matrix with a dense weight that
//! read only the nonzero spikes.
//!
//! - `spike_matmul`: the forward product `y = s @ W` and the weight gradient
//!   `dW = s^T @ ct`, for f32, f64, f16 and bf16 (halves accumulated in f32,
//!   rounded once).

mod blocked;
mod spike_matmul;

pub(crate) use spike_matmul::{
    forward_bf16, forward_f16, forward_f32, forward_f64, wgrad_bf16, wgrad_f16, wgrad_f32,
    wgrad_f64,
};

#[cfg(test)]
mod tests;
