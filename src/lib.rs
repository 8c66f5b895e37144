//! spikegrad: surrogate-gradient spike functions for JAX.
//!
//! The modules depend one way, each only on those above it:
//!
//! - `math`: vectorizable `exp`, `ln`, `sinpi`, ... written once over a `Real` trait (f32, f64).
//! - [`surrogates`]: the math of each surrogate gradient, one type each (most as a
//!   generic `Formula`), behind the [`surrogates::Surrogate`] trait.
//! - `convert`: bulk f16/bf16 <-> f32 conversion (F16C where present).
//! - [`kernels`]: the Heaviside and fused `t * g'(x)` loops per dtype, generic over the surrogate.
//! - `synapse`: event-driven products of spikes and a dense weight (forward and weight gradient).
//! - `neurons`: fused multi-step neuron kernels (LIF, ALIF, CubaLIF), forward, tangent and BPTT, generic over the surrogate.
//! - [`registry`]: the table of surrogate names, and building a surrogate (or a kernel over it) from one.
//! - `bridge`, `bridge_neuron`, `bridge_synapse`: the cxx bridges called by the C++ XLA FFI shim (`cpp_shim/`).
//! - `python`: the pyo3 module `spikegrad._native` (feature `python`).

mod math;
pub mod surrogates;

mod convert;
pub mod kernels;
mod neurons;
mod synapse;

pub mod registry;

mod bridge;
mod bridge_neuron;
mod bridge_synapse;
#[cfg(feature = "python")]
mod python;
