"""docs/tutorial.md runs: its python code blocks, in order, as one program in
a fresh interpreter (tests/helpers/markdown.py). The page's own checks (the
loss falls, the accuracy rises above chance, brainpy.state's twin computes the
same loss) are asserts inside that program."""

from __future__ import annotations

from pathlib import Path

from helpers.markdown import page_program, python_blocks, run_page

PAGE = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def test_page_has_the_program():
    program = page_program(python_blocks(PAGE.read_text()))
    # The page trains with spikegrad's fused neuron and checks brainpy.state's twin.
    assert "from spikegrad.neuron import lif" in program
    assert "brainpy.state.LIF(" in program
    assert "assert_allclose" in program


def test_page_runs_and_its_checks_pass():
    _, stdout = run_page(PAGE, timeout=600)
    assert "first-step loss: spikegrad" in stdout
