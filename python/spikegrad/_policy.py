"""Which implementation a spikegrad call runs on CPU: the lowering setting and
``auto``'s rule.

``native``  the Rust kernels, as XLA FFI custom calls, at every size.
``xla``     XLA-native code computing the same function (the code every other
            platform runs), which XLA fuses with the ops around it. For the
            fused neurons (``spikegrad.neuron``): the ``lax.scan`` form of the
            model, on every platform.
``pallas``  the fused neurons' Pallas kernels (``spikegrad.neuron._pallas``),
            in interpret mode on CPU; the surrogate ops have no Pallas kernel
            and run as under ``xla``.
``auto``    (default) per call site, the one measured faster in context
            (``docs/perf.md``, "Lowering policy"):

            * the step (forward) is XLA code: a comparison gains nothing from
              a custom call, which costs about 0.1 us per call and blocks
              fusion with the membrane update around it;
            * the gradient ``t * g'(x)`` is the Rust kernel for the
              surrogates whose arithmetic pays for the call
              (``NATIVE_GRAD_SURROGATES``) from ``GRAD_NATIVE_MIN_SIZE``
              elements up, XLA code otherwise: for the cheaper formulas XLA's
              fused code is as fast as the kernel and saves the call;
            * in bfloat16 the gradient is XLA code at every size
              (``XLA_GRAD_DTYPES``): in a ``lax.scan`` the custom call splits
              XLA's loop fusions.

On GPU (CUDA, ROCm) the fused neurons run their Pallas kernels only under
``pallas`` (an opt-in) while ``GPU_KERNELS_VALIDATED`` is False: until a
recorded device run has passed (``docs/perf.md``), ``auto`` and ``native``
give them the ``lax.scan`` form, as does ``auto`` where Pallas or its GPU
backend cannot be imported. The surrogate ops are XLA code there whatever
the value.

The setting is read when a spikegrad op is traced and bound to the primitive
as its static ``lowering`` parameter (visible in the jaxpr); ``auto`` is
resolved when the op is lowered, from the operand's size. The setting is part
of ``jit``'s cache key, so changing it never serves a program compiled under
another value.
"""

from __future__ import annotations

from ._settings import Setting

__all__ = [
    "LOWERING",
    "CHOICES",
    "GPU_KERNELS_VALIDATED",
    "RECURRENT_BPTT_KERNEL",
    "set_lowering",
    "get_lowering",
    "lowering",
    "resolve",
    "gpu_neuron_kernels",
]

CHOICES = ("auto", "native", "xla", "pallas")

LOWERING = Setting(
    "spikegrad_lowering",
    CHOICES,
    "auto",
    "Implementation of spikegrad ops on CPU: 'auto' (fastest measured in context), "
    "'native' (Rust FFI kernels), 'xla' (fusable XLA code) or 'pallas' (the fused neurons' "
    "Pallas kernels, interpreted; surrogate ops as 'xla').",
)

#: ``auto`` runs the gradient kernel from this many elements up (per call, not
#: per shard), for these surrogates only. Both chosen from the measurements in
#: docs/perf.md ("Lowering policy").
GRAD_NATIVE_MIN_SIZE = 256
NATIVE_GRAD_SURROGATES = frozenset({"multi_gaussian", "q_pseudo_spike", "squarewave_fourier_series"})
#: ``auto`` gives the gradient in these dtypes to XLA at every size: in a
#: ``lax.scan`` the kernel's custom call splits XLA's loop fusions (bf16 scan
#: gradient 0.48x-0.66x braintools with the kernel, 1.0x-1.3x as XLA code with
#: ``g'(x)`` kept in float32); isolated, XLA code is still 1.8x-2.4x
#: braintools there. float16 keeps the kernel: its XLA code is 0.8x-0.9x
#: braintools isolated (docs/perf.md, "Lowering policy").
XLA_GRAD_DTYPES = frozenset({"bfloat16"})
#: Whether the fused neurons' Pallas kernels have passed a recorded run on a
#: GPU (``scripts/device_check.sh``, numbers in docs/perf.md). They have not
#: yet run on a GPU, so on CUDA and ROCm ``auto`` and ``native`` lower the
#: fused neurons to the ``lax.scan`` form; ``pallas`` opts in to the kernels.
GPU_KERNELS_VALIDATED = False
#: Whether ``auto`` differentiates the recurrent fused neurons (``w_rec=``)
#: with their BPTT kernel: its ``jit(grad)`` measured 1.2x-2.0x the
#: ``lax.scan`` form's for LIF and ALIF, both surrogates, B = 64 and 256
#: (docs/perf.md, "Recurrent kernels: AVX-512 product tiles and spike
#: masks"). ``False`` would differentiate the scan form instead.
RECURRENT_BPTT_KERNEL = True


def set_lowering(value: str) -> None:
    """Set how spikegrad ops are implemented on CPU, for the whole process.

    Parameters
    ----------
    value : {"auto", "native", "xla", "pallas"}
        ``"auto"`` (default): per call site, the implementation measured
        faster in context; ``"native"``: the Rust kernels (XLA FFI custom
        calls); ``"xla"``: XLA code, which fuses with the ops around it (the
        fused neurons: their ``lax.scan`` form); ``"pallas"``: the fused
        neurons' Pallas kernels (interpreted on CPU), surrogate ops as ``"xla"``.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        For any other value, here.

    Examples
    --------
    >>> import spikegrad
    >>> spikegrad.set_lowering("xla")
    >>> spikegrad.get_lowering()
    'xla'
    >>> spikegrad.set_lowering("auto")  # the default
    """
    LOWERING.set(value)


def get_lowering() -> str:
    """The lowering setting in force in this thread.

    Returns
    -------
    str
        ``"auto"``, ``"native"``, ``"xla"`` or ``"pallas"``: the innermost
        ``lowering`` block's value, else the process-wide ``set_lowering`` one.

    Examples
    --------
    >>> import spikegrad
    >>> spikegrad.get_lowering()
    'auto'
    """
    return LOWERING.get()


def lowering(value: str):
    """Context manager (or decorator): the lowering setting inside a block, in this thread.

    The setting is read when an op is traced and is part of ``jit``'s cache
    key, so a function traced inside the block keeps its choice.

    Parameters
    ----------
    value : {"auto", "native", "xla", "pallas"}
        As for ``set_lowering``.

    Returns
    -------
    context manager
        Usable in a ``with`` statement or as a decorator.

    Raises
    ------
    ValueError
        For any other value, here.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> import spikegrad
    >>> spike_fn = spikegrad.surrogate.MultiGaussianGrad()
    >>> with spikegrad.lowering("native"):  # the Rust kernels, for this block
    ...     grad = jax.grad(lambda x: spike_fn(x).sum())(jnp.zeros(3))
    ...     print(spikegrad.get_lowering())
    native
    >>> print(grad.round(4))
    [0.4391 0.4391 0.4391]
    """
    return LOWERING(value)


def gpu_neuron_kernels(choice: str) -> bool:
    """Whether the fused neurons lower to their Pallas kernels on CUDA and
    ROCm under the setting value ``choice`` (else to the ``lax.scan`` form).

    Args:
      choice: a lowering setting value (``CHOICES``).

    Returns:
      True for ``"pallas"``; for ``"auto"`` and ``"native"``,
      ``GPU_KERNELS_VALIDATED``; False for ``"xla"``. Whether Pallas imports
      is checked when lowering (``spikegrad.neuron._lowering``).

    Example:
      >>> gpu_neuron_kernels("pallas"), gpu_neuron_kernels("xla")
      (True, False)
    """
    if choice == "pallas":
        return True
    if choice == "xla":
        return False
    return GPU_KERNELS_VALIDATED


def resolve(choice: str, op: str, surrogate: str, size: int, dtype=None) -> str:
    """``native`` or ``xla`` for a CPU call of ``op`` (``"spike"`` or
    ``"grad"``) with the named surrogate on ``size`` elements under the
    setting value ``choice`` (``pallas``: ``xla``, the surrogate ops have no
    Pallas kernel)."""
    if choice == "pallas":
        return "xla"
    if choice != "auto":
        return choice
    if not isinstance(size, int):  # symbolic (jax.export shape polymorphism): assume large
        size = GRAD_NATIVE_MIN_SIZE
    if op == "grad" and dtype is not None and str(dtype) in XLA_GRAD_DTYPES:
        return "xla"
    if op == "grad" and surrogate in NATIVE_GRAD_SURROGATES and size >= GRAD_NATIVE_MIN_SIZE:
        return "native"
    return "xla"
