"""Run a snippet of Python in a fresh interpreter, with a timeout.

Used wherever a failure could take the process down (an abort in native code)
or hang it (a deadlock), and wherever process-wide settings (XLA_FLAGS, CPU
affinity, float64) must differ from the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_python(code: str, *, timeout: float = 120, env: dict | None = None, prefix=()) -> Result:
    """Run ``code`` with this interpreter (``prefix`` e.g. ``["taskset", "-c", "0"]``).

    Raises AssertionError naming the snippet if it does not finish in time."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    cmd = [*prefix, sys.executable, "-c", textwrap.dedent(code)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"subprocess did not finish within {timeout}s (hang?): {cmd[:-1]}") from e
    return Result(proc.returncode, proc.stdout, proc.stderr)
