"""Every docs page's python blocks run and print what the page says
(tests/helpers/markdown.py); a block that cannot run in the tests carries a
``<!-- not-run: reason -->`` comment. docs/brainpy.md and docs/tutorial.md
have their own test files (they also check the pages' results), the README
tests/test_readme.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.markdown import Block, block_outputs, page_program, python_blocks, run_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Pages run by their own test files.
OWN_TESTS = {"brainpy.md": "test_docs_brainpy.py", "tutorial.md": "test_docs_tutorial.py"}
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name not in OWN_TESTS)


def test_pages_with_their_own_tests_exist():
    for page, test in OWN_TESTS.items():
        assert (DOCS / page).exists() and (ROOT / "tests" / test).exists()


@pytest.mark.parametrize("page", PAGES)
def test_page_blocks_run_and_print_what_the_page_says(page):
    run_page(DOCS / page)


def test_pages_show_printed_output():
    """The pages written as examples do show outputs the test compares."""
    for page in ("index.md", "surrogates.md"):
        assert any(b.printed is not None for b in python_blocks((DOCS / page).read_text())), page


def test_markdown_helper_reads_the_conventions():
    text = (
        "```python\nprint(1)\n```\n\nprints\n\n```\n1\n```\n\n"
        "<!-- not-run: needs a GPU -->\n```python\nraise SystemExit(3)\n```\n\n"
        "```bash\necho no\n```\n\n```python\nprint('a')\nprint('b')\n```\n"
    )
    blocks = python_blocks(text)
    assert blocks == [
        Block("print(1)\n", "1\n", None, 1),
        Block("raise SystemExit(3)\n", None, "needs a GPU", 12),
        Block("print('a')\nprint('b')\n", None, None, 20),
    ]
    program = page_program(blocks)
    assert "SystemExit" not in program
    stdout = "".join(
        line for line in [f"=== spikegrad docs block {i} ===\n{out}" for i, out in ((0, "1\n"), (2, "a\nb\n"))]
    )
    assert block_outputs(stdout, blocks) == {0: "1\n", 2: "a\nb\n"}


def test_markdown_helper_catches_a_wrong_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(2)\n```\n\nprints\n\n```\n3\n```\n")
    with pytest.raises(AssertionError, match="prints"):
        run_page(page)
