"""The LIF update in jnp: the XLA-native form of what the Rust kernels compute.

``decay = exp(-dt/tau)``, ``bias = (1 - decay) V_rest``,
``drive = (1 - decay) R``, ``delta = V_th - V_reset``, ``u(V) = (V - V_th)/delta``.
A step from ``V`` with input ``x``::

    s = spike(u(V))
    soft: U = V - delta s          hard: U = V - (stop_gradient(V) - V_reset) s
    V' = decay U + bias + drive x, output spike(u(V'))

``scan_lif`` is that loop as a differentiable ``lax.scan`` with any surrogate
callable: the path for traced parameters and user surrogates. The three
``xla_*`` functions are the primitives' passes (forward, tangent, BPTT) for the
platforms without the FFI kernels, given ``g'`` as a jnp function.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

__all__ = ["constants", "scan_lif", "xla_forward", "xla_tangent", "xla_bptt"]


def constants(dt, tau, R, V_rest, xp=jnp):
    """``(decay, bias, drive)`` from brainpy.state's parameters (``xp``: numpy or jnp)."""
    ratio = -dt / tau
    decay = xp.exp(ratio)
    one_minus = -xp.expm1(ratio)  # 1 - decay without cancellation for small dt/tau
    return decay, one_minus * V_rest, one_minus * R


def scan_lif(x, v0, *, decay, bias, drive, V_th, V_reset, spk_fun, hard):
    """``(spikes, v)`` over the leading (time) axis of ``x``, differentiable by JAX."""
    delta = V_th - V_reset

    def step(v, xt):
        s = spk_fun((v - V_th) / delta)
        reset = (lax.stop_gradient(v) - V_reset) if hard else delta
        vn = decay * (v - reset * s) + (bias + drive * xt)
        return vn, (spk_fun((vn - V_th) / delta), vn)

    _, (spikes, v) = lax.scan(step, v0, x)
    return spikes, v


def _spike(u):
    return (u >= 0).astype(u.dtype)


def xla_forward(x, v0, *, lif, hard):
    decay, bias, drive, v_th, v_reset = lif
    delta = v_th - v_reset
    inv = 1.0 / delta

    def step(v, xt):
        reset = (v - v_reset) if hard else delta
        vn = decay * (v - reset * _spike((v - v_th) * inv)) + (bias + drive * xt)
        return vn, (_spike((vn - v_th) * inv), vn)

    _, (spikes, v) = lax.scan(step, v0, x)
    return spikes, v


def _carry(v, g, *, lif, hard):
    """``decay * rho(V)`` given ``g = g'(u(V))``."""
    decay, _, _, v_th, v_reset = lif
    inv = 1.0 / (v_th - v_reset)
    rho = 1.0 - (v - v_reset) * g * inv if hard else 1.0 - g
    return decay * rho


def xla_tangent(v, v0, dx, dv0, *, grad, lif, hard):
    _, _, drive, v_th, v_reset = lif
    inv = 1.0 / (v_th - v_reset)
    prev = jnp.concatenate([v0[None], v], axis=0)[: v.shape[0]]

    def step(dv, inputs):
        vp, vt, dxt = inputs
        dvn = _carry(vp, grad((vp - v_th) * inv), lif=lif, hard=hard) * dv + drive * dxt
        return dvn, (grad((vt - v_th) * inv) * inv * dvn, dvn)

    _, (dspikes, dv) = lax.scan(step, dv0, (prev, v, dx))
    return dspikes, dv


def xla_bptt(v, v0, ct_spikes, ct_v, *, grad, lif, hard):
    _, _, drive, v_th, v_reset = lif
    inv = 1.0 / (v_th - v_reset)
    prev = jnp.concatenate([v0[None], v], axis=0)[: v.shape[0]]

    def step(carry, inputs):
        vp, vt, cts, ctv = inputs
        lam = cts * grad((vt - v_th) * inv) * inv + carry
        if ctv is not None:
            lam = lam + ctv
        return _carry(vp, grad((vp - v_th) * inv), lif=lif, hard=hard) * lam, drive * lam

    ct_v0, ct_x = lax.scan(step, jnp.zeros_like(v0), (prev, v, ct_spikes, ct_v), reverse=True)
    return ct_x, ct_v0
