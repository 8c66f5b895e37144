"""One costly result (a subprocess's report, a training run) computed once per
test session and shared by the pytest-xdist workers: the first worker to ask
computes it under a file lock and pickles it into the session's base
directory; the others wait for the lock and load it. Without xdist the
session is the one process and this is a plain cache."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def shared(tmp_path_factory, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, once per session across the workers; ``key`` names it
    (letters, digits, ``-`` and ``_``)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's base directory is inside the session's
    path = root / f"shared-{key}.pickle"
    with open(root / f"shared-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.exists():
                return pickle.loads(path.read_bytes())
            value = compute()
            path.write_bytes(pickle.dumps(value))
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
