"""Generates the documentation's figures into docs/img/ (git-ignored);
scripts/docs.sh runs it before building the site.

- img/surrogates.png: g'(x) of every surrogate in ``spikegrad.surrogate``,
  with its default parameters, computed by spikegrad itself.
- img/fused_ratio.png: the fused neurons' speed against brainpy.state by
  population size, plotted from the table in docs/performance.md (the one
  copy of those numbers).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import jax.numpy as jnp
import matplotlib.pyplot as plt

import spikegrad.surrogate as sg

DOCS = Path(__file__).resolve().parent
#: The table gen_fused_ratio plots: its header row starts with this cell.
FUSED_TABLE = "| f32, scalar parameters |"


def surrogate_classes() -> list[type]:
    """Every concrete surrogate class of spikegrad.surrogate, in its ``__all__`` order."""
    names = [n for n in sg.__all__ if n[0].isupper() and n not in ("Surrogate", "NativeSurrogate")]
    return [getattr(sg, n) for n in names]


def gen_surrogates(out: Path) -> None:
    """One panel per surrogate: g'(x) on [-2, 2] with the default parameters."""
    classes = surrogate_classes()
    cols = 3
    rows = -(-len(classes) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 1.9 * rows), sharex=True)
    x = jnp.linspace(-2.0, 2.0, 801)
    for ax, cls in zip(axes.flat, classes):
        ax.plot(x, cls().surrogate_grad(x), color="tab:blue", lw=1.4)
        ax.axhline(0.0, color="0.7", lw=0.6)
        ax.set_title(cls.__name__, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(classes) :]:
        ax.axis("off")
    fig.suptitle("g'(x) of every spikegrad.surrogate class, default parameters", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def fused_table(page: Path) -> tuple[list[int], dict[str, tuple[list[float], list[float]]]]:
    """The fused-neuron table of ``page``: exponents of N, and per model the
    forward and BPTT ratios (cells like ``1.28x / 1.60x``)."""
    lines = page.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(FUSED_TABLE))
    exponents = [int(c.strip().removeprefix("2^")) for c in lines[start].strip("|").split("|")[1:]]
    models = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, *cells = (c.strip() for c in line.strip("|").split("|"))
        pairs = [re.findall(r"([\d.]+)x", c) for c in cells]
        models[name.split()[0]] = ([float(p[0]) for p in pairs], [float(p[1]) for p in pairs])
    return exponents, models


def gen_fused_ratio(page: Path, out: Path) -> None:
    """Forward and BPTT ratio against N, one line per model."""
    exponents, models = fused_table(page)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, index, title in ((axes[0], 0, "forward"), (axes[1], 1, "BPTT (grad)")):
        for model, ratios in models.items():
            ax.plot(exponents, ratios[index], marker="o", label=model)
        ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
        ax.set_xticks(exponents, [f"$2^{{{e}}}$" for e in exponents])
        ax.set_xlabel("neurons N")
        ax.set_title(title)
    axes[0].set_ylabel("brainpy.state time / spikegrad time")
    axes[1].legend()
    fig.suptitle("Fused neurons against brainpy.state (T=100, f32; docs/performance.md)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS / "img", help="folder for the figures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    gen_surrogates(args.out / "surrogates.png")
    gen_fused_ratio(DOCS / "performance.md", args.out / "fused_ratio.png")
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
