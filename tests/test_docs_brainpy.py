"""docs/brainpy.md runs: its python code blocks, in order, as one program in a
fresh interpreter (tests/helpers/markdown.py). The page's own checks (training
lowers the loss, losses and gradients equal braintools') are asserts inside
that program."""

from __future__ import annotations

from pathlib import Path

from helpers.markdown import page_program, python_blocks, run_page

PAGE = Path(__file__).resolve().parents[1] / "docs" / "brainpy.md"


def test_page_has_the_program():
    program = page_program(python_blocks(PAGE.read_text()))
    # The page must swap spikegrad in and compare with braintools, or it tests nothing.
    assert "spk_fun = spikegrad.surrogate." in program
    assert "braintools.surrogate." in program
    assert "assert_allclose" in program


def test_page_runs_and_its_checks_pass():
    _, stdout = run_page(PAGE, timeout=600)
    assert "spikegrad matches braintools at every step" in stdout
