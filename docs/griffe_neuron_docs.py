"""A griffe extension for the docs build (mkdocs.yml loads it).

The fused neurons' functions and modules share parts of their docstrings:
a line such as ``{keywords}`` stands for a block of
python/spikegrad/neuron/_doc_blocks.py, which the ``@filled`` decorator
expands at import time. Reading the source alone would show the
placeholder; this extension expands it the same way, with the same file
loaded alone (without importing spikegrad).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import griffe

BLOCKS = Path(__file__).resolve().parents[1] / "python" / "spikegrad" / "neuron" / "_doc_blocks.py"


def load_fill():
    """The function ``fill`` from its file, alone."""
    spec = importlib.util.spec_from_file_location("spikegrad_neuron_doc_blocks", BLOCKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fill


class NeuronDocBlocks(griffe.Extension):
    """Expands the shared-block lines of docstrings under ``spikegrad.neuron``."""

    def __init__(self) -> None:
        super().__init__()
        self.fill = load_fill()

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.name == "spikegrad":
            self.visit(pkg.modules["neuron"])

    def visit(self, module: griffe.Module) -> None:
        for submodule in module.modules.values():
            self.visit(submodule)
        for member in module.members.values():
            if not member.is_alias and (member.is_function or member.is_class) and member.docstring:
                member.docstring.value = self.fill(member.docstring.value)
