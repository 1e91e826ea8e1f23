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
