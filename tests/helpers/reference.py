"""Comparison against the independent references: the exact Heaviside step,
the scale of g' (``peak``), and ``assert_matches``, the one comparison of a
result with its float64 reference. The references themselves (each
surrogate's g'(x) written from its published formula in float64 NumPy, not
from spikegrad's code) are in ``family.py``; ``multi_gaussian`` and
``gaussian`` here are shorthands for two of them. ``assert_trees_equal`` is
the bit-for-bit comparison of two results (pytrees) that must be the same.

Tolerances (``assert_matches``), for ``y = t * g'(x)`` against the float64
value ``want`` and ``budget = |t| * max|g'|``:

* float64: ``|y - want| <= 1e-12 |want| + 1e-15 budget`` (the absolute part
  only matters where g' crosses zero and its terms cancel);
* float32: ``|y - want| <= 2e-6 budget``;
* float16 / bfloat16: at most 1 ulp of the type from ``want`` rounded to the
  type. Two documented exceptions, both bounded: the kernels compute halves in
  float32 and round once, so where the result is far below the scale of g'
  (a zero crossing) the float32 rounding noise ``4 ulp_f32(max|g'|) |t|`` is
  allowed.

Subnormal results: the kernels produce none (the exp flushes below the
smallest normal number of the computing type, and XLA runs CPU code with
denormals flushed to zero), so in every dtype a result whose reference is
below ``4 * tiny * max(1, |t|) * max(1, max|g'|)`` may be 0, where ``tiny`` is
the smallest normal float64 for float64 and the smallest normal float32
(1.2e-38) otherwise. This matters for bfloat16, which has float32's exponent
range plus subnormals, and for float32 and float64 with tiny cotangents.

Where ``want`` is NaN the result must be NaN; where it is finite the result
must be finite; infinities must match exactly.

With an explicit ``tol`` (absolute, broadcastable) that tolerance replaces the
dtype's rule, and the subnormal allowance does not apply.
"""

from __future__ import annotations

import jax
import ml_dtypes
import numpy as np

from .family import reference

F32_TINY = float(np.finfo(np.float32).tiny)
F64_TINY = float(np.finfo(np.float64).tiny)
HALF_DTYPES = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def multi_gaussian(x, **params) -> np.ndarray:
    """g'(x) of MultiGaussianGrad in float64 (``family.REFERENCES``' formula)."""
    return reference("MultiGaussianGrad", x, params)


def gaussian(x, **params) -> np.ndarray:
    """g'(x) of GaussianGrad in float64 (``family.REFERENCES``' formula)."""
    return reference("GaussianGrad", x, params)


def across(params) -> np.ndarray:
    """x across the bulk of every term of a surrogate with these parameters:
    [-w, w] with w = 4 max|parameter| + 4 (every Gaussian's bulk included)."""
    width = 4.0 * max((abs(float(v)) for v in params.values()), default=0.0) + 4.0
    return np.linspace(-width, width, 40001)


def peak(values) -> float:
    """The largest finite |value|: the scale of the absolute tolerances.

    For the peak of g' itself, pass its values over ``across(params)``."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def heaviside(x) -> np.ndarray:
    """1 where x >= 0 (-0.0 included), 0 where x < 0 or NaN, in x's dtype.
    A negative subnormal steps to 1 (XLA on CPU reads subnormal inputs as
    zero), except in float16, which is computed in float32 where its
    subnormals are normal numbers."""
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    step = x64 >= 0
    if np.issubdtype(x.dtype, np.floating) or x.dtype in HALF_DTYPES:
        if x.dtype != np.float16:
            step |= np.abs(x64) < float(ml_dtypes.finfo(x.dtype).smallest_normal)
    return step.astype(x.dtype)


def as_f64(a) -> np.ndarray:
    return np.asarray(a).astype(np.float64)


def ordered_ints(a) -> np.ndarray:
    """Float bits mapped to integers that are monotone in the value (-0 == +0)."""
    a = np.asarray(a)
    bits = a.view({2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]).astype(np.int64)
    sign = np.int64(1) << (8 * a.dtype.itemsize - 1)
    return np.where(bits < 0, -(bits & (sign - 1)), bits)


def ulp_distance(a, b) -> np.ndarray:
    """Number of representable values between a and b (same float dtype)."""
    return np.abs(ordered_ints(a) - ordered_ints(b))


def _check_special(got64, want, where):
    nan_want = np.isnan(want)
    assert np.array_equal(np.isnan(got64), nan_want), f"{where}: NaN pattern differs"
    inf_want = np.isinf(want)
    assert np.array_equal(got64[inf_want], want[inf_want]), f"{where}: infinities differ"
    return np.isfinite(want)


def assert_matches(got, want, t_abs=None, g_peak=None, where="", *, tol=None) -> None:
    """Check ``got`` (any float dtype) against the float64 reference ``want``
    of ``t * g'(x)``; ``t_abs`` is ``|t|`` (broadcastable), ``g_peak`` is
    ``max|g'|``. With ``tol``, within that absolute tolerance instead."""
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
    got64 = as_f64(got)
    finite = _check_special(got64, want, where)
    g, w = got64[finite], want[finite]
    dtype = got.dtype
    if tol is not None:
        b = np.broadcast_to(np.asarray(tol, dtype=np.float64), want.shape)[finite]
        ok = np.abs(g - w) <= b
    else:
        t_abs = np.broadcast_to(np.abs(np.asarray(t_abs, dtype=np.float64)), want.shape)
        b, ta = (t_abs * g_peak)[finite], t_abs[finite]
        if dtype == np.float64:
            ok = np.abs(g - w) <= 1e-12 * np.abs(w) + 1e-15 * b
        elif dtype == np.float32:
            ok = np.abs(g - w) <= 2e-6 * b
        elif dtype in HALF_DTYPES:
            rounded = want.astype(dtype)[finite]
            # the rounded reference may overflow the type where want is near its max
            ok = ulp_distance(got[finite], rounded) <= 1
            ok |= np.abs(g - w) <= 4 * np.spacing(np.float32(1.0)) * b
        else:
            raise AssertionError(f"{where}: unexpected dtype {dtype}")
        tiny = F64_TINY if dtype == np.float64 else F32_TINY
        ok |= (g == 0) & (np.abs(w) <= 4 * tiny * np.maximum(ta, 1.0) * max(1.0, g_peak))
    if not np.all(ok):
        i = np.flatnonzero(~ok)[0]
        raise AssertionError(
            f"{where}: {np.count_nonzero(~ok)} of {ok.size} {dtype} elements off; "
            f"first: got {g[i]!r}, want {w[i]!r} (allowed {'error' if tol is not None else 'budget'} {b[i]!r})"
        )


def assert_trees_equal(got, want, err_msg: str = "") -> None:
    """Every leaf of ``got`` equals ``want``'s bit for bit (NaN equal to NaN),
    the trees having the same leaves."""
    for u, v in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v), err_msg=err_msg)
