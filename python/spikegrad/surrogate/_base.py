"""The generic class layer shared by every surrogate.

``Surrogate`` matches braintools' base class: calling an instance gives the
Heaviside step of ``x`` whose derivative is ``surrogate_grad(x)``. A user's
subclass that only defines ``surrogate_grad`` in jnp works under every JAX
transformation through the XLA-native path, as in braintools. Where braintools
0.3 and 0.4 differ (parameter and second derivatives, integer inputs, equality
of a user's subclass), the rules in force decide (``spikegrad._rules``).

``NativeSurrogate`` adds what a Rust-backed surrogate needs: its parameter
names, its native kernel name, its jnp formula, validation, repr, hash and
equality. A concrete surrogate is a subclass that sets ``_native_name``,
``_param_names`` and ``formula``, and spells out ``__init__`` with
braintools' defaults. ``functional(cls, name)`` makes its functional form.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ClassVar, Concatenate, ParamSpec

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .. import (
    _lowering,  # noqa: F401  (lowerings must be registered)
    _native,
)
from .._formulas import register_formula, xla_grad
from .._primitives import spike, surrogate_grad_apply, xla_spike
from .._rules import braintools_rules_in_force
from ._functional_doc import functional_doc

__all__ = ["Surrogate", "NativeSurrogate", "functional"]


def _is_real_dtype(dtype) -> bool:
    """Integer, bool or real floating (bfloat16 included); not complex, not object."""
    numeric = jnp.issubdtype(dtype, jnp.number) or dtype == np.bool_
    return numeric and not jnp.issubdtype(dtype, jnp.complexfloating)


def _as_input(x) -> jax.Array:
    """``x`` as a jax array; complex or non-numeric input is a TypeError."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"spikegrad surrogates take a real array, got {type(x).__name__}")
    try:
        arr = jnp.asarray(x)
    except TypeError as e:
        raise TypeError(
            f"spikegrad surrogates take a real (float, int or bool) array, got {type(x).__name__}: {e}"
        ) from None
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(
            f"spikegrad surrogates take a real array, got dtype {arr.dtype}; "
            "a spike threshold on complex values is undefined (pass x.real if that is meant)"
        )
    if not _is_real_dtype(arr.dtype):
        raise TypeError(f"spikegrad surrogates take a real array, got dtype {arr.dtype}")
    return arr


@jax.custom_jvp
def _step_with_grad(x, dx):
    """The step of x, whose tangent is ``tx * dx + tdx`` (braintools 0.3's rule)."""
    return xla_spike(x)


@_step_with_grad.defjvp
def _step_with_grad_jvp(primals, tangents):
    x, dx = primals
    tx, tdx = tangents
    # The primal step is recomputed with a plain comparison, whose own
    # derivative is zero: higher-order derivatives then drop d/dx step(x),
    # exactly as braintools' rule does (docs/braintools_versions.md).
    out = xla_spike(x)
    return out, (tx * dx + tdx).astype(out.dtype)


@jax.custom_jvp
def _step_with_surrogate(x, dx):
    """The step of x, whose tangent is ``tx * dx`` (braintools 0.4's rule)."""
    return xla_spike(x)


@_step_with_surrogate.defjvp
def _step_with_surrogate_jvp(primals, tangents):
    x, dx = primals
    tx, _ = tangents
    # The tangent of dx is dropped, so a derivative w.r.t. a surrogate parameter
    # is 0; dx is not stopped, so differentiating again gives g''(x).
    out = xla_spike(x)
    return out, (tx * dx).astype(out.dtype)


def _same_attribute(a, b) -> bool:
    """braintools 0.4's attribute equality: identical, or ``a == b`` is a plain
    True (so arrays, whose ``==`` is elementwise, compare by identity)."""
    if a is b:
        return True
    try:
        same = a == b
    except Exception:
        return False
    return isinstance(same, (bool, np.bool_)) and bool(same)


class Surrogate:
    """The base surrogate gradient function, as in ``braintools.surrogate``.

    Subclasses define ``surrogate_grad(x)`` (and, optionally,
    ``surrogate_fun(x)``). ``self(x)`` returns the Heaviside step of ``x``
    (1 where ``x >= 0``, NaN gives 0, in x's dtype and shape) whose derivative
    with respect to ``x`` is ``surrogate_grad(x)``. A subclass written in jnp
    runs through XLA code under every JAX transformation, as in braintools.
    Where braintools 0.3 and 0.4 differ (integer inputs, second derivatives,
    equality of instances), the rules in force decide
    (``spikegrad.braintools_rules_in_force``).

    Returns
    -------
    jax.Array
        Calling an instance, ``spike_fn(x)``, returns the step of ``x``.

    Raises
    ------
    TypeError
        At the call, for a complex or non-numeric ``x``.

    Examples
    --------
    A surrogate with a triangular ``g'``, written in jnp:

    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import Surrogate
    >>> class Triangle(Surrogate):
    ...     def surrogate_grad(self, x):
    ...         return jnp.maximum(0.0, 1.0 - jnp.abs(x))
    >>> x = jnp.array([-0.5, 0.0, 2.0])
    >>> print(Triangle()(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: Triangle()(x).sum())(x))
    [0.5 1.  0. ]
    """

    def __call__(self, x: ArrayLike) -> jax.Array:
        x = _as_input(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            if braintools_rules_in_force() == "0.3":
                # The step in x's dtype, no gradient (braintools 0.3).
                return xla_spike(x)
            x = x.astype(jnp.result_type(float))  # the default float (braintools 0.4)
        return self._spike(x)

    def _spike(self, x: jax.Array) -> jax.Array:
        if braintools_rules_in_force() == "0.3":
            dx = self.surrogate_grad(jax.lax.stop_gradient(x))
            return _step_with_grad(x, dx)
        return _step_with_surrogate(x, self.surrogate_grad(x))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        """The smooth function whose derivative is ``surrogate_grad``."""
        raise NotImplementedError

    def surrogate_grad(self, x: ArrayLike) -> jax.Array:
        """The surrogate derivative ``g'(x)``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # Equality of a user's subclass: by identity under braintools 0.3's rules;
    # by class and attributes under 0.4's, so that equal surrogates passed as a
    # static argument to jit share one compiled program.

    def __eq__(self, other):
        if braintools_rules_in_force() == "0.3":
            return self is other or NotImplemented
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = vars(self), vars(other)
        return mine.keys() == theirs.keys() and all(_same_attribute(v, theirs[k]) for k, v in mine.items())

    def __hash__(self):
        if braintools_rules_in_force() == "0.3":
            return object.__hash__(self)
        try:
            return hash((type(self), tuple(sorted(vars(self).items()))))
        except TypeError:  # an unhashable attribute (an array): the names only
            return hash((type(self), tuple(sorted(vars(self)))))


#: The input dtypes the native kernels take; other floats take the XLA path.
NATIVE_DTYPES = frozenset(jnp.dtype(d) for d in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64))


def _real_param(owner: str, name: str, v) -> np.ndarray:
    """A concrete parameter as a float64 array; TypeError unless real numbers."""
    try:
        arr = np.asarray(v)
        if _is_real_dtype(arr.dtype):
            return arr.astype(np.float64)
    except (TypeError, ValueError):
        pass
    raise TypeError(f"{owner}: parameter {name} must be a real number or array, got {v!r}")


def _static_value(v):
    """A Python float for a concrete scalar parameter, else None (traced or array)."""
    if isinstance(v, jax.core.Tracer):
        return None
    try:
        arr = np.asarray(v)
    except Exception:
        return None
    if arr.ndim != 0 or not _is_real_dtype(arr.dtype):
        return None
    return float(arr)


class NativeSurrogate(Surrogate):
    """A surrogate with a Rust kernel (CPU) and a jnp formula (other platforms).

    The base of the 18 built-in surrogates. Parameters that are concrete
    scalars (Python numbers, NumPy scalars, 0-d arrays) take the native path.
    Traced parameters (jit arguments, vmap over a parameter) and array
    parameters take the XLA-native path, which gives braintools' results
    including its gradient w.r.t. a parameter. Instances with equal
    parameters compare and hash equal, so ``jit`` reuses one program for them.
    A new built-in surrogate subclasses it (docs/architecture.md, "Adding a
    surrogate"); a user's own surrogate subclasses ``Surrogate`` instead.

    Parameters
    ----------
    **params : ArrayLike
        The parameters, by the names in ``_param_names``; concrete classes
        spell out braintools' signature and defaults.

    Returns
    -------
    jax.Array
        Calling an instance, ``spike_fn(x)``, returns the Heaviside step of ``x``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one the kernel rejects.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> from spikegrad.surrogate import NativeSurrogate, Sigmoid
    >>> issubclass(Sigmoid, NativeSurrogate)
    True
    >>> Sigmoid(alpha=2.0) == Sigmoid(alpha=2.0), Sigmoid(alpha=2.0)
    (True, Sigmoid(alpha=2.0))
    """

    #: Name of the Rust kernel (``_native.surrogates()``) and of the formula.
    _native_name: ClassVar[str]
    #: Parameter attribute names, in the order the kernel takes them.
    _param_names: ClassVar[tuple[str, ...]]
    #: Parameter names in the order ``repr`` shows them (braintools' order).
    _repr_names: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, **params: ArrayLike) -> None:
        """Store the parameters (in ``_param_names`` order) and validate them.

        Concrete classes spell out braintools' signature and defaults and pass
        them on: ``def __init__(self, alpha=4.0): super().__init__(alpha=alpha)``.
        """
        super().__init__()
        for name, value in params.items():
            setattr(self, name, value)
        if params:
            self._validate()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_native_name" in cls.__dict__:
            native = _native.surrogates().get(cls._native_name)
            if native is None:
                raise TypeError(f"{cls.__name__}: no native kernel named {cls._native_name!r}")
            if tuple(native) != tuple(cls._param_names):
                raise TypeError(
                    f"{cls.__name__}: parameters {cls._param_names} differ from the kernel's {tuple(native)}"
                )
            register_formula(cls._native_name, cls.lowering_formula)

    @staticmethod
    def formula(x, *params):
        """``g'(x)`` in jnp for the given parameters (braintools' expression)."""
        raise NotImplementedError

    @classmethod
    def lowering_formula(cls, x, *params):
        """``g'(x)`` as the XLA lowering computes it (CPU under the ``xla``
        setting, GPU, TPU): ``formula``, unless a class needs a more accurate
        form to stay within the kernel's accuracy budget."""
        return cls.formula(x, *params)

    # ---- parameters ------------------------------------------------------

    def _param_values(self) -> tuple:
        return tuple(getattr(self, n) for n in self._param_names)

    def _static_params(self) -> tuple[float, ...] | None:
        values = tuple(_static_value(v) for v in self._param_values())
        return None if any(v is None for v in values) else values

    def _validate(self) -> None:
        """TypeError for a non-real parameter, ValueError for a bad concrete
        value (non-finite, out of range), checked by the kernel's own rules."""
        concrete = []
        for name, v in zip(self._param_names, self._param_values()):
            if isinstance(v, jax.core.Tracer):
                concrete.append(None)
                continue
            arr = _real_param(type(self).__name__, name, v)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{type(self).__name__}: parameter {name} must be finite, got {v!r}")
            concrete.append(arr)
        for values in self._value_combinations(concrete):
            try:
                _native.check_params(self._native_name, values)
            except ValueError as e:
                raise ValueError(f"{type(self).__name__}: {e}") from None

    def _value_combinations(self, concrete):
        """Each distinct parameter combination the concrete values produce
        (array parameters broadcast together); a traced parameter stands in
        as its default, which is valid."""
        defaults = inspect.signature(type(self).__init__).parameters
        columns = []
        for name, arr in zip(self._param_names, concrete):
            if arr is None:
                default = defaults[name].default if name in defaults else inspect.Parameter.empty
                if default is inspect.Parameter.empty:
                    return []
                arr = np.asarray(default, dtype=np.float64)
            columns.append(arr)
        try:
            columns = np.broadcast_arrays(*columns)
        except ValueError:
            return []  # array shapes that only meet x at call time: nothing to combine
        rows = np.unique(np.stack([c.ravel() for c in columns], axis=1), axis=0)
        return [[float(v) for v in row] for row in rows]

    # ---- the op ------------------------------------------------------------

    def _spike(self, x: jax.Array) -> jax.Array:
        static = self._static_params()
        if static is None or x.dtype not in NATIVE_DTYPES:
            return super()._spike(x)  # traced parameters, or a float the kernels lack (float8)
        return spike(x, self._native_name, static)

    def surrogate_grad(self, x: ArrayLike) -> jax.Array:
        """``g'(x)``: on the native path the same kernel as ``jax.grad(self)``
        runs (so the two agree bit for bit); differentiable in ``x`` (g'')."""
        x = _as_input(x)
        static = self._static_params()
        if static is None or x.dtype not in NATIVE_DTYPES:
            return self.formula(x, *self._param_values())
        return _native_surrogate_grad(x, self._native_name, static)

    # ---- identity ------------------------------------------------------------

    def __repr__(self) -> str:
        names = self._repr_names or self._param_names
        args = ", ".join(f"{n}={getattr(self, n)}" for n in names)
        return f"{type(self).__name__}({args})"

    def _key(self):
        """The class and the parameters in repr order (array or traced ones by identity)."""
        names = self._repr_names or self._param_names
        static = (_static_value(getattr(self, n)) for n in names)
        values = tuple(v if v is not None else id(getattr(self, n)) for n, v in zip(names, static))
        return (type(self), *values)

    def __hash__(self) -> int:
        # braintools hashes (class, *parameters in repr order); so does this.
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _native_surrogate_grad(x, name, params):
    return surrogate_grad_apply(x, jnp.ones_like(x), name, params)


@_native_surrogate_grad.defjvp
def _native_surrogate_grad_jvp(name, params, primals, tangents):
    (x,), (tx,) = primals, tangents
    # g''(x) from the jnp formula, under either rule set: braintools'
    # surrogate_grad is a plain jnp function, differentiable in x.
    _, dg = jax.jvp(lambda x_: xla_grad(x_, jnp.ones_like(x_), surrogate=name, params=params), (x,), (tx,))
    return _native_surrogate_grad(x, name, params), dg


_P = ParamSpec("_P")


def functional(cls: Callable[_P, NativeSurrogate], name: str) -> Callable[Concatenate[ArrayLike, _P], jax.Array]:
    """The functional form of a surrogate class, as braintools has for each:
    ``name(x, *params)`` is ``cls(*params)(x)``, with the class's signature
    (for type checkers too: ``x`` then the parameters of ``cls.__init__``)."""

    def spike_function(x: ArrayLike, *args: _P.args, **kwargs: _P.kwargs) -> jax.Array:
        return cls(*args, **kwargs)(x)

    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    x = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="ArrayLike")
    spike_function.__signature__ = inspect.Signature([x, *params], return_annotation="jax.Array")
    spike_function.__name__ = spike_function.__qualname__ = name
    spike_function.__module__ = "spikegrad.surrogate"
    spike_function.__doc__ = functional_doc(cls.__name__, name, [(p.name, repr(p.default)) for p in params])
    return spike_function
