"""The other surrogates of braintools: SquarewaveFourierSeries, S2NN,
QPseudoSpike, SlayerGrad, NonzeroSignLog."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy as jsp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class SquarewaveFourierSeries(NativeSurrogate):
    r"""Square-wave Fourier-series surrogate:
    ``g'(x) = \frac{4}{T}\sum_{i=1}^{n}\cos((2i-1)\,2\pi x/T)``.

    ``n`` (an integer, default 2) is the number of terms (braintools keeps the
    first term for ``n < 1``), ``t_period`` (nonzero, default 8.0) the period
    ``T``. The native kernel sums in closed form after an exact reduction of
    ``x`` modulo ``T``, so it stays accurate for large ``|x|``.

    Parameters
    ----------
    n : int, default 2
        The number of Fourier terms, an integer (braintools keeps the first term for ``n < 1``).
    t_period : ArrayLike, default 8.0
        Nonzero: the period ``T``.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import SquarewaveFourierSeries
    >>> spike_fn = SquarewaveFourierSeries(n=2)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.     1.     0.6533]
    """

    _native_name = "squarewave_fourier_series"
    _param_names = ("n", "t_period")

    def __init__(self, n: int = 2, t_period: ArrayLike = 8.0) -> None:
        super().__init__(n=n, t_period=t_period)

    @staticmethod
    def formula(x, n, t_period):
        w = jnp.pi * 2.0 / t_period
        dx = jnp.cos(w * x)
        for i in range(2, int(n) + 1):
            dx += jnp.cos((2 * i - 1.0) * w * x)
        return dx * (4.0 / t_period)

    @classmethod
    def lowering_formula(cls, x, n, t_period):
        # braintools' cos(w x) rounds w x first: a phase error of about |x| ulp,
        # 1e-3 of the peak at |x| = 20 in float32. fmod is exact, so reducing x
        # modulo T first keeps the XLA code within the kernel's budget.
        return cls.formula(jnp.fmod(x, jnp.asarray(t_period, x.dtype)), n, t_period)

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        w = jnp.pi * 2.0 / self.t_period
        ret = jnp.sin(w * x)
        for i in range(2, self.n + 1):
            c = 2 * i - 1.0
            ret += jnp.sin(c * w * x) / c
        return 0.5 + 2.0 / jnp.pi * ret


class S2NN(NativeSurrogate):
    r"""S2NN surrogate (Suetake et al., 2023): ``g'(x) = \alpha\sigma(\alpha x)
    (1-\sigma(\alpha x))`` for ``x < 0``, ``\beta/(x+1)`` otherwise.

    ``alpha`` (default 4.0), ``beta`` (default 1.0); ``epsilon`` (default 1e-8)
    only enters ``surrogate_fun``.

    Parameters
    ----------
    alpha : ArrayLike, default 4.0
        The steepness for ``x < 0``.
    beta : ArrayLike, default 1.0
        The steepness for ``x >= 0``.
    epsilon : ArrayLike, default 1e-8
        Only enters ``surrogate_fun``, as in braintools.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import S2NN
    >>> spike_fn = S2NN(alpha=4.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.0707 1.     0.6667]
    """

    _native_name = "s2nn"
    _param_names = ("alpha", "beta", "epsilon")

    def __init__(self, alpha: ArrayLike = 4.0, beta: ArrayLike = 1.0, epsilon: ArrayLike = 1e-8) -> None:
        super().__init__(alpha=alpha, beta=beta, epsilon=epsilon)

    @staticmethod
    def formula(x, alpha, beta, epsilon):
        sg = jsp.special.expit(alpha * x)
        x_safe = jnp.where(x < 0.0, 1.0, x)
        return jnp.where(x < 0.0, alpha * sg * (1.0 - sg), beta / (x_safe + 1.0))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        right = self.beta * jnp.log(jnp.abs(x + 1.0) + self.epsilon) + 0.5
        return jnp.where(x < 0.0, jsp.special.expit(x * self.alpha), right)


class QPseudoSpike(NativeSurrogate):
    r"""q-PseudoSpike surrogate (Herranz-Celotti & Rouat, 2022):
    ``g'(x) = (1 + 2|x|/(\alpha+1))^{-\alpha}``.

    ``alpha`` (not -1, default 2.0) sets the tail fatness. Powers follow
    ``jnp.power`` (C's ``pow``) for every ``alpha``, as in braintools.

    Parameters
    ----------
    alpha : ArrayLike, default 2.0
        Not -1: the tail fatness.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import QPseudoSpike
    >>> spike_fn = QPseudoSpike(alpha=2.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.35999998 1.         0.5625    ]
    """

    _native_name = "q_pseudo_spike"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 2.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return jnp.power(1 + 2 / (alpha + 1) * jnp.abs(x), -alpha)

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        a = self.alpha
        base = 1.0 + 2.0 / (a + 1.0) * jnp.abs(x)
        one_minus_a = 1.0 - a
        safe = jnp.where(one_minus_a == 0.0, 1.0, one_minus_a)
        integral = jnp.where(
            one_minus_a == 0.0,
            (a + 1.0) / 2.0 * jnp.log(base),
            (a + 1.0) / (2.0 * safe) * (jnp.power(base, one_minus_a) - 1.0),
        )
        return 0.5 + jnp.sign(x) * integral


class SlayerGrad(NativeSurrogate):
    r"""SLAYER surrogate gradient (Shrestha & Orchard, 2018):
    ``g'(x) = e^{-\alpha|x|}``.

    ``alpha`` (default 1.0) sets the decay rate. Gradient only.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        The decay rate.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import SlayerGrad
    >>> spike_fn = SlayerGrad(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.36789998 1.         0.60649997]
    """

    _native_name = "slayer_grad"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return jnp.exp(-alpha * jnp.abs(x))


class NonzeroSignLog(NativeSurrogate):
    r"""Nonzero-sign-log surrogate: ``g(x) = \mathrm{sign}(x)\ln(|\alpha x| + 1)``
    (sign 1 at 0), ``g'(x) = 1 / (1/\alpha + |x|)``.

    ``alpha`` (nonzero, default 1.0) sets the slope at 0.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        Nonzero: the slope at 0.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import NonzeroSignLog
    >>> spike_fn = NonzeroSignLog(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.5    1.     0.6667]
    """

    _native_name = "nonzero_sign_log"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return 1.0 / (1 / alpha + jnp.abs(x))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return jnp.where(x < 0, -1.0, 1.0) * jnp.log(jnp.abs(self.alpha * x) + 1)


squarewave_fourier_series = functional(SquarewaveFourierSeries, "squarewave_fourier_series")
s2nn = functional(S2NN, "s2nn")
q_pseudo_spike = functional(QPseudoSpike, "q_pseudo_spike")
slayer_grad = functional(SlayerGrad, "slayer_grad")
nonzero_sign_log = functional(NonzeroSignLog, "nonzero_sign_log")
