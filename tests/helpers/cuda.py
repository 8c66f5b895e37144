"""Lowering for CUDA on a machine without a GPU."""

from __future__ import annotations

from spikegrad.neuron._gpu_target import target


def cuda_target():
    """The context to lower a bare ``pallas_call`` for CUDA in (the fused
    neurons' own lowering enters it by itself): spikegrad's default GPU where
    Triton's lowering would find none (``spikegrad.neuron._gpu_target``)."""
    return target("cuda")
