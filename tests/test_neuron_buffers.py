"""The fused neurons' buffers on CPU: a gradient whose spikes nothing reads
(the grad of a sum) writes no spike sequence, and BPTT writes ``ct_x`` over
``ct_spikes``' buffer. Both must leave every result unchanged (the same bits
as the eager, unoptimized program) and never clobber a caller's array."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES, inputs
from helpers.reference import assert_trees_equal
from jax._src.core import jaxpr_as_fun
from jax._src.interpreters import partial_eval as pe

import spikegrad.surrogate as sg
from spikegrad import neuron
from spikegrad.neuron._primitives import neuron_forward_p

T, N = 40, 300


def f(model, x, z0=None, **kw):
    z = {} if z0 is None else dict(zip(Z0_NAMES[model], z0))
    return getattr(neuron, model)(x, **z, **PARAMS[model], spk_fun=sg.MultiGaussianGrad(), **kw)


def sum_loss(model, **kw):
    return lambda x, *z0: jnp.sum(f(model, x, z0, **kw).astype(jnp.float32))


def calls(compiled, target) -> list[str]:
    """The lines of the optimized HLO calling ``target``."""
    return [line for line in compiled.as_text().splitlines() if f'custom_call_target="{target}"' in line]


def forward_results(compiled) -> list[str]:
    """The result types of each forward custom call."""
    return [
        line.split("=", 1)[1].split("custom-call(", 1)[0].strip()
        for line in calls(compiled, "spikegrad_neuron_forward")
    ]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_grad_of_a_sum_writes_no_spikes(model, dtype):
    x, z0 = inputs(1, T, (N,), model, np.float32)
    x = x.astype(dtype)
    grad = jax.grad(sum_loss(model), argnums=tuple(range(1 + len(z0))))
    compiled = jax.jit(grad).lower(x, *z0).compile()
    results = forward_results(compiled)
    short = {"float32": "f32", "bfloat16": "bf16"}[dtype]
    assert results and all(r.startswith(f"({short}[0]") for r in results), results
    # BPTT writes ct_x over the spikes' cotangent (the broadcast 1s).
    bptt = calls(compiled, "spikegrad_neuron_bptt_states")
    assert bptt and all("output_to_operand_aliasing={{0}:" in line for line in bptt), bptt
    # The same bits as the eager program (one primitive at a time, spikes written).
    assert_trees_equal(compiled(x, *z0), grad(x, *z0))
    # Where the spikes are read, they are written.
    both = jax.jit(lambda x: jax.value_and_grad(sum_loss(model))(x))
    results = forward_results(both.lower(x).compile())
    assert results and all(r.startswith(f"({short}[{T},{N}]") for r in results), results
    value, g = both(x)
    assert float(value) == float(jnp.sum(f(model, x).astype(jnp.float32)))
    assert_trees_equal(g, jax.grad(sum_loss(model))(x))


@pytest.mark.parametrize("model", MODELS)
def test_grad_of_a_sum_keeps_less_than_a_sequence(model):
    """Temp memory: the checkpoints (every 16th state) and per-neuron arrays,
    not the spike sequence nor the cotangent of the spikes."""
    x, _ = inputs(2, 256, (4096,), model)
    compiled = jax.jit(jax.grad(sum_loss(model))).lower(x).compile()
    temp = compiled.memory_analysis().temp_size_in_bytes
    assert temp <= 0.25 * x.nbytes, (temp, x.nbytes)


@pytest.mark.parametrize("model", MODELS)
def test_in_place_bptt_leaves_the_callers_cotangent(model):
    x, z0 = inputs(3, T, (N,), model)
    ct = jax.random.normal(jax.random.PRNGKey(4), x.shape, x.dtype)
    kept = np.array(ct)

    def program(x, ct):
        spikes, pullback = jax.vjp(lambda x: f(model, x), x)
        return spikes, pullback(ct)[0]

    eager = program(x, ct)
    assert_trees_equal(jax.jit(program)(x, ct), eager)
    np.testing.assert_array_equal(np.asarray(ct), kept)
    # Donated, the cotangent's buffer may become ct_x's: the result is the same.
    donated = jax.jit(program, donate_argnums=1)(x, jnp.array(kept))
    assert_trees_equal(donated, eager)

    # A cotangent computed in the program, and one read again after the BPTT.
    def read_after(x, ct):
        ct2 = ct * 2.0
        _, pullback = jax.vjp(lambda x: f(model, x), x)
        return pullback(ct2)[0], jnp.sum(ct2)

    got, total = jax.jit(read_after)(x, ct)
    assert_trees_equal(got, program(x, ct * 2.0)[1])
    np.testing.assert_allclose(float(total), float(np.sum(kept * 2.0, dtype=np.float32)), rtol=1e-5)


@pytest.mark.parametrize("model", MODELS)
def test_a_cotangent_given_as_an_argument_is_not_copied(model):
    """A jitted pullback whose cotangent is the program's parameter: BPTT
    writes ct_x to a buffer of its own (in place, XLA would first copy the
    parameter); made in the program, the cotangent's buffer is reused."""
    x, _ = inputs(5, T, (N,), model)
    ct = jax.random.normal(jax.random.PRNGKey(6), x.shape, x.dtype)
    _, pullback = jax.vjp(lambda x: f(model, x), x)
    given = jax.jit(lambda fn, ct: fn(ct)).lower(pullback, ct).compile()
    lines = given.as_text().splitlines()
    bptt = [line for line in lines if 'custom_call_target="spikegrad_neuron_bptt' in line]
    assert bptt and not any("output_to_operand_aliasing" in line for line in bptt), bptt
    assert not any(" copy(" in line for line in lines), [line for line in lines if " copy(" in line]
    made = jax.jit(lambda fn, ct: fn(ct * 2.0)).lower(pullback, ct).compile()
    bptt = [line for line in made.as_text().splitlines() if 'custom_call_target="spikegrad_neuron_bptt' in line]
    assert bptt and all("output_to_operand_aliasing={{0}:" in line for line in bptt), bptt
    assert_trees_equal(given(pullback, ct), pullback(ct))
    assert_trees_equal(made(pullback, ct), pullback(ct * 2.0))


def _forward_eqns(jaxpr):
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive is neuron_forward_p:
            found.append(eqn)
        for sub in jax.tree.leaves(eqn.params, is_leaf=lambda a: hasattr(a, "eqns") or hasattr(a, "jaxpr")):
            inner = getattr(sub, "jaxpr", sub)
            if hasattr(inner, "eqns"):
                found.extend(_forward_eqns(inner))
    return found


def _pruned(fun, *args):
    """``fun``'s jaxpr before and after dead-code elimination, as functions."""
    closed = jax.make_jaxpr(fun)(*args)
    pruned, _ = pe.dce_jaxpr(closed.jaxpr, [True] * len(closed.jaxpr.outvars))
    assert all(e.params["spikes"] for e in _forward_eqns(closed.jaxpr))
    eqns = _forward_eqns(pruned)
    assert eqns and all(not e.params["spikes"] for e in eqns)
    return jaxpr_as_fun(closed), jaxpr_as_fun(type(closed)(pruned, closed.consts))


@pytest.mark.parametrize("model", MODELS)
def test_the_forward_without_spikes_under_vmap_jvp_and_grad(model):
    """The dead-code-eliminated forward (``spikes=False``) is a primitive like
    the others: vmap, jvp and grad of a program holding it give the results
    of the program before elimination."""
    x, _ = inputs(5, 24, (3, 50), model)
    xs = x.transpose(1, 0, 2)  # [3, T, 50]: a batch of sequences
    x0 = xs[0]
    # The grad of a sum: the gradient's forward pass.
    grad = jax.grad(sum_loss(model))
    before, after = _pruned(grad, x0)
    assert_trees_equal(jax.vmap(after)(xs), jax.vmap(before)(xs))
    assert_trees_equal(jax.vmap(after)(xs)[0], jnp.stack([grad(a) for a in xs]))

    # A function of the states alone: its forward pass reads no spikes.
    def states_loss(x):
        _, states = f(model, x, return_states=True)
        return sum(jnp.sum(jnp.sin(z)) for z in states)

    before, after = _pruned(states_loss, x0)
    assert_trees_equal(after(x0), before(x0))
    np.testing.assert_allclose(after(x0)[0], states_loss(x0), rtol=1e-6)
    assert_trees_equal(jax.vmap(after)(xs), jax.vmap(before)(xs))
    dx = jax.random.normal(jax.random.PRNGKey(6), x0.shape)
    tangents = jax.jvp(after, (x0,), (dx,))
    assert_trees_equal(tangents, jax.jvp(before, (x0,), (dx,)))
    assert float(jnp.abs(tangents[1][0])) > 0
    g = jax.grad(lambda a: after(a)[0])(x0)
    assert_trees_equal(g, jax.grad(lambda a: before(a)[0])(x0))
    assert_trees_equal(g, jax.grad(states_loss)(x0))
    assert float(jnp.max(jnp.abs(g))) > 0
