//! The Python extension module `spikegrad._native`: FFI handler capsules for
//! jax, the table of native surrogates, and build facts for the import check.

use std::ffi::c_void;

use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

use crate::registry;

// The XLA FFI handlers defined by cpp_shim/handlers.cc, neuron_handlers.cc,
// synapse_handlers.cc and recurrent_handlers.cc.
extern "C" {
    fn spikegrad_heaviside(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_surrogate_grad(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_forward(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_tangent(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_bptt(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_bptt_states(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_spike_matmul(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_spike_matmul_wgrad(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_rec_forward(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_rec_bptt(call_frame: *mut c_void) -> *mut c_void;
    fn spikegrad_neuron_rec_bptt_states(call_frame: *mut c_void) -> *mut c_void;
}

/// FFI target name -> handler address, as the table `registrations()` exports.
const TARGETS: &[(&str, unsafe extern "C" fn(*mut c_void) -> *mut c_void)] = &[
    ("spikegrad_heaviside", spikegrad_heaviside),
    ("spikegrad_surrogate_grad", spikegrad_surrogate_grad),
    ("spikegrad_neuron_forward", spikegrad_neuron_forward),
    ("spikegrad_neuron_tangent", spikegrad_neuron_tangent),
    ("spikegrad_neuron_bptt", spikegrad_neuron_bptt),
    ("spikegrad_neuron_bptt_states", spikegrad_neuron_bptt_states),
    ("spikegrad_spike_matmul", spikegrad_spike_matmul),
    ("spikegrad_spike_matmul_wgrad", spikegrad_spike_matmul_wgrad),
    ("spikegrad_neuron_rec_forward", spikegrad_neuron_rec_forward),
    ("spikegrad_neuron_rec_bptt", spikegrad_neuron_rec_bptt),
    (
        "spikegrad_neuron_rec_bptt_states",
        spikegrad_neuron_rec_bptt_states,
    ),
];

fn capsule<'py>(py: Python<'py>, ptr: *mut c_void) -> PyResult<Bound<'py, PyCapsule>> {
    // SAFETY: PyCapsule_New with a non-null pointer, no name and no destructor
    // (the handler is a static function); the GIL is held via `py`.
    unsafe {
        let raw = pyo3::ffi::PyCapsule_New(ptr, std::ptr::null(), None);
        Bound::from_owned_ptr_or_err(py, raw).map(|b| b.cast_into_unchecked())
    }
}

/// `{target_name: PyCapsule}` for `jax.ffi.register_ffi_target(..., platform="cpu")`.
#[pyfunction]
fn registrations(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for (name, handler) in TARGETS {
        out.set_item(name, capsule(py, *handler as *mut c_void)?)?;
    }
    Ok(out)
}

/// `{surrogate_name: (param_name, ...)}` for every native surrogate.
#[pyfunction]
fn surrogates(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for (name, params) in registry::surrogates() {
        out.set_item(name, params.to_vec())?;
    }
    Ok(out)
}

/// Validate parameters exactly as the kernels will; raises ValueError.
#[pyfunction]
fn check_params(surrogate: &str, params: Vec<f64>) -> PyResult<()> {
    registry::grad_kernel(surrogate, &params)
        .map(|_| ())
        .map_err(pyo3::exceptions::PyValueError::new_err)
}

/// Validate a neuron model name, surrogate and checkpoint stride exactly as
/// the kernels will; raises ValueError.
#[pyfunction]
fn check_neuron(
    model: &str,
    surrogate: &str,
    params: Vec<f64>,
    hard_reset: bool,
    stride: i64,
) -> PyResult<()> {
    registry::neuron_kernel(model, surrogate, &params, hard_reset, stride)
        .map(|_| ())
        .map_err(pyo3::exceptions::PyValueError::new_err)
}

/// `{model_name: (state_names, constant_names)}` for every fused neuron model.
#[pyfunction]
fn neuron_models(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for (name, states, consts) in registry::MODELS {
        out.set_item(name, (states.to_vec(), consts.to_vec()))?;
    }
    Ok(out)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(registrations, m)?)?;
    m.add_function(wrap_pyfunction!(surrogates, m)?)?;
    m.add_function(wrap_pyfunction!(check_params, m)?)?;
    m.add_function(wrap_pyfunction!(check_neuron, m)?)?;
    m.add_function(wrap_pyfunction!(neuron_models, m)?)?;
    m.add(
        "BUILD_JAXLIB_VERSION",
        env!("SPIKEGRAD_BUILD_JAXLIB_VERSION"),
    )?;
    m.add(
        "BUILD_FFI_API_VERSION",
        env!("SPIKEGRAD_BUILD_FFI_API_VERSION"),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
