"""Run Python in a fresh interpreter, with a timeout: the one way the tests
start a subprocess.

Used wherever a failure could take the process down (an abort in native code)
or hang it (a deadlock), and wherever process-wide settings (XLA_FLAGS, CPU
affinity, float64, environment knobs read at import) must differ from the
test process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_python(
    source: str | Path,
    *args: str,
    timeout: float = 120,
    env: dict | None = None,
    prefix: Sequence[str] = (),
) -> Result:
    """Run ``source`` (Python code, or the path of a script) with this
    interpreter and ``args`` as its ``sys.argv[1:]``; ``env`` is added to this
    process's environment; ``prefix`` wraps the command (e.g. ``["taskset",
    "-c", "0"]``).

    Raises AssertionError naming the command if it does not finish in time."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    program = [str(source)] if isinstance(source, Path) else ["-c", textwrap.dedent(source)]
    cmd = [*prefix, sys.executable, *program, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        shown = cmd if isinstance(source, Path) else [*cmd[: len(prefix) + 2], "<code>", *args]
        raise AssertionError(f"subprocess did not finish within {timeout}s (hang?): {shown}") from e
    return Result(proc.returncode, proc.stdout, proc.stderr)


def case_line(result: Result, *key: str) -> str:
    """The report line of one case from a child that runs several and prints
    ``ok KEY...`` or ``FAILED KEY...: why`` for each: the first line whose
    words after the first are ``key``. A missing line means the child died at
    that case or before: AssertionError with its exit code and stderr."""
    for line in result.stdout.splitlines():
        if line.split()[1 : 1 + len(key)] == list(key):
            return line
    raise AssertionError(f"no report for {key}: the process died (rc={result.returncode}):\n{result.stderr[-4000:]}")
