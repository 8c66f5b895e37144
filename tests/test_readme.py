"""The README is a short front door whose examples print what it says: its
python blocks run as one program in a fresh interpreter (tests/helpers/markdown.py)
and each block followed by a "prints" block must print exactly that block's
text; its links lead to files that exist."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.markdown import python_blocks, run_page

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: A front door: one screen of install and examples, then links into docs/.
MAX_LINES = 200
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_readme_has_printed_examples():
    blocks = python_blocks(README.read_text())
    printed = [b for b in blocks if b.printed is not None and b.not_run is None]
    # The drop-in surrogate and the fused neuron at least; an empty list would test nothing.
    assert any("MultiGaussianGrad(h=0.15" in b.code for b in printed)
    assert any("from spikegrad.neuron import lif" in b.code and "jax.grad" in b.code for b in printed)
    assert all(b.not_run is None for b in blocks), "every README block runs"


def test_readme_examples_print_what_they_say():
    run_page(README)


def test_readme_links_exist():
    links = [link for link in LINK.findall(README.read_text()) if "://" not in link]
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
