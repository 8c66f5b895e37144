"""The README prints what the code prints: every python block of README.md
that is followed by a "prints" block runs in a fresh interpreter, and its
standard output must equal that block, character for character."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.isolated import run_python

README = Path(__file__).resolve().parents[1] / "README.md"
# A python block, a blank line, the word "prints", a blank line, a plain block
# (each block's lines: any line but a fence).
_LINES = r"((?:(?!```).*\n)*)"
PRINTED = re.compile(rf"^```python\n{_LINES}```\n\nprints\n\n```\n{_LINES}```", re.MULTILINE)


def printed_examples(text: str) -> list[tuple[str, str]]:
    """``(code, expected output)`` of each python block followed by a "prints" block."""
    return PRINTED.findall(text)


EXAMPLES = printed_examples(README.read_text())


def test_readme_has_printed_examples():
    # The "Example" section's block at least; an empty list would test nothing.
    assert EXAMPLES, f"no python block followed by a 'prints' block in {README}"
    assert any("MultiGaussianGrad" in code for code, _ in EXAMPLES)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_prints_what_it_says(index):
    code, expected = EXAMPLES[index]
    result = run_python(code)
    assert result.returncode == 0, f"README example {index} failed:\n{code}\n{result.stderr[-4000:]}"
    assert result.stdout == expected, f"README example {index} prints\n{result.stdout}\nbut the README says\n{expected}"
