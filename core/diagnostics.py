"""What the dashboard measures about a network, beyond the loss.

- ``dead_units(Z)``: in a ReLU-family layer, units whose pre-activation is ``<= 0``
  for every example of the data. Such a unit outputs 0 (or a tiny leaky slope)
  everywhere, so ReLU passes it no gradient and it never recovers.
- ``saturated_fraction(A, activation)``: in a sigmoid or tanh layer, the fraction of
  (unit, example) pairs whose output sits near the flat ends of the curve, where the
  derivative is almost 0 and the gradient through the unit vanishes.
- ``layer_norms(arrays)``: the Euclidean norm of each array (per-layer gradient and
  weight norms), and ``SquaredNorms``, the same for the trainer's every step. Both stay
  finite for finite arrays whose squares overflow float64 (an exploding network's
  weights reach 1e190 before anything is inf).

``Z`` and ``A`` are a layer's ``(m, n_units)`` arrays from a forward pass over the
data set being probed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .activations import RELU_FAMILY, SATURATING  # noqa: F401  (re-exported)
from .clipping import norm, scaled_norm

SATURATION = 0.97
"""A tanh output with ``|a| > SATURATION`` or a sigmoid above it is saturated..."""
SIGMOID_LOW = 0.03
"""...and so is a sigmoid output below this."""


def dead_units(Z: np.ndarray) -> int:
    """Number of columns (units) of ``Z`` ``(m, n)`` that are ``<= 0`` in every row.

    A NaN pre-activation is not ``<= 0``, so a unit with one is not counted as dead.
    """
    if Z.shape[0] == 0:
        return 0
    # max propagates NaN, and NaN <= 0 is false.
    return int(np.count_nonzero(Z.max(axis=0) <= 0.0))


def saturated_fraction(A: np.ndarray, activation: str) -> float:
    """Fraction of the entries of ``A`` ``(m, n)`` in saturation, for ``sigmoid`` or ``tanh``.

    ``tanh``: ``|a| > 0.97``; ``sigmoid``: ``a < 0.03`` or ``a > 0.97``.
    Raises ``ValueError`` for other activations (they do not saturate; report "no data").
    """
    if A.size == 0:
        return 0.0
    if activation == "tanh":
        hits = np.count_nonzero(np.abs(A) > SATURATION)
    elif activation == "sigmoid":
        hits = np.count_nonzero(A < SIGMOID_LOW) + np.count_nonzero(A > SATURATION)
    else:
        raise ValueError(f"saturation is defined for {SATURATING}, not {activation!r}")
    return hits / A.size


def layer_norms(arrays: Sequence[np.ndarray]) -> list[float]:
    """``[||a|| for a in arrays]``, Euclidean / Frobenius, as floats (overflow-safe)."""
    return [norm(a) for a in arrays]


class SquaredNorms:
    """``[a . a for a in arrays]`` for a fixed list of 1-D float64 arrays, every step.

    One BLAS dot per array, each writing its result straight into its cell of
    ``self.out`` (a 0-d view as the dot's ``out``), so that one ``np.sqrt(...).tolist()``
    serves all of them: a NumPy scalar, a ``float`` and a ``math.sqrt`` per array cost
    2-4% more of vanishing's diagnosed step (33 arrays; in-process A/Bs). The squares
    overflow to ``inf`` for entries beyond about 1e154;
    ``norms()`` and ``exact(roots)`` put the true (finite) norm in their place.
    """

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.arrays = list(arrays)
        self.out = np.empty(len(self.arrays))  # the latest squared norms
        self._pairs = [(a, self.out[i : i + 1].reshape(())) for i, a in enumerate(self.arrays)]

    def fill(self) -> np.ndarray:
        """Compute the squared norms into ``self.out`` ``(n,)`` and return it."""
        # An overflow gives inf (exact() repairs it) and, like any dot's, a RuntimeWarning
        # unless the caller ignores them (the trainer's step does); no np.errstate here:
        # entering one costs more than all the dots of a small network.
        for a, cell in self._pairs:
            a.dot(a, cell)
        return self.out

    def __call__(self) -> list[float]:
        """The squared norms, in the order of the arrays given."""
        return self.fill().tolist()

    def roots(self) -> list[float]:
        """The square roots of the squared norms (``inf`` where the squares overflow)."""
        return np.sqrt(self.fill()).tolist()

    def norms(self) -> list[float]:
        """The Euclidean norms, as Python floats, finite for finite arrays."""
        return self.exact(self.roots())

    def exact(self, roots: list[float]) -> list[float]:
        """``roots`` (the square roots of the squares) with every ``inf`` whose array is
        finite replaced by its norm computed without overflow; the list itself if none."""
        if math.inf not in roots:  # the usual case: one scan of a short list
            return roots
        return [
            scaled_norm(a) if r == math.inf else r for a, r in zip(self.arrays, roots, strict=True)
        ]
