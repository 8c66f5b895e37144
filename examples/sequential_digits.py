"""The digits revealed over time: a recurrent ALIF network that must remember
the rows it has seen, with spikegrad's fused recurrent neuron and
``SpikeLinear`` readout, and (``--compare``) the same network in brainpy.state.

    bash scripts/train_digits.sh --task sequential [options]
    python examples/sequential_digits.py [--compare] [--epochs N] [--hold K] ...

Task. scikit-learn's 8x8 digits (``train_digits.load_data``: the same split),
shown one row at a time: step ``t`` presents row ``t // K`` (8 pixels, as
input currents), each row held for ``K`` steps (``--hold``), so ``T = 8 K``.
No single step shows enough of a digit to name it; the network has to carry
what the earlier rows showed to the end.

Model. ``8 -> dense -> H recurrent ALIF -> SpikeLinear -> 10 leaky readout``.
The hidden layer is ``spikegrad.neuron.ALIF`` with ``w_rec`` (an ``[H, H]``
``ParamState``): each step's input is the row's current plus the last step's
spikes through ``w_rec``, and the whole sequence is one call. Its BPTT keeps
every step's state (``--save-every 1``; the library's default, 16, keeps one
in 16 and recomputes the rest, which saves memory a network this small does
not need). Its adaptive
threshold (``tau_a``) is a second, slower memory. The readout
``spikegrad.synapse.SpikeLinear`` multiplies the hidden spikes by its weight
reading only the nonzero spikes. Ten leaky integrators (``tau`` = 5, as
``train_digits``) sum the readout over time; the logits are their potentials
averaged over the last row's steps, when the whole digit has been seen.
Loss: softmax cross-entropy, BPTT with ``brainstate.transform.grad``, Adam.

Side by side (``--compare``). brainpy.state's ``ALIF`` with a bias-free
``brainstate.nn.Linear(H, H)`` as the recurrence and ``brainstate.nn.Linear``
as the readout, stepped by ``brainstate.transform.for_loop``:
``h = alif(x_t + rec(alif.get_spike()))``, as a brainpy.state user writes it.
Same initial weights, batches, optimizer and training-step code; the epochs
alternate, and the time per epoch excludes compilation, as in ``train_digits``.

Output. Progress bars, a summary, three figures in ``--out``
(``sequential_curves.png``, ``sequential_raster.png``,
``sequential_confusion.png``), and last ``test accuracy: NN.N%``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_digits as digits  # noqa: E402  (the shared data, runs, timing and figures)

ROWS, N_OUT, DT = 8, 10, 1.0
LIBRARIES = digits.LIBRARIES


@dataclass
class Config:
    epochs: int = 40
    hold: int = 3
    hidden: int = 128
    batch: int = 128
    lr: float = 2e-2
    seed: int = 0
    tau: float = 10.0
    tau_a: float = 50.0
    beta: float = 0.5
    save_every: int = 1  # BPTT keeps every step's state: small here, and nothing is recomputed
    compare: bool = False
    out: str = "out"
    progress: bool = True
    subset: int = 0  # train on the first N training digits only (0: all); for quick checks

    @property
    def steps(self) -> int:
        return ROWS * self.hold


# ---- data -------------------------------------------------------------------------


def as_sequence(pixels, hold: int) -> jax.Array:
    """Digits ``[batch, 64]`` to the input sequence ``[8 * hold, batch, 8]``: row ``r``
    of each digit at steps ``r * hold .. (r + 1) * hold - 1``."""
    rows = jnp.asarray(pixels, jnp.float32).reshape(-1, ROWS, ROWS).transpose(1, 0, 2)  # [8, batch, 8]
    return jnp.repeat(rows, hold, axis=0)


# ---- the two networks -------------------------------------------------------------


def init_weights(cfg: Config) -> dict:
    """Initial weights from ``cfg.seed`` (float32 NumPy); both networks start from these."""
    rng = np.random.default_rng(cfg.seed)
    h = cfg.hidden
    return dict(
        w_in=rng.normal(0.0, 2.0 / np.sqrt(0.3 * ROWS), (ROWS, h)),  # about a third of a row's pixels are lit
        b_in=np.zeros(h),
        w_rec=rng.normal(0.0, 0.5 / np.sqrt(0.1 * h), (h, h)) * (1.0 - np.eye(h)),  # no self-connections
        w_out=rng.normal(0.0, 1.0 / np.sqrt(0.1 * h), (h, N_OUT)),
    )


def _alif_params(cfg: Config) -> dict:
    return dict(R=1.0, tau=cfg.tau, tau_a=cfg.tau_a, V_th=1.0, V_reset=0.0, V_rest=0.0, beta=cfg.beta)


def _f32(a):
    return jnp.asarray(a, jnp.float32)


def spikegrad_net(cfg: Config, w: dict):
    """The network on spikegrad: one fused recurrent ALIF call and a ``SpikeLinear`` readout."""
    import brainstate

    import spikegrad.neuron
    import spikegrad.surrogate
    from spikegrad.synapse import SpikeLinear

    class Net(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = brainstate.nn.Linear(ROWS, cfg.hidden, w_init=_f32(w["w_in"]), b_init=_f32(w["b_in"]))
            self.hidden = spikegrad.neuron.ALIF(
                cfg.hidden,
                **_alif_params(cfg),
                spk_fun=spikegrad.surrogate.MultiGaussianGrad(),
                save_every=cfg.save_every,
                w_rec=_f32(w["w_rec"]),
            )
            self.readout = SpikeLinear(cfg.hidden, N_OUT, w_init=_f32(w["w_out"]))

        def update(self, xs):
            """``xs`` ``[T, batch, 8]`` -> (hidden spikes ``[T, batch, H]``, readout input ``[T, batch, 10]``)."""
            self.hidden.reset_state(batch_size=xs.shape[1])
            with brainstate.environ.context(dt=DT):
                spikes = self.hidden(self.inp(xs))  # the whole sequence, one call
            return spikes, self.readout(spikes)

    return Net()


def brainpy_net(cfg: Config, w: dict):
    """The same network in brainpy.state: ``ALIF`` with a dense recurrence and readout, in ``for_loop``."""
    import brainpy
    import brainstate
    import braintools

    class Net(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = brainstate.nn.Linear(ROWS, cfg.hidden, w_init=_f32(w["w_in"]), b_init=_f32(w["b_in"]))
            self.hidden = brainpy.state.ALIF(
                cfg.hidden,
                **_alif_params(cfg),
                spk_fun=braintools.surrogate.MultiGaussianGrad(),
                V_initializer=braintools.init.Constant(0.0),
                a_initializer=braintools.init.Constant(0.0),
            )
            self.rec = brainstate.nn.Linear(cfg.hidden, cfg.hidden, w_init=_f32(w["w_rec"]), b_init=None)
            self.readout = brainstate.nn.Linear(cfg.hidden, N_OUT, w_init=_f32(w["w_out"]), b_init=None)

        def update(self, xs):
            self.hidden.reset_state(batch_size=xs.shape[1])

            def step(x):
                s = self.hidden(self.inp(x) + self.rec(self.hidden.get_spike()))
                return s, self.readout(s)

            with brainstate.environ.context(dt=DT):
                return brainstate.transform.for_loop(step, xs)

    return Net()


NETWORKS = {"spikegrad": spikegrad_net, "brainpy.state": brainpy_net}


def logits_of(readout_in, hold: int) -> jax.Array:
    """The leaky readout ``r_t = exp(-dt/tau) r_{t-1} + readout_in_t`` (``[T, batch, 10]``),
    averaged over the last row's ``hold`` steps: ``[batch, 10]``. Linear in the input, so
    it is one weighted sum over time; both networks run this same function."""
    steps = readout_in.shape[0]
    a = np.exp(-DT / digits.READOUT_TAU)
    t = np.arange(steps)
    last = t[-hold:]
    c = (a ** (last[:, None] - t[None]) * (last[:, None] >= t[None])).mean(0)  # weight of step t in the mean
    return jnp.tensordot(jnp.asarray(c, readout_in.dtype), readout_in, axes=1)


# ---- training ---------------------------------------------------------------------


def make_fns(library: str, cfg: Config, w: dict, optimizer):
    """The network's jitted ``step(opt_state, xs, labels) -> (opt_state, loss, correct)``,
    ``evaluate(xs) -> logits``, ``trace(xs) -> hidden spikes``, its parameters (the
    ``ParamState`` objects the step updates) and its initial optimizer state."""
    import brainstate

    net = NETWORKS[library](cfg, w)
    net.hidden.init_state(batch_size=cfg.batch)
    params = net.states(brainstate.ParamState)

    def loss_fn(xs, labels):
        _, readout_in = net(xs)
        logits = logits_of(readout_in, cfg.hold)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), logits

    @brainstate.transform.jit
    def step(opt_state, xs, labels):
        grads, loss, logits = brainstate.transform.grad(loss_fn, grad_states=params, has_aux=True, return_value=True)(
            xs, labels
        )
        values = {k: s.value for k, s in params.items()}
        updates, opt_state = optimizer.update(grads, opt_state, values)
        for k, v in optax.apply_updates(values, updates).items():
            params[k].value = v
        return opt_state, loss, jnp.sum(jnp.argmax(logits, -1) == labels)

    @brainstate.transform.jit
    def evaluate(xs):
        return logits_of(net(xs)[1], cfg.hold)

    @brainstate.transform.jit
    def trace(xs):
        return net(xs)[0]

    opt_state = optimizer.init({k: s.value for k, s in params.items()})
    return step, evaluate, trace, params, opt_state


def train(cfg: Config, data: digits.Digits | None = None) -> dict:
    """Train spikegrad's network (and brainpy.state's twin with ``cfg.compare``)."""
    data = digits.load_data() if data is None else data
    if cfg.subset:
        data = data._replace(x_train=data.x_train[: cfg.subset], y_train=data.y_train[: cfg.subset])
    libraries = LIBRARIES if cfg.compare else LIBRARIES[:1]
    # the learning rate decays to zero over the run (cosine): steadier last epochs
    n_steps = cfg.epochs * (len(data.x_train) // cfg.batch)
    optimizer = optax.adam(optax.cosine_decay_schedule(cfg.lr, max(n_steps, 1)))
    w = init_weights(cfg)
    xs_test, y_test = as_sequence(data.x_test, cfg.hold), jnp.asarray(data.y_test)
    x_train, y_train = as_sequence(data.x_train, cfg.hold), jnp.asarray(data.y_train)
    runs, fns = {}, {}
    for lib in libraries:
        t0 = time.perf_counter()
        step, evaluate, trace, params, opt_state = make_fns(lib, cfg, w, optimizer)
        # one step on a copy of the optimizer state, its update undone: the
        # compilation and first-call costs are not training time
        start = {k: s.value for k, s in params.items()}
        jax.block_until_ready(step(jax.tree.map(jnp.copy, opt_state), x_train[:, : cfg.batch], y_train[: cfg.batch]))
        for k, s in params.items():
            s.value = start[k]
        run = digits.Run(lib, None, opt_state, evaluate=evaluate)
        run.test_acc.append(digits.accuracy(evaluate(xs_test), y_test))
        run.test_time.append(0.0)
        run.compile_s = time.perf_counter() - t0
        runs[lib], fns[lib] = run, (step, trace)

    width = max(len(lib) for lib in libraries)
    for epoch in range(cfg.epochs):
        order = digits.epoch_order(cfg, epoch, len(data.x_train))
        batches = [(x_train[:, idx], y_train[idx]) for idx in order]
        for lib, run in runs.items():

            def advance(x, y, run=run, step=fns[lib][0]):
                run.opt_state, loss, n_ok = step(run.opt_state, x, y)
                return loss, n_ok

            label = f"{lib:>{width}} epoch {epoch + 1}/{cfg.epochs}"
            digits.train_epoch(
                run, label, batches, advance, lambda run=run: digits.accuracy(run.evaluate(xs_test), y_test), cfg
            )
    return dict(runs=runs, data=data, xs_test=xs_test, trace=fns["spikegrad"][1])


# ---- figures ----------------------------------------------------------------------


def figures(result: dict, cfg: Config) -> list[Path]:
    """Write the three figures into ``cfg.out``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    runs, data, xs_test = result["runs"], result["data"], result["xs_test"]
    title = f"sequential digits, 8-{cfg.hidden} recurrent ALIF-10 readout, T={cfg.steps} ({cfg.hold} steps a row)"
    paths = [digits.plot_curves(runs, out / "sequential_curves.png", title)]

    # the hidden spikes of four test digits, one row of pixels after another
    picks = digits._examples(data.y_test)
    spikes = np.asarray(result["trace"](xs_test[:, picks]))  # [T, 4, H]
    pred = np.asarray(jnp.argmax(runs["spikegrad"].evaluate(xs_test), -1))
    counts = spikes.sum((0, 1))
    shown = np.argsort(-counts, kind="stable")[: min(64, max(int(np.count_nonzero(counts)), 1))]
    fig, axes = plt.subplots(2, len(picks), figsize=(3.2 * len(picks), 6.5), gridspec_kw=dict(height_ratios=[1, 2]))
    for j, i in enumerate(picks):
        axes[0, j].imshow(data.x_test[i].reshape(ROWS, ROWS), cmap="gray_r")
        axes[0, j].set_title(f"label {data.y_test[i]}, predicted {pred[i]}")
        axes[0, j].axis("off")
        t, n = np.nonzero(spikes[:, j, shown])
        axes[1, j].scatter(t + 1, n, s=4, marker="|", color="k")
        for r in range(1, ROWS):  # where the next row of pixels starts
            axes[1, j].axvline(r * cfg.hold + 0.5, color="tab:blue", lw=0.5, alpha=0.4)
        axes[1, j].set(xlim=(0.5, cfg.steps + 0.5), ylim=(-0.5, len(shown) - 0.5), xlabel="time step")
    axes[1, 0].set_ylabel(f"hidden neuron ({len(shown)} of {cfg.hidden}, busiest first)")
    fig.suptitle("recurrent ALIF spikes while the rows arrive (blue lines: next row)")
    fig.tight_layout()
    paths.append(out / "sequential_raster.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    paths.append(digits.plot_confusion(data.y_test, pred, out / "sequential_confusion.png"))
    return paths


# ---- command line -----------------------------------------------------------------


def parse_args(argv=None) -> Config:
    d = Config()
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--epochs", type=int, default=d.epochs)
    ap.add_argument("--hold", type=int, default=d.hold, help="time steps each row is shown (T = 8 * hold)")
    ap.add_argument("--hidden", type=int, default=d.hidden, help="recurrent ALIF neurons")
    ap.add_argument("--batch", type=int, default=d.batch)
    ap.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=d.seed, help="weights and batch order")
    ap.add_argument("--tau", type=float, default=d.tau, help="membrane time constant")
    ap.add_argument("--tau-a", dest="tau_a", type=float, default=d.tau_a, help="adaptation time constant")
    ap.add_argument("--beta", type=float, default=d.beta, help="adaptation's weight on the threshold")
    ap.add_argument(
        "--save-every",
        dest="save_every",
        type=int,
        default=d.save_every,
        help="spikegrad's BPTT checkpoint stride (1: every step's state kept, none recomputed)",
    )
    ap.add_argument("--subset", type=int, default=d.subset, help="train on the first N training digits (0: all)")
    ap.add_argument("--compare", action="store_true", help="also train the brainpy.state twin, and time both")
    ap.add_argument("--out", default=d.out, help="folder for the figures")
    ap.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    a = ap.parse_args(argv)
    if min(a.epochs, a.hold, a.hidden, a.batch, a.save_every) < 1:
        ap.error("--epochs, --hold, --hidden, --batch and --save-every must be at least 1")
    if a.subset < 0 or a.batch > (a.subset or 1437):
        ap.error("--batch must be at most the number of training digits (--subset, or 1437)")
    if min(a.tau, a.tau_a) <= 0:
        ap.error("--tau and --tau-a must be positive")
    return Config(**vars(a))


def main(argv=None) -> dict:
    cfg = parse_args(argv)
    print(
        f"sequential digits: 8 rows x {cfg.hold} steps (T={cfg.steps}), 8-{cfg.hidden} recurrent ALIF-10 readout, "
        f"batch {cfg.batch}, {cfg.epochs} epochs, Adam lr {cfg.lr}, jax {jax.__version__} on {jax.default_backend()}"
    )
    result = train(cfg)
    result["figures"] = figures(result, cfg)
    print(digits.summary(result))
    print("figures: " + ", ".join(str(p) for p in result["figures"]))
    result["config"] = cfg
    result["accuracy"] = result["runs"]["spikegrad"].test_acc[-1]
    print(f"test accuracy: {100 * result['accuracy']:.1f}%")
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
