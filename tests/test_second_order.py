"""Second derivatives follow the installed braintools release's rule (0.3:
the surrogate is not differentiated again; 0.4: it is), and an outer
derivative of the step's primal output is dropped. Checked against braintools
itself on compositions where the choices differ (x * spike(x), sin(x) *
spike(x), ...)."""

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikegrad
import spikegrad.surrogate as sg

pytestmark = pytest.mark.braintools_rules

COMPOSITIONS = {
    "sum": lambda f, x: f(x).sum(),
    "x_times_spike": lambda f, x: (x * f(x)).sum(),
    "sin_times_spike": lambda f, x: (jnp.sin(x) * f(x)).sum(),
    "spike_of_sin_times_x2": lambda f, x: (f(jnp.sin(x)) * x**2).sum(),
    "spike_squared": lambda f, x: (f(x) ** 2).sum(),
    "spike_times_spike_shifted": lambda f, x: (f(x) * f(x - 0.2) * jnp.cos(x)).sum(),
}

X = jnp.array([-1.3, -0.5, -0.1, 0.0, 0.2, 0.7, 2.5], dtype=jnp.float32)


@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
@pytest.mark.parametrize("cls", ["MultiGaussianGrad", "GaussianGrad", "Sigmoid", "PiecewiseQuadratic"])
@pytest.mark.parametrize("how", ["hessian", "jacfwd_grad", "jacrev_jacrev", "grad_grad"])
def test_second_derivatives_match_braintools(name, cls, how):
    comp = COMPOSITIONS[name]
    ours, theirs = getattr(sg, cls)(), getattr(bt, cls)()

    def second(f):
        loss = lambda x: comp(f, x)
        if how == "hessian":
            return jnp.diagonal(jax.hessian(loss)(X))
        if how == "jacfwd_grad":
            return jnp.diagonal(jax.jacfwd(jax.grad(loss))(X))
        if how == "jacrev_jacrev":
            return jnp.diagonal(jax.jacrev(jax.jacrev(loss))(X))
        # grad of grad, element by element
        return jax.vmap(jax.grad(jax.grad(lambda xi: comp(f, xi[None]))))(X)

    want = np.asarray(second(theirs))
    got = np.asarray(second(ours))
    peak = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-6 * peak)


@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
def test_traced_parameter_path_matches_braintools(name):
    comp = COMPOSITIONS[name]

    @jax.jit
    def both(sigma):
        h_ours = jax.hessian(lambda x: comp(sg.MultiGaussianGrad(sigma=sigma), x))(X)
        h_theirs = jax.hessian(lambda x: comp(bt.MultiGaussianGrad(sigma=sigma), x))(X)
        return h_ours, h_theirs

    ours, theirs = both(0.4)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=0, atol=5e-6)


def test_plain_hessian_is_zero_under_03_rules():
    f = sg.MultiGaussianGrad()
    with spikegrad.braintools_rules("0.3"):
        h = jax.hessian(lambda x: f(x).sum())(X)
    assert h.shape == (X.size, X.size)
    assert not np.any(np.asarray(h))
