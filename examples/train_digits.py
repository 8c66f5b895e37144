"""Train a spiking classifier on real handwritten digits with spikegrad's fused
neurons, and (``--compare``) the same network in brainpy.state side by side.

    bash scripts/train_digits.sh [options]      # sets up .venv, then runs this file
    python examples/train_digits.py [--compare] [--epochs N] [--steps T] ...

Data. scikit-learn's ``load_digits``: 1,797 real 8x8 grey-scale digits (0-16
per pixel) that ship inside scikit-learn, so nothing is downloaded. A fixed,
stratified split (``random_state=0``) keeps 1,437 digits for training and 360
for testing; pixels are scaled to [0, 1].

Encoding. The network runs for ``T`` (``--steps``) time steps per digit.
``current`` (the default) presents the digit as a current sequence: each
pixel's intensity is an input current held constant for all ``T`` steps, and
the hidden LIF neurons turn it into spike rates, so the rate coding is done by
the network's first spiking layer (often called direct coding). The input
projection is then computed once per digit (in both libraries) and repeated over
time. ``rate`` is rate coding of the pixels themselves: at every step each
pixel emits a spike with probability equal to its intensity, drawn afresh every
epoch (the test set is encoded once with a fixed key). ``latency`` gives each
pixel one spike, earlier for brighter pixels, none for blank ones.
``current`` is the default because it is deterministic, reaches the highest
accuracy in the fewest epochs (about 98%, against about 97.5% for ``rate`` and
95% for ``latency``, 30 epochs), and leaves the neurons as most of the work: a
rate-coded input needs the 64-pixel projection at every step, a matrix product
that costs both libraries the same and took about half of spikegrad's training
step in our measurements, so the neurons' speed shows less.

Model. ``64 -> hidden LIF -> 10 leaky readout``: a dense layer feeds
``--hidden`` spiking neurons, whose spikes feed 10 non-spiking leaky
integrators, one per class, through a second dense layer. The hidden layer is
one call of a fused spikegrad neuron (``spikegrad.neuron.lif`` by default,
``--neuron``) on the whole time-major ``[T, batch, hidden]`` input current: the
time loop, forward and backward, runs in spikegrad's kernels. The spike
function is a surrogate (``--surrogate``, default
``spikegrad.surrogate.MultiGaussianGrad()``). Neuron parameters are the
defaults of the spikegrad function (brainpy.state's defaults, unitless, dt = 1).

Loss and readout. The readout potential of class ``k`` follows
``r_t = exp(-dt/tau) r_{t-1} + h_t @ w2[:, k]`` (``tau`` = 5, brainpy.state's
``LeakyRateReadout``), from the hidden spikes ``h_t``; the logits are ``r_t``
averaged over time, and the loss is the softmax cross-entropy of those logits:
cross-entropy on the time-averaged readout membrane potential, a common
surrogate-gradient setup (snnTorch and Norse train on an output membrane the
same way). The mean potential is graded, so the loss has a gradient whatever
the spike counts; the prediction is the argmax of the same logits. The readout
is linear, so its time average is one weighted sum of the hidden spikes over
time followed by one small matmul (``logits_of``); both libraries run that same
function on their hidden spikes. Training is backpropagation through time
(BPTT, ``jax.grad`` of the loss) with optax's Adam.

Side by side (``--compare``). The same network with ``brainpy.state``'s neuron
class of the same model (``brainpy.state.LIF``) and braintools' surrogate of
the same name as the hidden layer, stepped by ``brainstate.transform.for_loop``
one step at a time, as a brainpy.state user writes it, and the same readout. Both start from the same weights, see
the same batches in the same order and use the same optimizer; their epochs
alternate, so both share the machine's conditions. Both training steps are
``jax.jit``-compiled before the first epoch; the compile time is reported
separately and is not part of the time per epoch. The time per epoch covers
every training step of the epoch (each step's loss is read back for the
progress bar); encoding the epoch's inputs (the same code for both libraries)
and the evaluation on the test set are not included.

Output. A progress bar per epoch (tqdm) with the loss, the training accuracy,
the test accuracy and the time; then a summary, and four figures in ``--out``
(default ``out/``): ``digits_curves.png`` (loss and test accuracy against
wall-clock training time, for each library trained), ``digits_raster.png``
(hidden-layer spikes for a few test digits), ``digits_membrane.png``
(membrane potentials of a few hidden neurons, ``return_v=True``, and the
readout's) and ``digits_confusion.png``. The last
line printed is ``test accuracy: NN.N%`` (spikegrad's model), for scripts.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

import spikegrad.neuron
import spikegrad.surrogate

#: Neuron models: ``--neuron`` name -> (spikegrad.neuron function, brainpy.state class,
#: how the brainpy.state twin feeds it the input: "current" as ``update(x)``, "delta"
#: through ``add_delta_input``, as spikegrad's function takes it). Adding a model is
#: one line here; only the models spikegrad has are offered.
MODELS = {
    "lif": ("lif", "LIF", "current"),
    "alif": ("alif", "ALIF", "current"),
    "cuba_lif": ("cuba_lif", "CubaLIF", "delta"),  # x drives the synaptic current g
}
NEURONS = {name: entry for name, entry in MODELS.items() if hasattr(spikegrad.neuron, entry[0])}

#: Every surrogate class spikegrad has (the 18 of braintools.surrogate).
SURROGATES = sorted(
    name
    for name in spikegrad.surrogate.__all__
    if inspect.isclass(obj := getattr(spikegrad.surrogate, name))
    and issubclass(obj, spikegrad.surrogate.NativeSurrogate)
    and obj is not spikegrad.surrogate.NativeSurrogate
)

LIBRARIES = ("spikegrad", "brainpy.state")
N_IN, N_OUT, DT = 64, 10, 1.0


@dataclass
class Config:
    epochs: int = 30
    steps: int = 25
    hidden: int = 256
    batch: int = 256
    lr: float = 1e-2
    seed: int = 0
    neuron: str = "lif"
    surrogate: str = "MultiGaussianGrad"
    encoding: str = "current"
    compare: bool = False
    out: str = "out"
    progress: bool = True


# ---- data -------------------------------------------------------------------------


class Digits(NamedTuple):
    x_train: np.ndarray  # [1437, 64] in [0, 1]
    y_train: np.ndarray
    x_test: np.ndarray  # [360, 64]
    y_test: np.ndarray


def load_data() -> Digits:
    """scikit-learn's 8x8 digits, a fixed stratified 80/20 split, pixels in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    return Digits(x_train, y_train, x_test, y_test)


def encode(key, x, steps: int, encoding: str) -> jax.Array:
    """Pixels ``[..., 64]`` in [0, 1] to the network's input sequence (float32): spike
    trains ``[steps, ..., 64]``, or for ``current`` the pixels as one frame ``[1, ..., 64]``,
    a current held constant for all the steps."""
    if encoding == "rate":
        return jax.random.bernoulli(key, x, (steps, *x.shape)).astype(jnp.float32)
    if encoding == "latency":
        # one spike at step round((1 - x) (steps - 1)); blank pixels stay silent
        fire_at = jnp.round((1.0 - x) * (steps - 1))
        t = jnp.arange(steps).reshape((steps,) + (1,) * x.ndim)
        return ((t == fire_at) & (x > 0)).astype(jnp.float32)
    if encoding == "current":
        return jnp.asarray(x, jnp.float32)[None]
    raise ValueError(f"unknown encoding {encoding!r}")


def repeat_in_time(x: jax.Array, steps: int) -> jax.Array:
    """``x`` repeated ``steps`` times along a new leading time axis, as an outer product
    with ones: its gradient is then a matrix-vector product (see ``time_mean``)."""
    return jnp.tensordot(jnp.ones(steps, x.dtype), x, axes=0)


def epoch_order(cfg: Config, epoch: int, n: int) -> np.ndarray:
    """The shuffled training indices of one epoch, in whole batches (the same for both libraries)."""
    perm = np.random.default_rng([cfg.seed, epoch]).permutation(n)
    return perm[: (n // cfg.batch) * cfg.batch].reshape(-1, cfg.batch)


# ---- model ------------------------------------------------------------------------


def init_params(cfg: Config) -> dict:
    """Initial weights, from ``cfg.seed``; both libraries start from these."""
    rng = np.random.default_rng(cfg.seed)
    # input spikes: about 19 of 64 pixels fire per step; hidden: roughly 10-20% active
    w1 = rng.normal(0.0, 2.0 / np.sqrt(0.3 * N_IN), (N_IN, cfg.hidden))
    w2 = rng.normal(0.0, 0.5 / np.sqrt(0.15 * cfg.hidden), (cfg.hidden, N_OUT))
    params = dict(w1=w1, w2=w2)
    return {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}


class Trace(NamedTuple):
    """The hidden layer over a forward pass, time-major ``[T, batch, hidden]``."""

    hidden_spikes: jax.Array
    hidden_v: jax.Array


def neuron_params(cfg: Config) -> dict:
    """The spikegrad function's parameter defaults (plain floats): the values both libraries use."""
    fn = getattr(spikegrad.neuron, NEURONS[cfg.neuron][0])
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is p.KEYWORD_ONLY and isinstance(p.default, (int, float)) and not isinstance(p.default, bool)
    }


def spikegrad_forward(params, xs, cfg: Config) -> Trace:
    """The hidden layer on spikegrad's fused neurons: one call for all T steps."""
    fn = getattr(spikegrad.neuron, NEURONS[cfg.neuron][0])
    spk_fun = getattr(spikegrad.surrogate, cfg.surrogate)()

    states = "return_states" in inspect.signature(fn).parameters  # (spikes, (V, ...)); else return_v

    def layer(current):
        kw = dict(return_states=True) if states else dict(return_v=True)
        spikes, v = fn(current, dt=DT, spk_fun=spk_fun, spk_reset="soft", **kw)
        return spikes, (v[0] if states else v)

    if xs.shape[0] == 1:  # a constant current: projected once, the same at every step
        h_spk, h_v = layer(repeat_in_time(xs[0] @ params["w1"], cfg.steps))
    else:
        h_spk, h_v = layer(xs @ params["w1"])  # one matmul over all steps
    return Trace(h_spk, h_v)


def _brainpy_kwargs(cls, cfg: Config) -> dict:
    """brainpy.state's parameters without units: the spikegrad function's values where
    both have the parameter, else brainpy's own default's mantissa; constant initializers too."""
    import braintools
    import brainunit as u

    shared = neuron_params(cfg)
    kwargs = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        default = p.default
        if isinstance(default, braintools.init.Constant):
            kwargs[name] = braintools.init.Constant(float(u.get_mantissa(default.value)))
        elif isinstance(default, u.Quantity):
            kwargs[name] = shared.get(name, float(u.get_mantissa(default)))
    return kwargs


def brainpy_forward(params, xs, cfg: Config) -> Trace:
    """The same hidden layer with brainpy.state neurons and braintools' surrogate, stepped
    by ``brainstate.transform.for_loop``."""
    import brainpy
    import brainstate
    import braintools

    _, class_name, feed = NEURONS[cfg.neuron]
    cls = getattr(brainpy.state, class_name)
    spk_fun = getattr(braintools.surrogate, cfg.surrogate)()
    kwargs = _brainpy_kwargs(cls, cfg)
    batch = xs.shape[1]
    with brainstate.environ.context(dt=DT):
        hidden = cls(cfg.hidden, **kwargs, spk_fun=spk_fun, spk_reset="soft")
        hidden.init_state(batch_size=batch)

        def drive(neurons, x):
            if feed == "delta":
                neurons.add_delta_input("input", x)
                return neurons(0.0)  # no current input (its default carries units)
            return neurons(x)

        def step(current):
            h = drive(hidden, current)
            return h, hidden.V.value

        if xs.shape[0] == 1:  # a constant current: projected once, the same at every step
            current = xs[0] @ params["w1"]
            return Trace(*brainstate.transform.for_loop(lambda _: step(current), jnp.arange(cfg.steps)))
        return Trace(*brainstate.transform.for_loop(lambda x: step(x @ params["w1"]), xs))


FORWARD = {"spikegrad": spikegrad_forward, "brainpy.state": brainpy_forward}


#: The readout's time constant: r_t = exp(-dt/tau) r_{t-1} + h_t @ w2, brainpy.state's LeakyRateReadout.
READOUT_TAU = 5.0


def readout_weights(steps: int) -> jax.Array:
    """``c`` with ``mean_t r_t = (sum_t c_t h_t) @ w2``: step ``t``'s spikes reach the
    potentials of steps ``t..T``, decaying, ``c_t = (1 + a + ... + a^(T-t)) / T``."""
    a = np.exp(-DT / READOUT_TAU)
    return jnp.asarray((1.0 - a ** np.arange(steps, 0, -1)) / (1.0 - a) / steps, jnp.float32)


def logits_of(params, trace: Trace) -> jax.Array:
    """The readout: the leaky readout's potential averaged over time, ``[batch, 10]``.
    The readout is linear, so its time average is one weighted sum of the hidden spikes
    over time and one small matmul; both libraries run this same function."""
    weighted = jnp.tensordot(readout_weights(trace.hidden_spikes.shape[0]), trace.hidden_spikes, axes=1)
    return weighted @ params["w2"]


def readout_potentials(params, hidden_spikes) -> jax.Array:
    """The readout's potentials ``r_t`` ``[T, batch, 10]``, step by step (for the figures)."""
    a = np.exp(-DT / READOUT_TAU)
    t = np.arange(hidden_spikes.shape[0])
    decay = jnp.asarray(np.where(t[:, None] >= t[None], a ** (t[:, None] - t[None]), 0.0), jnp.float32)
    return jnp.tensordot(decay, hidden_spikes @ params["w2"], axes=1)


def time_mean(x: jax.Array) -> jax.Array:
    """``x.mean(0)`` as a product with a vector of ``1/T``: on the CPU, XLA compiles a
    sum over the leading axis into a loop many times slower than this matrix-vector product."""
    return jnp.tensordot(jnp.full(x.shape[0], 1.0 / x.shape[0], x.dtype), x, axes=1)


def make_loss(library: str, cfg: Config):
    """``loss(params, xs, labels) -> (cross-entropy, logits)`` for one library."""
    forward = FORWARD[library]

    def loss(params, xs, labels):
        logits = logits_of(params, forward(params, xs, cfg))
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), logits

    return loss


def make_step(library: str, cfg: Config, optimizer):
    """One jitted training step: BPTT gradient and an Adam update."""
    loss_fn = make_loss(library, cfg)

    def step(params, opt_state, xs, labels):
        (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, xs, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        correct = jnp.sum(jnp.argmax(logits, -1) == labels)
        return optax.apply_updates(params, updates), opt_state, loss, correct

    return jax.jit(step, donate_argnums=(0, 1))


# ---- training ---------------------------------------------------------------------


@dataclass
class Run:
    """One library's training: history, timings and final state."""

    library: str
    params: dict
    opt_state: object
    step: object = None
    evaluate: object = None
    compile_s: float = 0.0
    train_s: float = 0.0  # cumulative training time
    step_time: list = field(default_factory=list)  # cumulative training time after each step
    step_loss: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)  # seconds per epoch
    epoch_loss: list = field(default_factory=list)
    test_time: list = field(default_factory=list)  # cumulative training time at each evaluation
    test_acc: list = field(default_factory=list)


def accuracy(logits, labels) -> float:
    return float(np.mean(np.asarray(jnp.argmax(logits, -1)) == np.asarray(labels)))


def train_epoch(run: Run, label: str, batches, advance, test_accuracy, cfg) -> None:
    """One epoch of ``run`` over ``batches`` behind a progress bar: ``advance(x, y)``
    takes a training step and returns ``(loss, correct)``; records the step and
    epoch times and losses, then ``test_accuracy()`` (shared by both examples)."""
    bar = tqdm(total=len(batches), desc=label, unit="batch", disable=not cfg.progress, dynamic_ncols=True)
    t_start = time.perf_counter()
    losses, correct = [], 0
    for b, (x, y) in enumerate(batches):
        loss, n_ok = advance(x, y)
        loss, n_ok = float(loss), int(n_ok)
        losses.append(loss)
        correct += n_ok
        run.step_time.append(run.train_s + time.perf_counter() - t_start)
        run.step_loss.append(loss)
        bar.set_postfix(dict(loss=f"{loss:.3f}", train=f"{100 * correct / ((b + 1) * cfg.batch):.1f}%"), refresh=False)
        bar.update()
    elapsed = time.perf_counter() - t_start
    run.train_s += elapsed
    run.epoch_time.append(elapsed)
    run.epoch_loss.append(float(np.mean(losses)))
    acc = test_accuracy()
    run.test_time.append(run.train_s)
    run.test_acc.append(acc)
    bar.set_postfix(
        dict(
            loss=f"{run.epoch_loss[-1]:.3f}",
            train=f"{100 * correct / (len(batches) * cfg.batch):.1f}%",
            test=f"{100 * acc:.1f}%",
            time=f"{elapsed:.2f}s",
        )
    )
    bar.close()


def train(cfg: Config, data: Digits | None = None) -> dict:
    """Train spikegrad's network (and brainpy.state's twin with ``cfg.compare``);
    returns the runs, the data and the encoded test set."""
    data = load_data() if data is None else data
    libraries = LIBRARIES if cfg.compare else LIBRARIES[:1]
    optimizer = optax.adam(cfg.lr)
    key = jax.random.key(cfg.seed)
    x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    xs_test = encode(jax.random.fold_in(key, 10**6), jnp.asarray(data.x_test), cfg.steps, cfg.encoding)
    y_test = jnp.asarray(data.y_test)

    # the inputs of all the epoch's batches at once: a list of ([T or 1, batch, 64], [batch])
    def epoch_inputs(k, idx):
        xs = encode(k, x_train[idx], cfg.steps, cfg.encoding)  # [T or 1, batches, batch, 64]
        return [(xs[:, b], y_train[idx[b]]) for b in range(idx.shape[0])]

    epoch_inputs = jax.jit(epoch_inputs).lower(key, epoch_order(cfg, 0, len(data.x_train))).compile()

    x0, y0 = encode(key, jnp.zeros((cfg.batch, N_IN)), cfg.steps, cfg.encoding), y_train[: cfg.batch]  # shapes
    runs = {}
    for lib in libraries:
        params = init_params(cfg)
        opt_state = optimizer.init(params)
        run = Run(lib, params, opt_state)
        t0 = time.perf_counter()
        run.step = make_step(lib, cfg, optimizer).lower(params, opt_state, x0, y0).compile()
        run.evaluate = (
            jax.jit(lambda p, xs, f=FORWARD[lib]: logits_of(p, f(p, xs, cfg))).lower(params, xs_test).compile()
        )
        # one call on copies, discarded: first-call costs are not training time
        jax.block_until_ready(run.step(*jax.tree.map(jnp.copy, (params, opt_state)), x0, y0))
        run.compile_s = time.perf_counter() - t0
        run.test_time.append(0.0)
        run.test_acc.append(accuracy(run.evaluate(params, xs_test), y_test))
        runs[lib] = run

    width = max(len(lib) for lib in libraries)
    encode_s = 0.0
    for epoch in range(cfg.epochs):
        t_start = time.perf_counter()
        order = epoch_order(cfg, epoch, len(data.x_train))
        batches = jax.block_until_ready(epoch_inputs(jax.random.fold_in(key, epoch), order))
        encode_s += time.perf_counter() - t_start
        for lib, run in runs.items():

            def advance(x, y, run=run):
                run.params, run.opt_state, loss, n_ok = run.step(run.params, run.opt_state, x, y)
                return loss, n_ok

            label = f"{lib:>{width}} epoch {epoch + 1}/{cfg.epochs}"
            train_epoch(
                run, label, batches, advance, lambda run=run: accuracy(run.evaluate(run.params, xs_test), y_test), cfg
            )
    return dict(runs=runs, data=data, xs_test=xs_test, encode_s=encode_s)


# ---- figures ----------------------------------------------------------------------

COLORS = {"spikegrad": "tab:blue", "brainpy.state": "tab:orange"}


def _examples(y_test, n=4):
    """Indices of the first test digit of each of ``n`` different classes."""
    return [int(np.flatnonzero(np.asarray(y_test) == c)[0]) for c in range(n)]


def plot_curves(runs: dict, path: Path, title: str) -> Path:
    """Loss and test accuracy of each run against its wall-clock training time, into ``path``."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for lib, r in runs.items():
        steps_per_epoch = max(len(r.step_loss) // max(len(r.epoch_loss), 1), 1)
        smooth = np.convolve(r.step_loss, np.ones(steps_per_epoch) / steps_per_epoch, mode="valid")
        ax1.plot(r.step_time, r.step_loss, color=COLORS[lib], alpha=0.25, lw=0.8)
        ax1.plot(r.step_time[steps_per_epoch - 1 :], smooth, color=COLORS[lib], lw=2, label=f"{lib}")
        ax2.plot(
            r.test_time[1:],
            100 * np.asarray(r.test_acc[1:]),
            "o-",
            color=COLORS[lib],
            ms=3,
            label=f"{lib}: {100 * r.test_acc[-1]:.1f}%, {np.median(r.epoch_time):.2f} s/epoch",
        )
    ax1.set(xlabel="training time (s)", ylabel="cross-entropy", title="training loss (line: mean over an epoch)")
    ax1.set_yscale("log")
    ax2.set(xlabel="training time (s)", ylabel="test accuracy (%)", title="test accuracy after each epoch")
    ax2.set_ylim(max(0, min(100 * min(r.test_acc[1:]) for r in runs.values()) - 5), 100.5)
    ax2.grid(alpha=0.3)
    for ax in (ax1, ax2):
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(labels, predicted, path: Path) -> Path:
    """The confusion matrix of ``predicted`` against ``labels`` (class indices), into ``path``."""
    import matplotlib.pyplot as plt

    cm = np.zeros((N_OUT, N_OUT), int)
    np.add.at(cm, (np.asarray(labels), np.asarray(predicted)), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(cm, cmap="Blues")
    for (r, c), v in np.ndenumerate(cm):
        if v:
            ax.text(c, r, v, ha="center", va="center", color="white" if v > cm.max() / 2 else "black", fontsize=9)
    ax.set(
        xticks=range(N_OUT),
        yticks=range(N_OUT),
        xlabel="predicted",
        ylabel="true",
        title=f"test set confusion matrix, accuracy {100 * np.trace(cm) / cm.sum():.1f}%",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def figures(result: dict, cfg: Config) -> list[Path]:
    """Write the four figures into ``cfg.out``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    runs, data, xs_test = result["runs"], result["data"], result["xs_test"]
    run = runs["spikegrad"]
    paths = []

    # 1. loss and test accuracy against wall-clock training time
    paths.append(
        plot_curves(
            runs,
            out / "digits_curves.png",
            f"digits, 64-{cfg.hidden} {cfg.neuron}-10 readout, T={cfg.steps}, batch {cfg.batch}, {cfg.surrogate}",
        )
    )

    # one forward pass over a few test digits, for the raster and the potentials
    picks = _examples(data.y_test)
    trace = jax.jit(lambda p, xs: spikegrad_forward(p, xs, cfg))(run.params, xs_test[:, picks])
    readout = np.asarray(readout_potentials(run.params, trace.hidden_spikes))  # [T, 4, 10]
    pred = np.asarray(jnp.argmax(logits_of(run.params, trace), -1))
    trace = Trace(*(np.asarray(a) for a in trace))
    # up to 64 hidden neurons, spread evenly over the activity ranking of those that fire
    counts = trace.hidden_spikes.sum((0, 1))
    ranked = np.argsort(-counts, kind="stable")[: max(int(np.count_nonzero(counts)), 1)]
    order = ranked[np.unique(np.linspace(0, len(ranked) - 1, min(len(ranked), 64)).round().astype(int))]
    shown = len(order)

    # 2. spike raster of the hidden layer
    fig, axes = plt.subplots(2, len(picks), figsize=(3.2 * len(picks), 6.5), gridspec_kw=dict(height_ratios=[1, 2]))
    for j, i in enumerate(picks):
        axes[0, j].imshow(data.x_test[i].reshape(8, 8), cmap="gray_r")
        axes[0, j].set_title(f"label {data.y_test[i]}, predicted {pred[j]}")
        axes[0, j].axis("off")
        t, n = np.nonzero(trace.hidden_spikes[:, j, order])
        axes[1, j].scatter(t + 1, n, s=4, marker="|", color="k")
        axes[1, j].set(xlim=(0.5, cfg.steps + 0.5), ylim=(-0.5, shown - 0.5), xlabel="time step")
    axes[1, 0].set_ylabel(f"hidden neuron ({shown} of {cfg.hidden}, busiest first)")
    fig.suptitle("spikes of the hidden layer for four test digits")
    fig.tight_layout()
    paths.append(out / "digits_raster.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # 3. membrane potentials: a few hidden neurons and the output neurons, one digit
    j = 0
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    steps = np.arange(1, cfg.steps + 1)
    # four hidden neurons that fire on this digit, but not at every step
    rates = trace.hidden_spikes[:, j].mean(0)
    moderate = [n for n in np.argsort(-rates, kind="stable") if 0 < rates[n] <= 0.6]
    for n in (moderate or list(order))[:4]:
        (line,) = ax1.plot(steps, trace.hidden_v[:, j, n], lw=1.2, label=f"hidden {n}")
        fired = np.flatnonzero(trace.hidden_spikes[:, j, n])
        ax1.plot(steps[fired], trace.hidden_v[fired, j, n], "o", color=line.get_color(), ms=4)
    for c in range(N_OUT):
        bold = c == data.y_test[picks[j]]
        label = f"class {c}" + (" (label)" if bold else "")
        ax2.plot(steps, readout[:, j, c], lw=2.2 if bold else 0.8, label=label)
    ax1.axhline(1.0, color="gray", ls="--", lw=0.8)
    ax1.set(xlabel="time step", ylabel="membrane potential V")
    ax2.set(xlabel="time step", ylabel="readout potential r")
    ax1.set_title("four hidden LIF neurons (dots: spikes; dashed: V_th)")
    ax2.set_title("leaky readout, one per class (logit = mean over time)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=7, ncol=2)
    fig.suptitle(f"membrane potentials, test digit {data.y_test[picks[j]]}")
    fig.tight_layout()
    paths.append(out / "digits_membrane.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # 4. confusion matrix on the test set
    pred_all = np.asarray(jnp.argmax(run.evaluate(run.params, xs_test), -1))
    paths.append(plot_confusion(data.y_test, pred_all, out / "digits_confusion.png"))
    return paths


# ---- command line -----------------------------------------------------------------


def parse_args(argv=None) -> Config:
    d = Config()
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--epochs", type=int, default=d.epochs)
    ap.add_argument("--steps", type=int, default=d.steps, help="time steps T per digit")
    ap.add_argument("--hidden", type=int, default=d.hidden, help="hidden spiking neurons")
    ap.add_argument("--batch", type=int, default=d.batch)
    ap.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=d.seed, help="weights, input spikes and batch order")
    ap.add_argument("--neuron", choices=sorted(NEURONS), default=d.neuron, help="neuron model")
    ap.add_argument("--surrogate", choices=SURROGATES, default=d.surrogate, help="surrogate gradient")
    ap.add_argument("--encoding", choices=("current", "rate", "latency"), default=d.encoding, help="input coding")
    ap.add_argument("--compare", action="store_true", help="also train the brainpy.state twin, and time both")
    ap.add_argument("--out", default=d.out, help="folder for the figures")
    ap.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    ap.add_argument(
        "--task",
        choices=TASKS,
        default="static",
        help="static: whole digits (this file); sequential: one row per step "
        "(examples/sequential_digits.py, with its own options)",
    )
    a = ap.parse_args(argv)
    del a.task
    if min(a.epochs, a.steps, a.hidden, a.batch) < 1:
        ap.error("--epochs, --steps, --hidden and --batch must be at least 1")
    if a.batch > 1437:
        ap.error("--batch must be at most 1437 (the training set)")
    return Config(**vars(a))


def summary(result: dict) -> str:
    runs = result["runs"]
    rows = [f"{'':14}{'s/epoch':>10}{'compile s':>11}{'test acc':>10}"]
    for lib, r in runs.items():
        rows.append(f"{lib:14}{np.median(r.epoch_time):>10.3f}{r.compile_s:>11.1f}{100 * r.test_acc[-1]:>9.1f}%")
    if "encode_s" in result:
        rows.append(f"encoding the inputs: {result['encode_s']:.2f} s in all, shared, not in s/epoch")
    if len(runs) == 2:
        ratio = np.median(runs["brainpy.state"].epoch_time) / np.median(runs["spikegrad"].epoch_time)
        rows.append(f"time per epoch, brainpy.state / spikegrad: {ratio:.2f}x (median epoch, compile time excluded)")
    return "\n".join(rows)


#: ``--task``: the whole digit at every step (this file), or one row per step.
TASKS = ("static", "sequential")


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    task = argparse.ArgumentParser(add_help=False)
    task.add_argument("--task", choices=TASKS, default="static")
    known, rest = task.parse_known_args(argv)
    if known.task == "sequential":  # the recurrent network has its own file and options
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import sequential_digits

        return sequential_digits.main(rest)
    cfg = parse_args(argv)
    print(
        f"digits: 64-{cfg.hidden} {cfg.neuron}-10 readout, T={cfg.steps}, {cfg.encoding} coding, batch {cfg.batch}, "
        f"{cfg.epochs} epochs, Adam lr {cfg.lr}, {cfg.surrogate}, jax {jax.__version__} on {jax.default_backend()}"
    )
    result = train(cfg)
    result["figures"] = figures(result, cfg)
    print(summary(result))
    print("figures: " + ", ".join(str(p) for p in result["figures"]))
    result["config"] = cfg
    result["accuracy"] = result["runs"]["spikegrad"].test_acc[-1]
    print(f"test accuracy: {100 * result['accuracy']:.1f}%")
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
