"""Load the native module, check it against the running jaxlib, and register
its XLA FFI targets for the CPU platform (once, at import).

Every target is also registered as batch partitionable: under ``jit`` with
sharded inputs each device runs the call on its own shard (of elements, or of
neurons for the time-major ones; the lowerings in ``_partitioned_ffi`` set
the attributes)."""

from __future__ import annotations

import re

import jax
import jaxlib

from . import _native

__all__ = ["TARGETS", "BUILD_JAXLIB_VERSION"]

BUILD_JAXLIB_VERSION: str = _native.BUILD_JAXLIB_VERSION


def _version_tuple(text: str) -> tuple[int, ...]:
    """The leading numeric release of a version: "0.8.1rc2" -> (0, 8, 1)."""
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(piece):
            break
    return tuple(parts)


def _check_jaxlib() -> None:
    """The FFI ABI is forward-compatible only: headers newer than the running
    jaxlib can make XLA refuse the handlers (and with them the CPU backend).
    Refuse to load instead, naming both versions."""
    running = jaxlib.__version__
    built = BUILD_JAXLIB_VERSION
    if _version_tuple(built) and _version_tuple(running) < _version_tuple(built):
        raise ImportError(
            f"spikegrad was built against the XLA FFI headers of jaxlib {built}, "
            f"but jaxlib {running} is installed. jaxlib must be {built} or newer: "
            f"upgrade jaxlib (pip install -U 'jaxlib>={built}') or rebuild "
            f"spikegrad against jaxlib {running}."
        )


_check_jaxlib()

#: The FFI targets this build provides, by name.
_REGISTRATIONS = _native.registrations()
TARGETS: tuple[str, ...] = tuple(_REGISTRATIONS)

for _name, _capsule in _REGISTRATIONS.items():
    jax.ffi.register_ffi_target(_name, _capsule, platform="cpu")
    jax.ffi.register_ffi_target_as_batch_partitionable(_name)
