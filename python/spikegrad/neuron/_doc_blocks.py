"""Docstring text shared by the fused neurons' functions and modules.

A docstring line that holds only ``{name}`` stands for the block ``name``
below, indented as that line (``fill``). Plain Python without imports: the
docs build loads this file alone (docs/griffe_neuron_docs.py) and fills the
same lines there.
"""

from __future__ import annotations

import re

BLOCKS = {
    # The functions (spikegrad.neuron.lif and the others).
    "x": """\
x : ArrayLike
    The time-major input ``[T, *shape]``, float16, bfloat16, float32 or
    float64 (half precision is computed in float32).""",
    "dt": """\
dt : float or ArrayLike
    The time step. It and every parameter below may be a Python or NumPy
    scalar, a per-neuron array broadcastable to ``shape``, or a traced
    value (a ``jit`` argument, a ``brainstate.ParamState``'s value): all
    run the fused kernels and are differentiable.""",
    "keywords": """\
spk_fun : Surrogate or callable, optional
    The spike function: a ``spikegrad.surrogate`` instance (default
    ``ReluGrad()``, as brainpy.state) runs the fused kernels; any other
    callable runs the same update as a ``lax.scan``.
spk_reset : {"soft", "hard"}, default "soft"
    ``"soft"`` subtracts at a spike, ``"hard"`` sets the reset potential, as
    the step above says (the hard reset's factor is not differentiated with
    respect to ``V``).
save_every : int, optional
    The BPTT checkpoint stride ``K``: a gradient's forward pass keeps the
    states every ``K`` steps and the backward pass recomputes the steps in
    between (1: every step saved; None: ``DEFAULT_SAVE_EVERY``, 16).
w_rec : ArrayLike, optional
    The recurrent weight ``[n, n]``, ``n = shape[-1]``, float16,
    bfloat16, float32 or float64 (computed in the states' dtype): each
    step's input becomes ``x_t + s_prev @ w_rec``, ``s_prev`` the spike
    of the state the step starts from (at ``t = 0``, of the initial
    state). Differentiable. On CPU the sequence runs in one fused
    recurrent kernel (docs/neurons.md), elsewhere as a ``lax.scan``.
    None (default): a feed-forward neuron.""",
    "type_error": """\
TypeError
    For an ``x``, initial state, parameter or ``w_rec`` that is not a real
    (floating) array or number, or a ``spk_fun`` that is not callable.""",
    # The brainstate modules (spikegrad.neuron.LIF and the others).
    "module_keywords": """\
spk_fun : Surrogate or callable, optional
    The spike function (default ``ReluGrad()``, as brainpy.state).
spk_reset : {"soft", "hard"}, default "soft"
    The reset, as in the function.
name : str, optional
    The module's name.
save_every : int, optional
    The BPTT checkpoint stride, as in the function.
w_rec : ArrayLike, callable or brainstate.ParamState, optional
    The recurrent weight ``[n, n]``, ``n = in_size[-1]``, as in the
    function: an array, an initializer called as ``init((n, n))`` (e.g. a
    braintools initializer) or a ``brainstate.ParamState``; held as
    ``self.w_rec``, a ``ParamState`` that ``brainstate.transform.grad``
    trains. None (default): feed-forward.""",
    "module_call": """\
Returns
-------
jax.Array
    Calling the module with ``x`` ``[T, *batch, *in_size]`` (after
    ``init_state(batch_size)``) returns the spikes ``[T, ...]`` and leaves
    the states at the last step. ``dt`` comes from ``brainstate.environ``.

Raises
------
TypeError, ValueError
    For a bad ``spk_reset`` or ``w_rec`` here; bad parameters and inputs
    raise at the call, as in the function.""",
}

_PLACEHOLDER = re.compile(r"^(\s*)\{(\w+)\}\s*$")


def fill(doc: str) -> str:
    """``doc`` with each placeholder line replaced by its block, indented as the line."""

    def expand(line: str) -> str:
        match = _PLACEHOLDER.match(line)
        if match is None:
            return line
        indent, name = match.groups()
        return "\n".join(indent + text if text else text for text in BLOCKS[name].split("\n"))

    return "\n".join(expand(line) for line in doc.split("\n"))


def filled(obj):
    """Decorator: fills ``obj``'s docstring in place and returns ``obj``."""
    obj.__doc__ = fill(obj.__doc__)
    return obj
