//! spikegrad: surrogate-gradient spike functions for JAX.
//!
//! - [`math`]: vectorizable `exp`, `ln`, `sinpi`, ... over the [`math::Real`] trait (f32, f64).
//! - [`surrogates`]: one type per surrogate gradient (most as a generic `Formula`), and the registry of them.
//! - `convert`: bulk f16/bf16 <-> f32 conversion (F16C where present).
//! - [`kernels`]: the Heaviside and fused `t * g'(x)` loops per dtype.
//! - [`neurons`]: fused multi-step neuron kernels (LIF), forward and BPTT, generic over the surrogate.
//! - [`registry`]: surrogate name -> type, for any generic kernel builder.
//! - [`bridge`]: the cxx bridge called by the C++ XLA FFI shim (`cpp_shim/`).
//! - `python`: the pyo3 module `spikegrad._native` (feature `python`).

pub mod bridge;
pub mod bridge_lif;
mod convert;
pub mod kernels;
pub mod math;
pub mod neurons;
pub mod registry;
pub mod surrogates;

#[cfg(feature = "python")]
mod python;
