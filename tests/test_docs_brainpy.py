"""docs/brainpy.md runs: its python code blocks, in order, as one program in a
fresh interpreter. The page's own checks (training lowers the loss, losses and
gradients equal braintools') are asserts inside that program."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.isolated import run_python

PAGE = Path(__file__).resolve().parents[1] / "docs" / "brainpy.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def page_program() -> str:
    return "\n".join(BLOCK.findall(PAGE.read_text()))


def test_page_has_the_program():
    program = page_program()
    # The page must swap spikegrad in and compare with braintools, or it tests nothing.
    assert "spk_fun = spikegrad.surrogate." in program
    assert "braintools.surrogate." in program
    assert "assert_allclose" in program


def test_page_runs_and_its_checks_pass():
    result = run_python(page_program(), timeout=600)
    assert result.returncode == 0, f"docs/brainpy.md failed:\n{result.stdout}\n{result.stderr}"
    assert "spikegrad matches braintools at every step" in result.stdout
