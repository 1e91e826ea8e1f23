"""Gradient clipping, in place, on lists of gradient arrays like ``MLP.grads()``.

- ``clip_by_norm``: treat all gradients as one long vector ``g``; if its Euclidean
  norm reaches the threshold, scale it down to exactly the threshold:
  ``g <- threshold * g / ||g||`` (Pascanu, Mikolov and Bengio 2013). The direction of
  the step is unchanged, only its length is capped, which is why it tames exploding
  gradients without biasing where the step goes.
- ``clip_by_value``: clamp every element to ``[-threshold, threshold]``. Cheaper to
  reason about per weight, but it changes the direction of the gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def norm(a: np.ndarray) -> float:
    """The Euclidean (Frobenius) norm of ``a``, finite whenever its entries are.

    ``sqrt(a . a)`` with one BLAS dot, except when the squares overflow float64 (entries
    beyond about 1e154, e.g. the weights of an exploding network): then the entries are
    divided by the largest magnitude first, ``max|a| * ||a / max|a|||``. ``inf`` or
    ``nan`` entries give ``inf`` or ``nan`` as before. (Not repaired: entries all below
    about 1e-154, whose squares underflow; no built-in gradient comes near that.)
    """
    v = a.reshape(-1)
    with np.errstate(over="ignore"):
        squares = float(v.dot(v))
    if math.isinf(squares):
        return scaled_norm(v)
    return math.sqrt(squares)


def scaled_norm(v: np.ndarray) -> float:
    """``||v||`` computed as ``big * ||v / big||`` with ``big = max|v|`` (no overflow)."""
    big = float(np.abs(v).max()) if v.size else 0.0
    if not math.isfinite(big) or big == 0.0:
        return big  # inf entries: the norm is inf (nan propagates through max)
    scaled = v / big
    return big * math.sqrt(float(scaled.dot(scaled)))


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """``||g||`` of all arrays of ``grads`` taken together (uses ``grads.flat`` if present).

    Very large finite gradients whose squares overflow still get their true (finite)
    norm; ``inf`` or ``nan`` in a gradient gives ``inf`` or ``nan``.
    """
    flat = getattr(grads, "flat", None)
    arrays = [flat] if flat is not None else grads
    with np.errstate(over="ignore"):  # an overflow is handled just below
        total = math.fsum(float(np.dot(a.reshape(-1), a.reshape(-1))) for a in arrays)
    if math.isinf(total) and all(np.isfinite(a).all() for a in arrays):
        # The squares overflowed: divide by the largest element first.
        big = max(float(np.abs(a).max()) for a in arrays if a.size)
        return big * math.sqrt(math.fsum(norm(a / big) ** 2 for a in arrays))
    return math.sqrt(total)


def clip_by_norm(grads: Sequence[np.ndarray], threshold: float) -> tuple[float, bool]:
    """Scale ``grads`` in place so their global norm is at most ``threshold``.

    Returns ``(norm_before, clipped)``. Clipping fires when ``norm >= threshold``
    (at equality the scale factor is exactly 1). A non-finite norm is returned as is
    and nothing is changed: such a step is a divergence, not something to clip.
    """
    total = global_norm(grads)
    if not math.isfinite(total) or total < threshold:
        return total, False
    if total > 0.0:
        scale = threshold / total
        flat = getattr(grads, "flat", None)
        for a in [flat] if flat is not None else grads:
            a *= scale
    return total, True


def clip_by_value(grads: Sequence[np.ndarray], threshold: float) -> list[int]:
    """Clamp every element of ``grads`` to ``[-threshold, threshold]``, in place.

    Returns, per array, how many elements were changed (those with
    ``|g| > threshold``; NaNs are left as they are and not counted).
    """
    counts = []
    for g in grads:
        counts.append(int(np.count_nonzero(np.abs(g) > threshold)))
        np.clip(g, -threshold, threshold, out=g)
    return counts
