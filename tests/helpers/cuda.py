"""Lowering for CUDA on a machine without a GPU."""

from __future__ import annotations

import contextlib

import jax


def cuda_target():
    """The GPU to lower for. From jax 0.12, Triton's lowering asks the
    target's kind of the default device, or of an abstract mesh's abstract
    device where there is no GPU."""
    try:
        device = jax.sharding.AbstractDevice(device_kind="NVIDIA H200", num_cores=132, platform="gpu")
    except (AttributeError, TypeError):  # jax 0.8: no platform field, and not needed
        return contextlib.nullcontext()
    return jax.sharding.use_abstract_mesh(jax.sharding.AbstractMesh((1,), ("d",), abstract_device=device))
