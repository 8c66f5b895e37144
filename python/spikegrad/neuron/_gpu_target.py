"""The GPU that the Pallas kernels are lowered for on a machine without one.

Lowering a Pallas kernel for CUDA or ROCm (``jax.export`` with
``platforms=["cuda"]``, or ``.lower(lowering_platforms=("cuda",))``) asks
which GPU it targets. Up to jax 0.10 Triton's lowering takes compute
capability 9.0 when no GPU is present; from jax 0.11 it reads the kind of the
abstract mesh's abstract device, else of the default device, and raises
``RuntimeError: No supported GPU devices found`` on a CPU-only machine.
``target`` gives that lowering the same default as jax 0.10 had (an
``NVIDIA H100``, compute capability 9.0; for ROCm an MI300, ``gfx942``), so
exporting for a GPU works without one. A GPU present, or an abstract device
the caller set (``jax.sharding.use_abstract_mesh`` with an
``AbstractDevice``), is used as it is.

The kind only steers the Triton IR the kernels lower to (these kernels use no
instruction that depends on it); XLA compiles that IR for the GPU the program
runs on.
"""

from __future__ import annotations

import contextlib

import jax
from jax._src.interpreters.pxla import get_default_device

__all__ = ["DEFAULT_KINDS", "target"]

#: platform -> (device kind, cores) assumed when no GPU is present.
DEFAULT_KINDS = {"cuda": ("NVIDIA H100", 132), "rocm": ("gfx942", 304)}
_GPU = ("gpu", "cuda", "rocm")


def target(platform: str):
    """A context in which Pallas lowers for ``platform`` on this machine.

    Args:
      platform: the platform lowered for (``"cuda"``, ``"rocm"``, ...).

    Returns:
      ``jax.sharding.use_abstract_mesh`` of the current abstract mesh with an
      abstract device of ``DEFAULT_KINDS[platform]`` where Triton's lowering
      would find no GPU; else a context that changes nothing (a GPU is
      present, the caller set an abstract device, another platform, or a jax
      without abstract devices, whose lowering needs none).

    Example:
      >>> with target("cuda"):
      ...     pass  # lower a pallas_call for CUDA here
    """
    if platform not in DEFAULT_KINDS or get_default_device().platform in _GPU:
        return contextlib.nullcontext()
    mesh = jax.sharding.get_abstract_mesh()
    if getattr(mesh, "abstract_device", None) is not None:
        return contextlib.nullcontext()
    kind, cores = DEFAULT_KINDS[platform]
    try:
        device = jax.sharding.AbstractDevice(device_kind=kind, num_cores=cores, platform="gpu")
        mesh = jax.sharding.AbstractMesh(
            mesh.axis_sizes, mesh.axis_names, axis_types=mesh.axis_types, abstract_device=device
        )
    except (AttributeError, TypeError):  # a jax without abstract devices: nothing to set
        return contextlib.nullcontext()
    return jax.sharding.use_abstract_mesh(mesh)
