"""Copy brainpy.state's own neuron tests from the INSTALLED brainpy into a
directory, with a ``conftest.py`` that swaps spikegrad in.

The test files are copied unchanged. They never name a surrogate: the neurons
take braintools' default ``spk_fun`` (``ReluGrad()``), a default argument
bound when brainpy.state is imported. The conftest replaces every braintools
surrogate among the default arguments of brainpy.state's classes with the
spikegrad surrogate of the same name and parameters (same ``repr``), then
checks that each neuron class the copied files use now builds with a
spikegrad ``spk_fun``; it fails the run if any does not. brainpy is located
through its package metadata, not imported.

    python scripts/brainpy_state_suites.py DEST
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

#: The test files of brainpy.state run against spikegrad: the LIF family.
FILES = ["lif_test.py"]

CONFTEST = '''\
"""Swap spikegrad's surrogates in for braintools' among the default arguments
of brainpy.state's classes (written by scripts/brainpy_state_suites.py)."""

import inspect

import brainpy.state as bps
import braintools.surrogate as bt

import spikegrad.surrogate as sg


def _ours(theirs):
    cls = getattr(sg, type(theirs).__name__)
    ours = cls(**{name: getattr(theirs, name) for name in cls._param_names})
    assert repr(ours) == repr(theirs), (ours, theirs)
    return ours


def _swap(values):
    return tuple(_ours(v) if isinstance(v, bt.Surrogate) else v for v in values)


swapped = []
for name, cls in vars(bps).items():
    init = getattr(cls, "__init__", None) if isinstance(cls, type) else None
    if init is None or not hasattr(init, "__defaults__"):
        continue
    if init.__defaults__ and any(isinstance(v, bt.Surrogate) for v in init.__defaults__):
        init.__defaults__ = _swap(init.__defaults__)
        swapped.append(name)
    if init.__kwdefaults__ and any(isinstance(v, bt.Surrogate) for v in init.__kwdefaults__.values()):
        init.__kwdefaults__ = dict(zip(init.__kwdefaults__, _swap(init.__kwdefaults__.values())))
        swapped.append(name)

# Every neuron with a spike function that the tests build now gets spikegrad's.
NEURONS = [n for n in vars(bps) if isinstance(getattr(bps, n), type)
           and "spk_fun" in inspect.signature(getattr(bps, n).__init__).parameters]
for name in NEURONS:
    spk_fun = getattr(bps, name)(3).spk_fun
    assert isinstance(spk_fun, sg.Surrogate), f"brainpy.state.{name} still builds spk_fun={spk_fun!r}"
assert NEURONS and swapped, "no spiking neuron found in brainpy.state"


def pytest_report_header(config):
    return f"spikegrad swapped in as the default spk_fun of brainpy.state's {len(NEURONS)} spiking neurons"
'''


def main(dest: str) -> None:
    dist = importlib.metadata.distribution("brainpy")
    src = Path(dist.locate_file("brainpy/state"))
    missing = [name for name in FILES if not (src / name).is_file()]
    if missing:
        sys.exit(f"brainpy_state_suites: brainpy {dist.version} ships no brainpy/state/{', '.join(missing)}")
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (out / f"bps_{name}").write_text((src / name).read_text())
    (out / "conftest.py").write_text(CONFTEST)
    print(dist.version)


if __name__ == "__main__":
    main(sys.argv[1])
