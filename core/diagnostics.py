"""What the dashboard measures about a network, beyond the loss.

- ``dead_units(Z)``: in a ReLU-family layer, units whose pre-activation is ``<= 0``
  for every example of the data. Such a unit outputs 0 (or a tiny leaky slope)
  everywhere, so ReLU passes it no gradient and it never recovers.
- ``saturated_fraction(A, activation)``: in a sigmoid or tanh layer, the fraction of
  (unit, example) pairs whose output sits near the flat ends of the curve, where the
  derivative is almost 0 and the gradient through the unit vanishes.
- ``layer_norms(arrays)``: the Euclidean norm of each array (per-layer gradient and
  weight norms).

``Z`` and ``A`` are a layer's ``(m, n_units)`` arrays from a forward pass over the
data set being probed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import RELU_FAMILY, SATURATING  # noqa: F401  (re-exported)
from .clipping import norm

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
    """``[||a|| for a in arrays]``, Euclidean / Frobenius, as floats."""
    return [norm(a) for a in arrays]


def _buffer(a: np.ndarray) -> object:
    """The object owning ``a``'s memory (the end of its ``.base`` chain)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a if a.base is None else a.base


# vecdot's own overhead is about three dots' (1.2 us against 0.3-0.45 us a dot).
_MIN_GROUP = 3


class SquaredNorms:
    """``[a . a for a in arrays]`` for a fixed list of 1-D float64 views, called every step.

    One BLAS dot per array costs about 0.3-0.5 us of call overhead each, which for 11
    layers (33 arrays a step) was most of the per-step statistics. Runs of consecutive
    arrays of the same length at the same spacing in memory (the equal hidden layers
    of one flat parameter vector, views of one buffer) are read as one strided
    ``(k, n)`` view instead, and
    ``np.vecdot`` gives their ``k`` squared norms in one call (9 arrays of 1024: 2.0 us
    against 4.2). Values overflow to ``inf`` like the dots they replace.

    Every dot writes its result into ``self.out`` ``(n,)`` (a 0-d view of it as the
    dot's ``out``), and one ``np.sqrt(...).tolist()`` gives the norms: no NumPy scalar
    per array and no ``math.sqrt`` per float (9 arrays of 64-4096: 4.0 us against 5.2).
    The same BLAS dot computes each value, so the results are the same bits.
    """

    def __init__(self, arrays: Sequence[np.ndarray], out: np.ndarray | None = None) -> None:
        """``out``: where to write the squares, a float64 ``(n,)`` array (or a view of a
        bigger buffer, so that one ``np.sqrt`` serves several of these); default new."""
        self.n = len(arrays)
        self.out = np.empty(self.n) if out is None else out  # the latest squared norms
        if self.out.shape != (self.n,) or self.out.dtype != np.float64:
            raise ValueError(f"out must be float64 of shape ({self.n},), found {self.out.shape}")
        self._arrays = list(arrays)  # kept alive: the strided views read their memory
        self._dots: list[tuple[np.ndarray, np.ndarray]] = []  # (a, 0-d view of out)
        self._groups: list[tuple[np.ndarray, np.ndarray]] = []  # ((k, n) view, out[i:j])
        i = 0
        while i < len(arrays):
            a = arrays[i]
            j, step = i + 1, None
            if a.ndim == 1 and a.strides == (a.itemsize,):
                start = a.__array_interface__["data"][0]
                while j < len(arrays) and arrays[j].shape == a.shape:
                    b = arrays[j]
                    gap = b.__array_interface__["data"][0] - start - (j - i - 1) * (step or 0)
                    if (
                        _buffer(b) is not _buffer(a)  # a view across allocations: never
                        or b.strides != a.strides
                        or gap <= 0
                        or (step is not None and gap != step)
                    ):
                        break
                    step = gap
                    j += 1
            if j - i >= _MIN_GROUP and step is not None:
                group = np.lib.stride_tricks.as_strided(
                    a, shape=(j - i, a.size), strides=(step, a.itemsize), writeable=False
                )
                self._groups.append((group, self.out[i:j]))
            else:
                j = i + 1
                self._dots.append((a, self.out[i:j].reshape(())))
            i = j

    def fill(self) -> np.ndarray:
        """Compute the ``n`` squared norms into ``self.out`` ``(n,)`` and return it."""
        for a, o in self._dots:
            a.dot(a, o)
        for g, o in self._groups:
            np.vecdot(g, g, out=o)
        return self.out

    def __call__(self) -> list[float]:
        """The ``n`` squared norms, in the order of the arrays given."""
        return self.fill().tolist()

    def norms(self) -> list[float]:
        """The ``n`` Euclidean norms (square roots of ``self()``), as Python floats."""
        return np.sqrt(self.fill()).tolist()
