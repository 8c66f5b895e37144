"""Import against a jaxlib older than the FFI headers the wheel was built with
is refused with an ImportError naming both versions, and leaves jax's CPU
backend working. Each case fakes ``jaxlib.__version__`` in a fresh process
before importing spikegrad."""

from __future__ import annotations

import jaxlib
import pytest
from helpers.isolated import run_python

import spikegrad
from spikegrad import _ffi

BUILT = _ffi.BUILD_JAXLIB_VERSION

IMPORT_WITH_FAKE_JAXLIB = """
import sys
import jax, jax.numpy as jnp, jaxlib
jaxlib.__version__ = sys.argv[1]
try:
    import spikegrad
except ImportError as e:
    print("IMPORT-ERROR", e)
else:
    y = spikegrad.surrogate.GaussianGrad()(jnp.array([-1.0, 0.0, 2.0]))
    print("IMPORTED", y.tolist())
# jax's CPU backend must still work either way
print("CPU", float(jax.jit(lambda x: (x * 2).sum())(jnp.arange(4.0))))
"""


def run_with_jaxlib_version(version: str) -> str:
    proc = run_python(IMPORT_WITH_FAKE_JAXLIB, version, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CPU 12.0" in proc.stdout, proc.stdout
    return proc.stdout


def older_than(version: str) -> str:
    major, minor, *_ = (int(p) for p in version.split(".")[:2])
    return f"{major}.{minor - 1}.9" if minor > 0 else f"{major - 1}.99.0"


def test_build_version_is_known():
    assert _ffi._version_tuple(BUILT) >= (0, 8, 0), BUILT
    assert _ffi._version_tuple(jaxlib.__version__) >= _ffi._version_tuple(BUILT)


@pytest.mark.parametrize("fake", [older_than(BUILT), "0.4.38", "0.1"])
def test_older_jaxlib_is_refused(fake):
    out = run_with_jaxlib_version(fake)
    assert "IMPORT-ERROR" in out and "IMPORTED" not in out
    message = out.split("IMPORT-ERROR", 1)[1].split("\nCPU")[0]
    assert BUILT in message and fake in message


@pytest.mark.parametrize("fake", [BUILT, "99.0.0", f"{BUILT}.dev20990101"])
def test_same_or_newer_jaxlib_is_accepted(fake):
    out = run_with_jaxlib_version(fake)
    assert "IMPORTED [0.0, 1.0, 1.0]" in out


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("0.8.0", (0, 8, 0)),
        ("0.10.2", (0, 10, 2)),
        ("0.8.1rc2", (0, 8, 1)),
        ("0.9.0.dev20250101", (0, 9, 0)),
        ("unknown", ()),
    ],
)
def test_version_parsing(text, parsed):
    assert _ffi._version_tuple(text) == parsed


def test_unknown_build_version_skips_the_check(monkeypatch):
    monkeypatch.setattr(_ffi, "BUILD_JAXLIB_VERSION", "unknown")
    monkeypatch.setattr(jaxlib, "__version__", "0.0.1")
    _ffi._check_jaxlib()  # nothing to compare against: no error
    assert spikegrad.__version__
