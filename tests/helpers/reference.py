"""Independent references for the tests: each surrogate's g'(x) written from
its published formula in float64 NumPy (not from spikegrad's code), the exact
Heaviside step, and the comparison of a result against them by dtype.

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
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

F32_TINY = float(np.finfo(np.float32).tiny)
F64_TINY = float(np.finfo(np.float64).tiny)
HALF_DTYPES = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def _pdf(x, mu, sd):
    return np.exp(-((x - mu) ** 2) / (2.0 * sd * sd)) / (math.sqrt(2.0 * math.pi) * sd)


def multi_gaussian(x, h=0.15, s=6.0, sigma=0.5, scale=0.5):
    """g'(x) of MultiGaussianGrad (Yin, Corradi & Bohte 2021) in float64."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        center = (1.0 + h) * _pdf(x, 0.0, sigma)
        sides = h * _pdf(x, sigma, s * sigma) + h * _pdf(x, -sigma, s * sigma)
        return scale * (center - sides)


def gaussian(x, sigma=0.5, alpha=0.5):
    """g'(x) of GaussianGrad in float64."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return alpha * _pdf(x, 0.0, sigma)


#: Class name -> (float64 formula, default keyword parameters).
FORMULAS = {
    "MultiGaussianGrad": (multi_gaussian, dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)),
    "GaussianGrad": (gaussian, dict(sigma=0.5, alpha=0.5)),
}


def peak(formula, **params) -> float:
    """max |g'(x)| over a grid wide enough for every Gaussian's bulk."""
    width = 4.0 * max(abs(float(v)) for v in params.values()) + 4.0
    xs = np.linspace(-width, width, 40001)
    return float(np.nanmax(np.abs(formula(xs, **params))))


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


def assert_matches(got, want, t_abs, g_peak, where="") -> None:
    """Check ``got`` (any float dtype) against the float64 reference ``want``
    of ``t * g'(x)``; ``t_abs`` is ``|t|`` (broadcastable), ``g_peak`` is
    ``max|g'|``."""
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
    t_abs = np.broadcast_to(np.abs(np.asarray(t_abs, dtype=np.float64)), want.shape)
    budget = t_abs * g_peak
    got64 = as_f64(got)
    finite = _check_special(got64, want, where)
    g, w, b, ta = got64[finite], want[finite], budget[finite], t_abs[finite]
    dtype = got.dtype
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
            f"first: got {g[i]!r}, want {w[i]!r} (budget {b[i]!r})"
        )
