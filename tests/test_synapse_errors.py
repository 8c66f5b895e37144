"""spike_matmul refuses bad input with a clear error, eagerly and at trace
time under jit: weights that are not a float matrix, spikes that are not bool
or float, shapes that do not fit. The kernels refuse mismatched buffers too."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikegrad.synapse import spike_matmul
from spikegrad.synapse._primitives import spike_matmul_p, spike_matmul_wgrad_p

S = jnp.ones((4, 3), jnp.float32)
W = jnp.ones((3, 2), jnp.float32)

BAD = [
    (S, W.astype(jnp.bool_), TypeError, "weight must be float16"),
    (S, W.astype(jnp.int32), TypeError, "weight must be float16"),
    (S, W.astype(jnp.complex64), TypeError, "weight must be float16"),
    (S.astype(jnp.complex64), W, TypeError, "bool or floating"),
    (S.astype(jnp.int32), W, TypeError, "bool or floating"),
    (S.astype(jnp.uint8), W, TypeError, "bool or floating"),
    (S, jnp.ones((3,), jnp.float32), ValueError, "2-D"),
    (S, jnp.ones((1, 3, 2), jnp.float32), ValueError, "2-D"),
    (jnp.float32(1.0), W, ValueError, "scalar"),
    (jnp.ones((4, 5), jnp.float32), W, ValueError, r"last axis of spikes \(5\)"),
]


@pytest.mark.parametrize("s,w,error,match", BAD)
def test_bad_input_raises_eagerly_and_under_jit(s, w, error, match):
    with pytest.raises(error, match=match):
        spike_matmul(s, w)
    with pytest.raises(error, match=match):
        jax.jit(spike_matmul)(s, w)
    with pytest.raises(error, match=match):
        jax.jit(spike_matmul).trace(
            jax.ShapeDtypeStruct(jnp.shape(s), jnp.result_type(s)), jax.ShapeDtypeStruct(w.shape, w.dtype)
        )


def test_primitives_refuse_mismatched_operands():
    with pytest.raises(TypeError, match="share one dtype"):
        spike_matmul_p.bind(S.astype(jnp.float16), W, lowering="native")
    with pytest.raises(TypeError, match="do not fit"):
        spike_matmul_p.bind(jnp.ones((4, 2), jnp.float32), W, lowering="native")
    with pytest.raises(TypeError, match="leading axes"):
        spike_matmul_wgrad_p.bind(S, jnp.ones((5, 2), jnp.float32), lowering="native")


def test_kernel_refuses_buffers_that_do_not_fit():
    """The FFI handler checks element counts itself (a hand-built call)."""
    call = jax.ffi.ffi_call("spikegrad_spike_matmul", jax.ShapeDtypeStruct((4, 2), jnp.float32))
    with pytest.raises(Exception, match="do not fit"):
        np.asarray(call(jnp.ones((4, 5), jnp.float32), W))
    call = jax.ffi.ffi_call("spikegrad_spike_matmul", jax.ShapeDtypeStruct((4, 2), jnp.int32))
    with pytest.raises(Exception, match="unsupported dtype"):
        np.asarray(call(S.astype(jnp.int32), W.astype(jnp.int32)))
