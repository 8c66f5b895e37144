"""A recurrent spiking layer, forward and ``jit(grad)`` of a readout loss,
side by side in one process:

* ``spikegrad``: the fused recurrent neuron (``lif``/``alif`` with ``w_rec=``:
  one forward and one BPTT kernel on CPU);
* ``brainpy.state``: its class stepped by ``brainstate.transform.for_loop``,
  each step ``neuron(x_t + rec(neuron.get_spike()))`` with a bias-free dense
  ``brainstate.nn.Linear`` holding ``w_rec``, braintools' surrogate;
* ``dense scan``: a ``lax.scan`` of the model step with the dense matmul
  ``s_prev @ w_rec`` (spikegrad's scan form with braintools' surrogate, no
  checkpoints).

In every variant the input projection ``x @ w_in`` is one dense matmul over
all steps, the readout a dense matmul of the time-averaged spikes, and the
gradient is taken w.r.t. ``w_in``, ``w_rec`` and the readout. Also the
compiled temp memory (``memory_analysis().temp_size_in_bytes``) of each
``jit(grad)`` program. The input spikes and scales give the hidden layer a
firing rate of 1-5%, measured and reported.

    python benchmarks/recurrent.py [--quick] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import brainpy
import brainstate
import braintools
import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad.surrogate as sg
from spikegrad import neuron

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import fmt_time, time_interleaved  # noqa: E402

STEPS = 100
DT = 1.0
CLASSES = {"lif": "LIF", "alif": "ALIF"}
STATES = {"lif": ("V",), "alif": ("V", "a")}
PARAMS = {
    "lif": dict(tau=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
    "alif": dict(tau=5.0, tau_a=100.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0, beta=0.1),
}
SURROGATES = {"MGG": (sg.MultiGaussianGrad, bt.MultiGaussianGrad), "ReluGrad": (sg.ReluGrad, bt.ReluGrad)}
#: (batch, inputs, recurrent neurons).
SHAPES = [(64, 128, 512), (256, 128, 512), (64, 700, 256), (256, 700, 256)]
QUICK_SHAPES = [(64, 128, 512)]
CLASSES_OUT = 10
#: Input spike probability per step, and the weight scales (per fan-in) that
#: give a hidden firing rate of 1-5%.
INPUT_RATE = 0.1
W_IN_SCALE = 2.0
W_REC_SCALE = 1.0


def _data(batch, n_in, n, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.random((STEPS, batch, n_in)) < INPUT_RATE, jnp.float32)
    w_in = jnp.asarray(rng.normal(0.0, W_IN_SCALE / np.sqrt(n_in * INPUT_RATE), (n_in, n)), jnp.float32)
    w_rec = jnp.asarray(rng.normal(0.0, W_REC_SCALE / np.sqrt(n), (n, n)), jnp.float32)
    w_out = jnp.asarray(rng.normal(0.0, 1.0 / np.sqrt(n), (n, CLASSES_OUT)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, CLASSES_OUT, batch))
    return x, (w_in, w_rec, w_out), labels


def _readout_loss(spikes, w_out, labels):
    logits = spikes.mean(0) @ w_out
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(labels.shape[0]), labels])


def spikegrad_layer(model, surrogate):
    def layer(x, w_in, w_rec):
        return getattr(neuron, model)(x @ w_in, dt=DT, **PARAMS[model], w_rec=w_rec, spk_fun=surrogate())

    return layer


def scan_layer(model, surrogate):
    """spikegrad's scan form with a braintools surrogate: a plain lax.scan of
    the step with the dense ``s_prev @ w_rec``, no checkpoints."""

    def layer(x, w_in, w_rec):
        return getattr(neuron, model)(x @ w_in, dt=DT, **PARAMS[model], w_rec=w_rec, spk_fun=surrogate(), save_every=1)

    return layer


def brainpy_layer(model, surrogate):
    def layer(x, w_in, w_rec):
        cur = x @ w_in
        shape = cur.shape[1:]
        with brainstate.environ.context(dt=DT):
            inits = {f"{s}_initializer": braintools.init.Constant(0.0) for s in STATES[model]}
            cell = getattr(brainpy.state, CLASSES[model])(shape, **PARAMS[model], **inits, spk_fun=surrogate())
            rec = brainstate.nn.Linear(shape[-1], shape[-1], w_init=braintools.init.Constant(0.0), b_init=None)
            rec.weight.value = {"weight": w_rec}
            cell.init_state()
            return brainstate.transform.for_loop(lambda c: cell(c + rec(cell.get_spike())), cur)

    return layer


VARIANTS = {"brainpy.state": brainpy_layer, "dense scan": scan_layer, "spikegrad": spikegrad_layer}


def _programs(layer):
    def loss(params, x, labels):
        w_in, w_rec, w_out = params
        return _readout_loss(layer(x, w_in, w_rec), w_out, labels)

    return jax.jit(loss), jax.jit(jax.grad(loss))


def run(shapes, models, surrogates, repeats):
    rows = []
    for batch, n_in, n in shapes:
        x, params, labels = _data(batch, n_in, n)
        for model in models:
            for sname in surrogates:
                ours, theirs = SURROGATES[sname]
                layers = {name: make(model, ours if name == "spikegrad" else theirs) for name, make in VARIANTS.items()}
                rate = float(jnp.mean(jax.jit(layers["spikegrad"])(x, params[0], params[1])))
                progs = {name: _programs(layer) for name, layer in layers.items()}
                args = {name: (params, x, labels) for name in progs}
                fwd = time_interleaved({k: p[0] for k, p in progs.items()}, args, repeats)
                bwd = time_interleaved({k: p[1] for k, p in progs.items()}, args, repeats)
                temps = {
                    k: p[1].lower(params, x, labels).compile().memory_analysis().temp_size_in_bytes
                    for k, p in progs.items()
                }
                rows.append(dict(batch=batch, n_in=n_in, n=n, model=model, surrogate=sname, rate=rate,
                                 fwd=fwd, bwd=bwd, temps=temps))  # fmt: skip
                print(_line(rows[-1]), flush=True)
    return rows


def _line(r):
    """One table row: spikegrad's time and the others' time over it; temp memory ratios."""
    f, b, t = r["fwd"], r["bwd"], r["temps"]
    ours = "spikegrad"
    cells = [r["model"], r["surrogate"], str(r["batch"]), f"{r['n_in']}->{r['n']}", f"{100 * r['rate']:.1f}%"]
    for timing in (f, b):
        cells.append(fmt_time(timing[ours].best))
        cells += [f"{timing[k].best / timing[ours].best:.2f}x" for k in ("brainpy.state", "dense scan")]
    cells.append(f"{t[ours] / 2**20:.1f}")
    cells += [f"{t[ours] / max(t[k], 1):.3f}x" for k in ("brainpy.state", "dense scan")]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| model | surrogate | B | layer | rate | fwd spikegrad | fwd vs brainpy.state | fwd vs dense scan "
    "| grad spikegrad | grad vs brainpy.state | grad vs dense scan | temp MiB | temp / brainpy.state | temp / scan |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one shape (B=64, 128->512), 2 repeats")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--models", default="lif,alif")
    ap.add_argument("--surrogates", default="MGG,ReluGrad")
    args = ap.parse_args(argv)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    repeats = args.repeats or (2 if args.quick else 5)
    print(f"T={STEPS}, float32, {jax.device_count()} CPU device(s); times: min over interleaved samples;")
    print("ratios: the other's time / spikegrad's (forward, jit(grad)); temp: spikegrad's / the other's\n")
    print(HEADER, flush=True)
    run(shapes, args.models.split(","), args.surrogates.split(","), repeats)


if __name__ == "__main__":
    main()
