"""Type stub of ``spikegrad._native``, the Rust extension module (src/python.rs)."""

from typing_extensions import CapsuleType

def registrations() -> dict[str, CapsuleType]:
    """FFI target name -> handler capsule, for ``jax.ffi.register_ffi_target``."""

def surrogates() -> dict[str, list[str]]:
    """Native surrogate name -> its parameter names, in the order the kernel takes them."""

def check_params(surrogate: str, params: list[float]) -> None:
    """Validate parameters exactly as the kernels will; ``ValueError`` if they are bad."""

def check_neuron(model: str, surrogate: str, params: list[float], hard_reset: bool, stride: int) -> None:
    """Validate a fused-neuron model name, surrogate and checkpoint stride exactly as the kernels will;
    ``ValueError`` if one is bad."""

def neuron_models() -> dict[str, tuple[list[str], list[str]]]:
    """Fused neuron model name -> (state names, kernel constant names), in the kernels' order."""

#: The jaxlib whose XLA FFI headers the extension was compiled against.
BUILD_JAXLIB_VERSION: str
#: The XLA FFI API version of those headers, "major.minor".
BUILD_FFI_API_VERSION: str
#: The package version (Cargo.toml's, compiled in).
__version__: str
