"""Process-wide settings that change what a traced program computes.

Each setting is a jax configuration state that is part of ``jit``'s cache key
and of the trace context: a program traced or compiled under one value is
never served under another. A setting is read at trace time with ``get()``,
changed for the whole process with ``set(value)``, or for a block with
``with setting(value): ...``. A bad value raises ``ValueError`` at the call
that sets it, never at import.
"""

from __future__ import annotations

from collections.abc import Sequence

from jax._src import config as _jax_config

__all__ = ["Setting"]


class Setting:
    """One named setting with a fixed set of string values."""

    def __init__(self, name: str, values: Sequence[str], default: str, help: str):
        self.name = name
        self.values = tuple(values)
        if default not in self.values:
            raise ValueError(f"spikegrad setting {name}: default {default!r} is not one of {self.values}")
        # Built directly rather than with jax's enum_state, which would also
        # read an environment variable at import and fail there on a bad value.
        self._state = _jax_config.State(
            name,
            default,
            help,
            parser=self._parse,
            include_in_jit_key=True,
            include_in_trace_context=True,
        )

    def _parse(self, value) -> str:
        if not isinstance(value, str) or value not in self.values:
            choices = ", ".join(repr(v) for v in self.values)
            raise ValueError(f"spikegrad setting {self.name} must be one of {choices}, got {value!r}")
        return value

    def get(self) -> str:
        """The value in force in this thread."""
        return self._state.value

    def set(self, value: str) -> None:
        """Set the process-wide value (a ``with`` block still overrides it)."""
        self._state._set(value)

    def __call__(self, value: str):
        """A context manager (or decorator) that sets the value in this thread."""
        return self._state(value)

    def __repr__(self) -> str:
        return f"Setting({self.name!r}, value={self.get()!r}, values={self.values})"
