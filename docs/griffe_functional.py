"""A griffe extension for the docs build (mkdocs.yml loads it).

Each surrogate's functional form is made at import time,
``sigmoid = functional(Sigmoid, "sigmoid")``, so reading the source alone
shows an attribute with no docstring. This extension shows it as the function
it is at run time: ``x`` then the class's parameters, and the docstring that
``functional()`` gives it, from the same template
(python/spikegrad/surrogate/_functional_doc.py, loaded without importing
spikegrad).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import griffe

TEMPLATE = Path(__file__).resolve().parents[1] / "python" / "spikegrad" / "surrogate" / "_functional_doc.py"


def load_template():
    """The template function ``functional_doc`` from its file, alone."""
    spec = importlib.util.spec_from_file_location("spikegrad_functional_doc", TEMPLATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.functional_doc


class FunctionalForms(griffe.Extension):
    """Turns ``name = functional(Class, "name")`` attributes into documented functions."""

    def __init__(self) -> None:
        super().__init__()
        self.functional_doc = load_template()

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.name == "spikegrad":
            self.visit(pkg)

    def visit(self, module: griffe.Module) -> None:
        for submodule in module.modules.values():
            self.visit(submodule)
        for name, member in list(module.members.items()):
            if member.is_alias or not member.is_attribute:
                continue
            value = member.value
            if not (isinstance(value, griffe.ExprCall) and str(value.function) == "functional"):
                continue
            cls = module.members[str(value.arguments[0])]
            params = [p for p in cls.members["__init__"].parameters if p.name != "self"]
            x = griffe.Parameter("x", annotation="ArrayLike", kind=griffe.ParameterKind.positional_or_keyword)
            text = self.functional_doc(cls.name, name, [(p.name, str(p.default)) for p in params])
            function = griffe.Function(
                name,
                lineno=member.lineno,
                endlineno=member.endlineno,
                parameters=griffe.Parameters(x, *params),
                returns="jax.Array",
                docstring=griffe.Docstring(text, lineno=member.lineno),
            )
            module.set_member(name, function)
