"""examples/train_digits.py, short: one epoch of a small network on the real
digits, both libraries (``--compare``), the figures into a temporary folder.
The loss falls, the test accuracy rises well above chance, every figure is
written, the last line is the accuracy, and the brainpy.state twin computes
spikegrad's loss at the first step. The same for ``--task sequential``
(examples/sequential_digits.py: three epochs on a subset), with the rows'
order, the readout and the twin's forward pass checked on their own."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.shared import shared

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"
ARGS = ["--epochs", "1", "--steps", "8", "--hidden", "128", "--batch", "32", "--compare", "--no-progress"]
FIGURES = {"digits_curves.png", "digits_raster.png", "digits_membrane.png", "digits_confusion.png"}


def _load_example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


EXAMPLE_MODULE = _load_example()


@pytest.fixture(scope="module")
def example():
    return EXAMPLE_MODULE


@pytest.fixture(scope="module")
def short_run(example, tmp_path_factory):
    """One training run per session (``helpers.shared``)."""

    def run():
        out = tmp_path_factory.mktemp("figures")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = example.main([*ARGS, "--out", str(out)])
        # The compiled step and evaluation functions do not pickle; no test reads them.
        result["runs"] = {k: dataclasses.replace(r, step=None, evaluate=None) for k, r in result["runs"].items()}
        return result, out, printed.getvalue()

    return shared(tmp_path_factory, "train-digits", run)


def test_loss_falls(short_run):
    result, _, _ = short_run
    for lib, run in result["runs"].items():
        losses = np.asarray(run.step_loss)
        assert len(losses) == 1437 // 32
        assert np.all(np.isfinite(losses)), lib
        assert losses[-3:].mean() < 0.8 * losses[0], f"{lib}: {losses}"


def test_accuracy_well_above_chance(short_run):
    result, _, _ = short_run
    for lib, run in result["runs"].items():
        assert run.test_acc[-1] > 0.6, f"{lib}: {run.test_acc}"  # chance is 0.1
        assert run.test_acc[-1] > run.test_acc[0] + 0.3, f"{lib}: {run.test_acc}"
    assert result["accuracy"] == result["runs"]["spikegrad"].test_acc[-1]


def test_figures_written(short_run):
    result, out, _ = short_run
    assert {p.name for p in result["figures"]} == FIGURES
    for name in FIGURES:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name


def test_last_line_is_the_accuracy(short_run):
    result, _, printed = short_run
    last = printed.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (\d+\.\d)%", last)
    assert match, last
    assert float(match.group(1)) == pytest.approx(100 * result["accuracy"], abs=0.05)
    assert "time per epoch, brainpy.state / spikegrad" in printed  # --compare prints the timing comparison


def test_brainpy_twin_has_the_same_first_loss(short_run):
    # Same weights, same first batch: the first step's loss of both libraries
    # agrees to float32 rounding (different summation orders), and so do the
    # trained models' test accuracies after one epoch.
    result, _, _ = short_run
    runs = result["runs"]
    ours, theirs = runs["spikegrad"].step_loss[0], runs["brainpy.state"].step_loss[0]
    assert ours == pytest.approx(theirs, rel=1e-5)
    assert abs(runs["spikegrad"].test_acc[-1] - runs["brainpy.state"].test_acc[-1]) <= 0.02


@pytest.mark.parametrize("neuron", sorted(EXAMPLE_MODULE.NEURONS))
def test_twin_forward_matches(example, neuron):
    # The two forward passes on one batch, for every neuron model offered:
    # spikes equal, potentials and the loss within float32 rounding.
    import jax
    import jax.numpy as jnp

    cfg = example.Config(steps=8, hidden=32, batch=16, neuron=neuron)
    data = example.load_data()
    params = example.init_params(cfg)
    xs = example.encode(jax.random.key(0), jnp.asarray(data.x_train[:16]), cfg.steps, "rate")
    labels = jnp.asarray(data.y_train[:16])
    traces = {lib: jax.jit(lambda p, x, f=f: f(p, x, cfg))(params, xs) for lib, f in example.FORWARD.items()}
    ours, theirs = traces["spikegrad"], traces["brainpy.state"]
    np.testing.assert_array_equal(ours.hidden_spikes, theirs.hidden_spikes)
    np.testing.assert_allclose(ours.hidden_v, theirs.hidden_v, rtol=1e-5, atol=1e-5)
    losses = {lib: float(example.make_loss(lib, cfg)(params, xs, labels)[0]) for lib in example.LIBRARIES}
    assert losses["spikegrad"] == pytest.approx(losses["brainpy.state"], rel=1e-5)


def test_options(example):
    # The choices are built from what spikegrad has: every surrogate class, and
    # the neuron models whose functions exist (lif at least).
    assert len(example.SURROGATES) == 18 and "MultiGaussianGrad" in example.SURROGATES
    import spikegrad.neuron

    assert "lif" in example.NEURONS
    for name, (fn, _, _) in example.NEURONS.items():
        assert callable(getattr(spikegrad.neuron, fn)), name
    cfg = example.parse_args(["--neuron", "lif", "--surrogate", "Sigmoid", "--steps", "5"])
    assert (cfg.neuron, cfg.surrogate, cfg.steps, cfg.epochs) == ("lif", "Sigmoid", 5, example.Config().epochs)
    with pytest.raises(SystemExit):
        example.parse_args(["--surrogate", "NoSuchGrad"])


def test_readout_is_the_leaky_integrator(example):
    # logits_of's weighted sum over time equals the mean of the readout
    # potentials r_t = a r_{t-1} + h_t @ w2 stepped one by one.
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    spikes = (rng.random((7, 3, 5)) < 0.4).astype(np.float32)
    w2 = rng.normal(size=(5, 10)).astype(np.float32)
    a, r, rs = np.exp(-example.DT / example.READOUT_TAU), np.zeros((3, 10)), []
    for t in range(7):
        r = a * r + spikes[t] @ w2
        rs.append(r)
    trace = example.Trace(jnp.asarray(spikes), jnp.zeros_like(jnp.asarray(spikes)))
    params = {"w2": jnp.asarray(w2)}
    np.testing.assert_allclose(example.logits_of(params, trace), np.mean(rs, 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(example.readout_potentials(params, jnp.asarray(spikes)), rs, rtol=1e-5, atol=1e-5)


# ---- the sequential task (examples/sequential_digits.py) ----------------------------

SEQ_ARGS = ["--epochs", "3", "--subset", "384", "--hold", "2", "--hidden", "64", "--batch", "32", "--lr", "0.03"]
SEQ_ARGS += ["--compare", "--no-progress"]
SEQ_FIGURES = {"sequential_curves.png", "sequential_raster.png", "sequential_confusion.png"}


@pytest.fixture(scope="module")
def sequential():
    sys.path.insert(0, str(EXAMPLE.parent))  # it imports train_digits, loaded above
    import sequential_digits

    return sequential_digits


@pytest.fixture(scope="module")
def sequential_run(example, sequential, tmp_path_factory):
    """A short run through ``train_digits.py --task sequential``, once per session
    (``sequential``: the pickled result holds its classes, so every worker imports it)."""

    def run():
        out = tmp_path_factory.mktemp("sequential")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = example.main(["--task", "sequential", *SEQ_ARGS, "--out", str(out)])
        # The compiled functions do not pickle; no test reads them.
        result["runs"] = {k: dataclasses.replace(r, evaluate=None) for k, r in result["runs"].items()}
        del result["trace"]
        return result, out, printed.getvalue()

    return shared(tmp_path_factory, "train-digits-sequential", run)


def test_sequential_learns(sequential_run):
    result, _, _ = sequential_run
    assert result["config"].subset == 384 and result["config"].compare
    for lib, run in result["runs"].items():
        losses = np.asarray(run.step_loss)
        assert len(losses) == 3 * (384 // 32) and np.all(np.isfinite(losses)), lib
        assert np.mean(losses[-4:]) < 0.9 * losses[0], f"{lib}: {losses}"
        assert run.test_acc[-1] > 0.3, f"{lib}: {run.test_acc}"  # chance is 0.1
        assert len(run.epoch_time) == 3 and min(run.epoch_time) > 0


def test_sequential_output(sequential_run):
    result, out, printed = sequential_run
    last = printed.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (\d+\.\d)%", last)
    assert match, last
    assert float(match.group(1)) == pytest.approx(100 * result["accuracy"], abs=0.05)
    assert "time per epoch, brainpy.state / spikegrad" in printed
    assert {p.name for p in result["figures"]} == SEQ_FIGURES
    for name in SEQ_FIGURES:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name


def test_sequential_twin_has_the_same_first_loss(sequential_run):
    # Same weights, same first batch: the recurrent fused ALIF with SpikeLinear
    # and brainpy.state's ALIF with dense recurrence in for_loop agree.
    result, _, _ = sequential_run
    runs = result["runs"]
    assert runs["spikegrad"].step_loss[0] == pytest.approx(runs["brainpy.state"].step_loss[0], rel=1e-5)


def test_sequential_rows_arrive_in_order(sequential):
    # Step t shows row t // hold of every digit, and nothing else.
    rng = np.random.default_rng(0)
    pixels = rng.random((3, 64)).astype(np.float32)
    xs = np.asarray(sequential.as_sequence(pixels, 3))
    assert xs.shape == (24, 3, 8)
    for t in range(24):
        np.testing.assert_array_equal(xs[t], pixels.reshape(3, 8, 8)[:, t // 3])


def test_sequential_twin_forward_matches(sequential):
    # One forward pass of both networks from the same weights: the hidden
    # spikes are equal and the readout within float32 rounding.
    import brainstate

    cfg = sequential.Config(hidden=32, hold=2)
    w = sequential.init_weights(cfg)
    xs = sequential.as_sequence(np.random.default_rng(1).random((5, 64)), cfg.hold)
    outs = {}
    for lib, make in sequential.NETWORKS.items():
        net = make(cfg, w)
        net.hidden.init_state(batch_size=5)
        outs[lib] = brainstate.transform.jit(net)(xs)
    (s_ours, r_ours), (s_theirs, r_theirs) = outs["spikegrad"], outs["brainpy.state"]
    assert 0.01 < float(np.mean(s_ours)) < 0.5  # the hidden layer fires
    np.testing.assert_array_equal(np.asarray(s_ours), np.asarray(s_theirs))
    np.testing.assert_allclose(np.asarray(r_ours), np.asarray(r_theirs), rtol=1e-5, atol=1e-5)


def test_sequential_logits_are_the_leaky_readout(sequential):
    # logits_of equals the leaky readout stepped one step at a time, averaged
    # over the last row's steps.
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    inputs = rng.normal(size=(12, 3, 10)).astype(np.float32)
    a, r, rs = np.exp(-sequential.DT / EXAMPLE_MODULE.READOUT_TAU), np.zeros((3, 10)), []
    for t in range(12):
        r = a * r + inputs[t]
        rs.append(r)
    want = np.mean(rs[-4:], 0)
    np.testing.assert_allclose(sequential.logits_of(jnp.asarray(inputs), 4), want, rtol=1e-5, atol=1e-5)
