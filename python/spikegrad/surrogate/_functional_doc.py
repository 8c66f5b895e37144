"""The docstring of a surrogate's functional form (``sigmoid`` for ``Sigmoid``).

One template, used twice: ``functional()`` in ``_base.py`` sets it as the
function's ``__doc__``, and the docs build (docs/griffe_functional.py) loads
this file alone, without importing spikegrad, to show the same text in the
API reference. It therefore imports nothing.
"""

from __future__ import annotations


def functional_doc(class_name: str, name: str, params: list[tuple[str, str]]) -> str:
    """The numpy-style docstring of ``name``, the functional form of ``class_name``.

    Parameters
    ----------
    class_name : str
        The surrogate class, e.g. ``"Sigmoid"``.
    name : str
        Its functional form, e.g. ``"sigmoid"``.
    params : list of (str, str)
        The class's parameters in signature order: name and default, as source text.

    Returns
    -------
    str
        The docstring.

    Examples
    --------
    >>> print(functional_doc("Sigmoid", "sigmoid", [("alpha", "4.0")]).splitlines()[0])
    Spike function with the Sigmoid surrogate gradient: ``sigmoid(x, alpha=4.0)`` is ``Sigmoid(alpha=4.0)(x)``.
    """
    args = ", ".join(f"{p}={default}" for p, default in params)
    call = f"{name}(x, {args})" if args else f"{name}(x)"
    param_lines = "".join(
        f"{p} : ArrayLike, default {default}\n    As for ``{class_name}``: a scalar, an array or a traced value.\n"
        for p, default in params
    )
    return f"""Spike function with the {class_name} surrogate gradient: ``{call}`` is ``{class_name}({args})(x)``.

Parameters
----------
x : ArrayLike
    A real array of any shape and dtype, e.g. a membrane potential minus its threshold.
{param_lines}
Returns
-------
jax.Array
    The Heaviside step of ``x`` (1 where ``x >= 0``, else 0) in ``x``'s shape, whose derivative
    is ``{class_name}``'s surrogate ``g'(x)``.

Raises
------
ValueError
    For a concrete parameter value ``{class_name}`` rejects (non-finite, or out of its range).
TypeError
    For a complex or non-numeric ``x`` or parameter.

Examples
--------
>>> import jax.numpy as jnp
>>> from spikegrad.surrogate import {name}
>>> {name}(jnp.array([-1.0, 0.0, 2.0]))
Array([0., 1., 1.], dtype=float32)
"""
