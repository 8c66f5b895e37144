"""Property tests (hypothesis) for every native surrogate with a float64
reference: random shapes (0-d to 4-d, empty, lengths around the SIMD widths
and around the threading threshold), dtypes, parameters over their valid
ranges, and inputs with NaN, +-inf, +-0, subnormals and huge magnitudes.

Checked on every example, against float64 NumPy (helpers/family.py):
* forward: bit-exact Heaviside, right dtype and shape;
* reverse (vjp with a random cotangent): within the dtype's tolerance, no
  NaN/inf where the reference is finite, right dtype and shape;
* every output element is written: outputs land in a donated buffer filled
  with a sentinel NaN (poisoned.py), and no sentinel may survive;
* forward mode (jvp) gives bit-for-bit the reverse-mode result.

These are properties of the Rust kernels, so they run under the ``native``
lowering setting (test_lowering.py and the family tests cover ``xla`` and
``auto``).

Examples per test come from the hypothesis profile (conftest.py).
"""

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from helpers import poisoned
from helpers.family import reference
from helpers.reference import across, assert_matches, heaviside, peak
from helpers.x64 import enable_x64
from hypothesis import event, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import spikegrad
import spikegrad.surrogate as surrogate

CHUNK = 1 << 15  # the shim's minimum elements per thread chunk
DTYPES = [np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32), np.dtype(np.float64)]

#: An overall amplitude: 0, or |a| in [1e-30, 5]. Amplitudes near 1e-37 put the
#: whole gradient at float32's flush-to-zero threshold (XLA runs CPU code with
#: denormals flushed), where no float32 computation keeps relative accuracy.
amplitudes = st.one_of(st.just(0.0), st.floats(1e-30, 5.0), st.floats(-5.0, -1e-30))

#: Valid parameter ranges per surrogate (widths strictly positive).
PARAM_STRATEGIES = {
    "MultiGaussianGrad": dict(
        h=st.floats(-1.0, 2.0),
        s=st.floats(0.05, 20.0),
        sigma=st.floats(0.01, 10.0),
        scale=amplitudes,
    ),
    "GaussianGrad": dict(sigma=st.floats(0.01, 10.0), alpha=amplitudes),
}
NAMES = [n for n in PARAM_STRATEGIES if hasattr(surrogate, n)]

shapes = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7),
    st.integers(0, 140).map(lambda n: (n,)),  # every length around 8/16/32/64/128
    st.sampled_from([(2 * CHUNK + k,) for k in (-3, -1, 0, 1, 5, 63, 65)] + [(3 * CHUNK + 5,), (3, CHUNK + 1)]),
)


def special_values(dtype):
    info = ml_dtypes.finfo(dtype)
    tiny, smallest = float(info.tiny), float(info.smallest_subnormal)
    return [
        np.nan,
        np.inf,
        -np.inf,
        0.0,
        -0.0,
        smallest,
        -smallest,
        tiny,
        -tiny,
        float(info.max),
        -float(info.max),
        1e4,
        -1e4,
    ]


def x_elements(dtype):
    """Ordinary values at every scale plus the special ones (for the dtype)."""
    width = {np.dtype(np.float16): 16, np.dtype(np.float64): 64}.get(dtype, 32)
    return st.one_of(
        st.floats(-8.0, 8.0, width=width),
        st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.sampled_from(special_values(dtype)),
    )


def t_elements(dtype):
    width = {np.dtype(np.float16): 16, np.dtype(np.float64): 64}.get(dtype, 32)
    return st.floats(-1e3, 1e3, width=width)


@st.composite
def cases(draw):
    name = draw(st.sampled_from(NAMES))
    params = {k: draw(v) for k, v in PARAM_STRATEGIES[name].items()}
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    # `fill` keeps large arrays cheap to draw: one fill value plus scattered draws
    x = draw(hnp.arrays(np.float64, shape, elements=x_elements(dtype), fill=x_elements(dtype)))
    t = draw(hnp.arrays(np.float64, shape, elements=t_elements(dtype), fill=t_elements(dtype)))
    with np.errstate(over="ignore"):  # values beyond the dtype's range become inf: wanted
        return name, params, x.astype(dtype), t.astype(dtype)


def make(name, params):
    return getattr(surrogate, name)(**params)


def vjp_fn(f):
    return lambda x, t: jax.vjp(f, x)[1](t)[0]


@given(cases())
def test_forward_and_vjp_match_float64_reference(case):
    name, params, x, t = case
    note(f"{name}({params}) dtype={x.dtype} shape={x.shape}")
    event(f"dtype {x.dtype}")
    event("threaded size" if x.size >= 2 * CHUNK - 3 else "empty" if x.size == 0 else "small size")
    f = make(name, params)
    with enable_x64(), spikegrad.lowering("native"):
        y = poisoned.call(f, jnp.asarray(x))
        g = poisoned.call(vjp_fn(f), jnp.asarray(x), jnp.asarray(t))
    assert y.dtype == x.dtype and y.shape == x.shape
    assert y.tobytes() == heaviside(x).tobytes()
    assert g.dtype == x.dtype and g.shape == x.shape
    t64 = t.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want = t64 * reference(name, x, params)
    g_peak = peak(reference(name, across(params), params))
    assert_matches(g, want, t64, g_peak, f"{name} {x.dtype}")


@given(cases())
def test_jvp_equals_vjp_bitwise(case):
    name, params, x, t = case
    f = make(name, params)
    with enable_x64(), spikegrad.lowering("native"):
        xj, tj = jnp.asarray(x), jnp.asarray(t)
        y, ty = jax.jvp(f, (xj,), (tj,))
        g = vjp_fn(f)(xj, tj)
    assert np.asarray(y).tobytes() == heaviside(x).tobytes()
    assert np.asarray(ty).tobytes() == np.asarray(g).tobytes()
