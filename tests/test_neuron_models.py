"""The model descriptions (``spikegrad.neuron._models``) agree with the Rust
kernels' model table, with brainpy.state's classes (parameter names and
defaults) and with the public functions and modules."""

from __future__ import annotations

import inspect

import brainpy
import numpy as np
import pytest

from spikegrad import _native, neuron
from spikegrad.neuron._models import MODELS


def test_the_kernels_have_every_model_with_the_same_names():
    native = _native.neuron_models()
    assert set(native) == set(MODELS)
    for name, m in MODELS.items():
        states, consts = native[name]
        assert tuple(states) == m.states, name
        assert tuple(consts) == m.consts, name


@pytest.mark.parametrize("name", list(MODELS))
def test_brainpy_state_defaults(name):
    """Each description's parameters are brainpy.state's, with its defaults (units stripped)."""
    m = MODELS[name]
    sig = inspect.signature(getattr(brainpy.state, m.class_name).__init__)
    for p, default in m.params.items():
        theirs = sig.parameters[p].default
        assert float(np.asarray(getattr(theirs, "mantissa", theirs))) == default, (name, p)
    module = getattr(neuron, m.class_name)
    ours = inspect.signature(module.__init__)
    for p, default in m.params.items():
        assert ours.parameters[p].default == default, (m.class_name, p)
    # The module's positional parameters come in brainpy.state's order.
    bp_order = [p for p in sig.parameters if p in m.params]
    assert [p for p in ours.parameters if p in m.params] == bp_order


@pytest.mark.parametrize("name", list(MODELS))
def test_fold_agrees_between_numpy_and_jnp(name):
    import jax.numpy as jnp

    m = MODELS[name]
    p = {k: np.float64(v) for k, v in m.params.items()}
    a = m.fold(0.25, p, xp=np)
    b = m.fold(jnp.float32(0.25), {k: jnp.float32(v) for k, v in p.items()})
    assert len(a) == len(b) == m.n_consts
    np.testing.assert_allclose(np.asarray(b, np.float64), np.asarray(a), rtol=1e-6)
