"""docs/tutorial.md runs: its python code blocks, in order, as one program in
a fresh interpreter. The page's own checks (the loss falls, the accuracy
rises above chance, brainpy.state's twin computes the same loss) are asserts
inside that program."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.isolated import run_python

PAGE = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def page_program() -> str:
    return "\n".join(BLOCK.findall(PAGE.read_text()))


def test_page_has_the_program():
    program = page_program()
    # The page trains with spikegrad's fused neuron and checks brainpy.state's twin.
    assert "from spikegrad.neuron import lif" in program
    assert "brainpy.state.LIF(" in program
    assert "assert_allclose" in program


def test_page_runs_and_its_checks_pass():
    result = run_python(page_program(), timeout=600)
    assert result.returncode == 0, f"docs/tutorial.md failed:\n{result.stdout}\n{result.stderr}"
    assert "first-step loss: spikegrad" in result.stdout
