"""Optimisers: how a gradient becomes a parameter update.

``make_optimizer(name, lr)`` returns an object with

- ``.step(params, grads)``: update every array of ``params`` in place from the
  matching array of ``grads`` (both lists like ``MLP.params()`` / ``MLP.grads()``);
  the gradients are left untouched;
- ``.lr``: the learning rate, which may be changed between steps (live, from the UI).

For every parameter ``p`` with gradient ``g`` (all operations elementwise):

- ``sgd``:      ``p -= lr * g``
- ``momentum``: ``v = 0.9 v + g``; ``p -= lr * v``  (PyTorch's form: changing ``lr``
  takes effect at once, instead of only for gradients still to come)
- ``adam``:     ``m = 0.9 m + 0.1 g``; ``s = 0.999 s + 0.001 g^2``; at step ``t``,
  ``p -= lr * m_hat / (sqrt(s_hat) + 1e-8)`` with ``m_hat = m / (1 - 0.9^t)`` and
  ``s_hat = s / (1 - 0.999^t)`` (Kingma and Ba 2015).

When both lists come from an ``MLP`` they carry ``.flat``, one vector holding all
their arrays, and the update runs once on that vector: the same arithmetic, but one
NumPy call per operation instead of one per array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import OPTIMIZERS


def _as_flat(params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> tuple[list, list]:
    """``([params.flat], [grads.flat])`` when both have flat storage, else the lists."""
    p_flat = getattr(params, "flat", None)
    g_flat = getattr(grads, "flat", None)
    if p_flat is not None and g_flat is not None and p_flat.shape == g_flat.shape:
        return [p_flat], [g_flat]
    if len(params) != len(grads):
        raise ValueError(f"{len(params)} parameter arrays but {len(grads)} gradients")
    return list(params), list(grads)


class Optimizer:
    """Base class: keeps ``lr`` and one scratch array per parameter array."""

    name = ""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)
        self.t = 0  # steps taken
        self._scratch: list[np.ndarray] = []
        self._shapes: list[tuple[int, ...]] = []

    def _buffers(self, params: list[np.ndarray]) -> list[np.ndarray]:
        """Zeroed arrays shaped like ``params`` (made once, on the first step)."""
        return [np.zeros_like(p) for p in params]

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``."""
        ps, gs = _as_flat(params, grads)
        shapes = [p.shape for p in ps]
        if shapes != self._shapes:  # first step, or other parameters: start afresh
            self._shapes = shapes
            self._scratch = self._buffers(ps)
            self._reset_state(ps)
        self.t += 1
        for k, (p, g) in enumerate(zip(ps, gs, strict=True)):
            self._update(k, p, g, self._scratch[k])

    def _reset_state(self, params: list[np.ndarray]) -> None:
        """Start the optimiser's running averages afresh for ``params``."""

    def _update(self, k: int, p: np.ndarray, g: np.ndarray, tmp: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    name = "sgd"

    def _update(self, k: int, p: np.ndarray, g: np.ndarray, tmp: np.ndarray) -> None:
        np.multiply(g, self.lr, out=tmp)
        p -= tmp


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu v + g``; ``p -= lr * v``."""

    name = "momentum"

    def __init__(self, lr: float, mu: float = 0.9) -> None:
        super().__init__(lr)
        self.mu = mu
        self.velocity: list[np.ndarray] = []

    def _reset_state(self, params: list[np.ndarray]) -> None:
        self.velocity = self._buffers(params)

    def _update(self, k: int, p: np.ndarray, g: np.ndarray, tmp: np.ndarray) -> None:
        v = self.velocity[k]
        v *= self.mu
        v += g
        np.multiply(v, self.lr, out=tmp)
        p -= tmp


class Adam(Optimizer):
    """Adam: per-parameter steps from running averages of ``g`` and ``g**2``."""

    name = "adam"

    def __init__(
        self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m: list[np.ndarray] = []
        self.s: list[np.ndarray] = []

    def _reset_state(self, params: list[np.ndarray]) -> None:
        self.m = self._buffers(params)
        self.s = self._buffers(params)
        self.t = 0

    def _update(self, k: int, p: np.ndarray, g: np.ndarray, tmp: np.ndarray) -> None:
        m, s = self.m[k], self.s[k]
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        s *= self.beta2
        s += tmp
        # p -= lr_t * m / (sqrt(s / (1 - beta2^t)) + eps), lr_t = lr / (1 - beta1^t)
        np.multiply(s, 1.0 / (1.0 - self.beta2**self.t), out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - self.beta1**self.t)
        p -= tmp


_OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
assert set(_OPTIMIZERS) == set(OPTIMIZERS)


def make_optimizer(name: str, lr: float) -> Optimizer:
    """A fresh optimiser ``name`` (one of ``config.OPTIMIZERS``) with learning rate ``lr``."""
    try:
        cls = _OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}") from None
    return cls(lr)
