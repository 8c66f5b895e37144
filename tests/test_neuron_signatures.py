"""Every model's public function and brainstate module spell out its
description's parameters (``_models.MODELS``), with the same defaults; the
function's initial-state arguments follow the states, ``v0`` first."""

from __future__ import annotations

import inspect
import keyword

import pytest

from spikegrad import neuron
from spikegrad.neuron._models import MODELS

#: What every function takes besides ``x``, the initial states and the parameters.
COMMON = {"dt", "spk_fun", "spk_reset", "save_every", "return_states", "w_rec", "return_v"}
#: What every module takes besides ``in_size``, the parameters and the initializers.
MODULE_COMMON = {"spk_fun", "spk_reset", "name", "save_every", "w_rec", "v0"}


def _function(name):
    return getattr(neuron, f"{name}_" if keyword.iskeyword(name) else name)


@pytest.mark.parametrize("name", list(MODELS))
def test_function_signature_is_the_description(name):
    m = MODELS[name]
    sig = inspect.signature(_function(name))
    positional = [p for p, v in sig.parameters.items() if v.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional[0] == "x"
    z0 = positional[1:]
    assert len(z0) == m.n_states and z0[0] == "v0", (name, z0)
    assert all(sig.parameters[a].default is None for a in z0)
    keywords = {p: v.default for p, v in sig.parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
    assert keywords.pop("dt") is inspect.Parameter.empty
    params = {p: d for p, d in keywords.items() if p not in COMMON}
    assert params == m.params, name


@pytest.mark.parametrize("name", list(MODELS))
def test_module_constructor_is_the_description(name):
    m = MODELS[name]
    sig = inspect.signature(getattr(neuron, m.class_name).__init__)
    names = [p for p in sig.parameters if p not in ("self", "in_size")]
    params = {p: sig.parameters[p].default for p in names if p not in MODULE_COMMON and not p.endswith("_initializer")}
    assert params == m.params, name
    inits = {p.removesuffix("_initializer"): sig.parameters[p].default for p in names if p.endswith("_initializer")}
    # An initializer per state but the ones brainpy.state has none for (LIFRef's clock).
    assert set(inits) <= set(m.states) and "V" in inits
    for state, default in inits.items():
        assert default == m.init.get(state, 0.0), (name, state)


def _documented(doc: str) -> set[str]:
    """The names of a numpy-style docstring's Parameters entries (``a, b : type`` lines)."""
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0]
    names = set()
    for line in section.splitlines():
        if line and not line.startswith(" "):
            names.update(n.strip() for n in line.split(" : ")[0].split(","))
    return names


@pytest.mark.parametrize("name", list(MODELS))
def test_every_argument_is_documented(name):
    """The shared docstring blocks (``_doc_blocks``) are filled in, and together with
    each model's own entries they document every argument of the function and the module."""
    for obj, skip in ((_function(name), set()), (getattr(neuron, MODELS[name].class_name), {"self"})):
        doc = inspect.getdoc(obj)
        text = doc.split("Examples")[0].replace('{"soft", "hard"}', "")
        assert "{" not in text, f"{obj.__name__}: a block left unfilled"
        target = obj.__init__ if inspect.isclass(obj) else obj
        args = set(inspect.signature(target).parameters) - skip
        assert args <= _documented(doc), (obj.__name__, args - _documented(doc))
