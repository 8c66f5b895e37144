"""Which braintools release's rules spikegrad follows: 0.3 or 0.4.

braintools 0.4 changed four things in its base class (the surrogates and their
formulas are unchanged); see docs/braintools_versions.md:

* the derivative of a spike w.r.t. a surrogate parameter is 0 (0.3: dg'/dparam);
* second derivatives differentiate the surrogate again: d2 spike/dx2 = g''(x)
  (0.3: 0);
* integer, bool and Python-int inputs become the default float dtype (0.3: the
  step in the input's dtype, without a gradient);
* instances of a user's ``Surrogate`` subclass compare and hash by value
  (0.3: by identity).

By default (``"auto"``) the rules follow the braintools release installed,
read from the package metadata (braintools is never imported): 0.4 rules for
braintools >= 0.4, 0.3 rules for older releases, the newest rules without
braintools. ``set_braintools_rules`` overrides that for the process and
``braintools_rules`` for a ``with`` block; the setting is part of ``jit``'s
cache key, so a program traced under one rule set is never served under the
other.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re

from ._settings import Setting

__all__ = [
    "NEWEST",
    "RULES",
    "braintools_rules",
    "braintools_rules_in_force",
    "detected_rules",
    "set_braintools_rules",
]

#: The rule sets, oldest first.
RULES = ("0.3", "0.4")
NEWEST = RULES[-1]

_setting = Setting(
    "spikegrad_braintools_rules",
    ("auto", *RULES),
    "auto",
    "Which braintools release's autodiff and dtype rules spikegrad follows: "
    "'0.3', '0.4', or 'auto' (the installed braintools release, the newest without one).",
)


@functools.cache
def detected_rules() -> str:
    """The rule set of the installed braintools release (cached for the process)."""
    try:
        version = importlib.metadata.version("braintools")
    except importlib.metadata.PackageNotFoundError:
        return NEWEST
    match = re.match(r"\s*v?(\d+)\.(\d+)", version)
    if match is None:  # an unreadable version string: assume a current release
        return NEWEST
    return "0.4" if (int(match[1]), int(match[2])) >= (0, 4) else "0.3"


def braintools_rules_in_force() -> str:
    """The braintools rules in force in this thread now.

    Returns
    -------
    str
        ``"0.3"`` or ``"0.4"``: the innermost ``braintools_rules`` block's
        value, else the process-wide setting, and under ``"auto"`` (the
        default) the installed braintools release's (``"0.4"`` without one).

    Examples
    --------
    >>> import spikegrad
    >>> with spikegrad.braintools_rules("0.3"):
    ...     spikegrad.braintools_rules_in_force()
    '0.3'
    """
    value = _setting.get()
    return detected_rules() if value == "auto" else value


def set_braintools_rules(value: str) -> None:
    """Follow braintools 0.3's or 0.4's rules for the whole process.

    The rules differ in the derivative w.r.t. a surrogate parameter, second
    derivatives, integer inputs and the equality of a user's ``Surrogate``
    subclass (docs/braintools_versions.md). The setting is part of ``jit``'s
    cache key.

    Parameters
    ----------
    value : {"auto", "0.3", "0.4"}
        ``"auto"`` (the default) follows the installed braintools release,
        read from the package metadata (the newest rules without braintools).

    Returns
    -------
    None

    Raises
    ------
    ValueError
        For any other value, here.

    Examples
    --------
    >>> import jax
    >>> import spikegrad
    >>> spike_fn = spikegrad.surrogate.Sigmoid(alpha=3.0)
    >>> spikegrad.set_braintools_rules("0.4")  # second derivatives give g''(x)
    >>> print(round(float(jax.grad(jax.grad(spike_fn))(0.3)), 4))
    -0.7803
    >>> spikegrad.set_braintools_rules("auto")
    """
    _setting.set(value)


def braintools_rules(value: str):
    """A context manager (or decorator) that sets the braintools rules in this thread.

    Parameters
    ----------
    value : {"auto", "0.3", "0.4"}
        As for ``set_braintools_rules``.

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
    >>> import spikegrad
    >>> spike_fn = spikegrad.surrogate.Sigmoid(alpha=3.0)
    >>> with spikegrad.braintools_rules("0.3"):  # second derivatives are 0
    ...     print(float(jax.grad(jax.grad(spike_fn))(0.3)))
    0.0
    """
    return _setting(value)


def differentiates_surrogate() -> bool:
    """Whether a second derivative differentiates g' again (0.4 rules)."""
    return braintools_rules_in_force() != "0.3"
