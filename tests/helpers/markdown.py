"""Runs the python code blocks of a markdown page (the README, docs/*.md) and
checks what they print.

The conventions a page follows:

- Every ```` ```python ```` block runs, in page order, as one program in a
  fresh interpreter (later blocks may use earlier blocks' names), unless the
  line before it is an HTML comment ``<!-- not-run: reason -->``, for code
  that cannot run in the tests (a GPU, a long training run, a fragment with
  the reader's own names). The comment is invisible on the rendered page.
- A block followed by a blank line, the word ``prints``, a blank line and a
  plain ```` ``` ```` block must print exactly that block's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .isolated import run_python

#: A fence line opening a block, with its info string ("python", "bash", "").
_FENCE = re.compile(r"^```(\S*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(\S.*?)\s*-->\s*$")
#: Printed between blocks, to split the program's output by block.
_SEPARATOR = "=== spikegrad docs block {} ==="


@dataclass(frozen=True)
class Block:
    """One python block of a page.

    ``printed`` is the text of its "prints" block (None if it has none);
    ``not_run`` the reason given in a ``not-run`` comment (None if it runs);
    ``line`` the 1-based line of its opening fence."""

    code: str
    printed: str | None
    not_run: str | None
    line: int


def _fenced(lines: list[str], start: int) -> tuple[str, int]:
    """The text of the block whose opening fence is ``lines[start]``, and the
    index of the line after its closing fence."""
    end = start + 1
    while end < len(lines) and lines[end].rstrip() != "```":
        end += 1
    if end == len(lines):
        raise ValueError(f"line {start + 1}: a code block is not closed")
    return "".join(line + "\n" for line in lines[start + 1 : end]), end + 1


def python_blocks(text: str) -> list[Block]:
    """Every python block of the markdown ``text``, in order."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        code, after = _fenced(lines, i)
        if fence.group(1) != "python":
            i = after
            continue
        marker = _NOT_RUN.match(lines[i - 1]) if i > 0 else None
        printed = None
        if lines[after : after + 3] == ["", "prints", ""] and after + 3 < len(lines):
            if lines[after + 3].rstrip() == "```":
                printed, next_i = _fenced(lines, after + 3)
                after = next_i
        blocks.append(Block(code, printed, marker.group(1) if marker else None, i + 1))
        i = after
    return blocks


def page_program(blocks: list[Block]) -> str:
    """The blocks that run, as one program that prints a separator before each."""
    parts = []
    for index, block in enumerate(blocks):
        if block.not_run is None:
            parts.append(f"print({_SEPARATOR.format(index)!r}, flush=True)\n{block.code}")
    return "\n".join(parts)


def block_outputs(stdout: str, blocks: list[Block]) -> dict[int, str]:
    """What each running block printed, by index, split at the separators."""
    outputs, current = {}, None
    separators = {_SEPARATOR.format(i): i for i in range(len(blocks))}
    for line in stdout.splitlines(keepends=True):
        index = separators.get(line.rstrip("\n"))
        if index is not None:
            current = index
            outputs[current] = ""
        elif current is not None:
            outputs[current] += line
    return outputs


def run_page(page: Path, timeout: float = 600) -> tuple[list[Block], str]:
    """Runs the page's python blocks as one program and checks that it exits 0
    and that every block with a "prints" block printed exactly that. Returns
    the blocks and the program's whole standard output."""
    blocks = python_blocks(page.read_text())
    result = run_python(page_program(blocks), timeout=timeout)
    assert result.returncode == 0, (
        f"{page.name}: its python blocks failed:\n{result.stdout[-3000:]}\n{result.stderr[-4000:]}"
    )
    outputs = block_outputs(result.stdout, blocks)
    for index, block in enumerate(blocks):
        if block.printed is not None and block.not_run is None:
            got = outputs.get(index)
            assert got == block.printed, (
                f"{page.name}, the block at line {block.line} prints\n{got}\nbut the page says\n{block.printed}"
            )
    return blocks, result.stdout
