"""Which form the fused neurons lower to on CUDA and ROCm, by lowering
setting, lowered here without a GPU as a user would (no target set up):

* ``auto`` (the default), ``native`` and ``xla``: the ``lax.scan`` form (a
  ``while`` loop, no kernel call), while ``GPU_KERNELS_VALIDATED`` is False;
* ``pallas``, by ``set_lowering`` or the ``lowering`` context: the Pallas
  (Triton) kernels, one call per pass;
* with ``GPU_KERNELS_VALIDATED`` True, ``auto`` and ``native`` take the
  kernels (the one switch the default depends on);
* where a module the GPU kernels need cannot be imported, ``auto`` keeps the
  ``lax.scan`` form and ``pallas`` raises ``NotImplementedError`` naming it.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import _policy
from spikegrad.neuron import _lowering, lif

X = jax.ShapeDtypeStruct((40, 3, 70), jnp.float32)
V0 = jax.ShapeDtypeStruct((3, 70), jnp.float32)


def lowered(platform: str) -> str:
    """``jax.grad`` of a LIF loss lowered for ``platform`` (a new function
    each time, so no lowering is reused across settings)."""

    def loss(x, v0):
        return jnp.sum(lif(x, v0, dt=1.0, spk_fun=sg.MultiGaussianGrad()))

    return jax.jit(jax.grad(loss, argnums=(0, 1))).trace(X, V0).lower(lowering_platforms=(platform,)).as_text()


def kernel_calls(text: str) -> int:
    return len(re.findall(r"custom_call @__gpu\$xla\.gpu\.triton", text))


def assert_scan_form(text: str):
    assert kernel_calls(text) == 0 and "stablehlo.while" in text and "spikegrad_" not in text


def test_default_is_not_yet_validated():
    assert _policy.GPU_KERNELS_VALIDATED is False
    assert [_policy.gpu_neuron_kernels(c) for c in _policy.CHOICES] == [False, False, False, True]


@pytest.mark.parametrize("platform", ["cuda", "rocm"])
@pytest.mark.parametrize("setting", ["auto", "native", "xla"])
def test_gpu_settings_lower_to_scan(platform, setting):
    with spikegrad.lowering(setting):
        assert_scan_form(lowered(platform))


def test_default_setting_lowers_to_scan():
    assert spikegrad.get_lowering() == "auto"
    assert_scan_form(lowered("cuda"))


def test_pallas_opts_in():
    with spikegrad.lowering("pallas"):
        text = lowered("cuda")
    assert kernel_calls(text) == 2 and "stablehlo.while" not in text  # forward and BPTT
    spikegrad.set_lowering("pallas")
    try:
        assert kernel_calls(lowered("cuda")) == 2
    finally:
        spikegrad.set_lowering("auto")
    assert kernel_calls(lowered("cuda")) == 0


@pytest.mark.parametrize("setting", ["auto", "native"])
def test_validated_kernels_become_the_default(monkeypatch, setting):
    monkeypatch.setattr(_policy, "GPU_KERNELS_VALIDATED", True)
    with spikegrad.lowering(setting):
        assert kernel_calls(lowered("cuda")) == 2
    with spikegrad.lowering("xla"):
        assert_scan_form(lowered("cuda"))


@pytest.fixture
def missing_gpu_backend(monkeypatch, tmp_path):
    """A GPU lowering module that exists but fails to import (as with a
    jaxlib built without Triton); the import check's cache is cleared before
    and after."""
    name = "spikegrad_test_broken_backend"
    (tmp_path / f"{name}.py").write_text('raise ImportError("this jaxlib has no Triton")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_lowering, "GPU_LOWERING_MODULES", (*_lowering.GPU_LOWERING_MODULES, name))
    _lowering.pallas_missing.cache_clear()
    yield name
    _lowering.pallas_missing.cache_clear()


def test_missing_gpu_backend(monkeypatch, missing_gpu_backend):
    assert missing_gpu_backend in _lowering.pallas_missing("cuda")
    assert "this jaxlib has no Triton" in _lowering.pallas_missing("rocm")
    assert _lowering.pallas_missing("cpu") is None  # interpret mode does not need it
    assert _lowering.pallas_backend("cuda") is None
    monkeypatch.setattr(_policy, "GPU_KERNELS_VALIDATED", True)  # auto would take the kernels
    assert_scan_form(lowered("cuda"))
    with spikegrad.lowering("pallas"), pytest.raises(NotImplementedError, match=re.escape(missing_gpu_backend)):
        lowered("cuda")


def test_import_check_finds_everything_here():
    assert _lowering.pallas_missing("cuda") is None and _lowering.pallas_missing("rocm") is None
    assert _lowering.pallas_backend("cuda").__name__ == "spikegrad.neuron._pallas"
