"""The API reference covers the public API: every name in the ``__all__`` of
``spikegrad`` and of each public submodule it lists has a docstring with an
Examples section (functions and classes also Parameters, when they take any),
its examples run (doctest), and the name has a ``::: module.name`` entry on
an API page of docs/api/ (a re-exported object may be documented once, under
the module that defines it). The site build (scripts/docs.sh, mkdocs
--strict) then checks that every entry resolves."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

import spikegrad

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def public_modules() -> list[types.ModuleType]:
    """spikegrad and every submodule its ``__all__`` lists."""
    subs = [getattr(spikegrad, n) for n in spikegrad.__all__ if isinstance(getattr(spikegrad, n), types.ModuleType)]
    return [spikegrad, *subs]


PUBLIC = [(m.__name__, name) for m in public_modules() for name in m.__all__]
IDS = [f"{m}.{n}" for m, n in PUBLIC]


def public_object(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def attribute_docstring(module: str, name: str) -> str | None:
    """The string literal after ``name = ...`` at the top level of the module
    that defines ``name`` (how a constant is documented), else None."""
    mod = importlib.import_module(module)
    sources = [mod] + [v for v in vars(mod).values() if isinstance(v, types.ModuleType)]
    for source in sources:
        tree = ast.parse(inspect.getsource(source))
        body = tree.body
        for stmt, after in zip(body, body[1:]):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    return inspect.cleandoc(after.value.value)
    return None


def docstring(module: str, name: str) -> str:
    obj = public_object(module, name)
    if isinstance(obj, (types.ModuleType, type, types.FunctionType)) or callable(obj):
        return inspect.getdoc(obj) or ""
    return attribute_docstring(module, name) or ""


def has_section(doc: str, title: str) -> bool:
    return re.search(rf"^{title}\n-{{{len(title)}}}$", doc, re.MULTILINE) is not None


def takes_parameters(obj) -> bool:
    if isinstance(obj, type) and obj.__init__ is object.__init__:
        return False
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return any(p not in ("self", "cls") for p in params)


def test_public_api_is_found():
    names = {f"{m}.{n}" for m, n in PUBLIC}
    assert {"spikegrad.spike", "spikegrad.surrogate.Sigmoid", "spikegrad.neuron.lif"} <= names


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=IDS)
def test_public_name_has_a_docstring_with_examples(module, name):
    doc = docstring(module, name)
    assert doc, f"{module}.{name} has no docstring"
    assert has_section(doc, "Examples"), f"{module}.{name}: no 'Examples' section"
    obj = public_object(module, name)
    if callable(obj) and takes_parameters(obj):
        assert has_section(doc, "Parameters"), f"{module}.{name}: no 'Parameters' section"


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=IDS)
def test_public_name_examples_run(module, name):
    obj = public_object(module, name)
    if not (isinstance(obj, (types.ModuleType, type)) or callable(obj)):
        doc = attribute_docstring(module, name)
        tests = [doctest.DocTestParser().get_doctest(doc, {}, f"{module}.{name}", None, 0)]
    else:
        tests = doctest.DocTestFinder(recurse=False).find(obj, f"{module}.{name}", globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    examples = 0
    for test in tests:
        examples += len(test.examples)
        runner.run(test)
    assert examples, f"{module}.{name}: its docstring has no >>> example"
    assert runner.failures == 0, f"{module}.{name}: {runner.failures} example(s) failed (see the output above)"


def api_entries() -> dict[str, Path]:
    entries = {}
    for page in sorted(API.glob("*.md")):
        for identifier in DIRECTIVE.findall(page.read_text()):
            assert identifier not in entries, f"{identifier} is documented twice"
            entries[identifier] = page
    return entries


def test_every_public_name_is_in_the_api_reference():
    entries = api_entries()
    documented = []
    for identifier in entries:
        module, _, name = identifier.rpartition(".")
        try:
            documented.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError, ValueError):
            documented.append(importlib.import_module(identifier))
    missing = []
    for module, name in PUBLIC:
        obj = public_object(module, name)
        if f"{module}.{name}" not in entries and not any(obj is d for d in documented):
            missing.append(f"{module}.{name}")
    assert not missing, f"not in docs/api/*.md as '::: module.name': {missing}"


def test_every_public_module_has_its_page_in_the_site():
    nav = (ROOT / "mkdocs.yml").read_text()
    for module in public_modules():
        page = API / f"{module.__name__.removeprefix('spikegrad.')}.md"
        assert page.exists(), f"{module.__name__}: no {page.relative_to(ROOT)}"
        assert f"::: {module.__name__}\n" in page.read_text()
        assert f"api/{page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"
