"""``spikegrad.neuron.LIF``: a brainstate module whose call runs a whole
sequence; it matches brainpy.state.LIF stepped over the same sequence,
including the state it leaves behind and a second call continuing from it."""

from __future__ import annotations

import brainpy
import brainstate
import braintools
import jax.numpy as jnp
import numpy as np
from helpers.lif_reference import inputs

import spikegrad.surrogate as sg
from spikegrad.neuron import LIF

P = dict(R=1.5, tau=2.0, V_th=1.0, V_reset=-0.2, V_rest=0.1)


def test_module_matches_brainpy_state_across_calls():
    x, _ = inputs(40, 30, (4, 16))
    with brainstate.environ.context(dt=0.5):
        ours = LIF(16, **P, spk_fun=sg.MultiGaussianGrad(), spk_reset="hard")
        ours.init_state(batch_size=4)
        theirs = brainpy.state.LIF(
            16,
            **P,
            V_initializer=braintools.init.Constant(0.0),
            spk_fun=braintools.surrogate.MultiGaussianGrad(),
            spk_reset="hard",
        )
        theirs.init_state(batch_size=4)
        assert ours.V.value.shape == (4, 16)
        for chunk in (x[:12], x[12:]):
            got = ours(chunk)
            want = brainstate.transform.for_loop(theirs, chunk)
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
            np.testing.assert_allclose(np.asarray(ours.V.value), np.asarray(theirs.V.value), atol=2e-6)
        assert 0.05 < float(jnp.mean(want)) < 0.95
        ours.reset_state(batch_size=4)
        np.testing.assert_array_equal(np.asarray(ours.V.value), np.zeros((4, 16)))


def test_module_v0_and_unbatched_state():
    with brainstate.environ.context(dt=0.5):
        m = LIF((2, 3), v0=0.25)
        m.init_state()
        assert m.V.value.shape == (2, 3)
        np.testing.assert_array_equal(np.asarray(m.V.value), np.full((2, 3), 0.25))
        s = m(jnp.zeros((0, 2, 3)))
        assert s.shape == (0, 2, 3)
        np.testing.assert_array_equal(np.asarray(m.V.value), np.full((2, 3), 0.25))
