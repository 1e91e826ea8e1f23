"""The error signal per layer: what backprop hands from one layer to the one below.

For layer ``l`` with pre-activations ``Z_l`` ``(m, n_l)``, backward computes the error
signal ``delta_l = dL/dZ_l = dL/dA_l * f'(Z_l)`` ``(m, n_l)`` and passes
``dL/dA_{l-1} = delta_l @ W_l`` down. Two numbers per layer describe that chain:

- ``error_signal[l] = ||delta_l||_F`` over the batch, exactly the array backward used
  (the loss already divided ``dlogits`` by ``m``, so this is the batch-mean loss's);
- ``fprime_mean[l] = mean |f'(Z_l)|`` over the batch and the units (``None`` for the
  linear output layer, whose ``f'`` is 1 by construction).

The ratio ``error_signal[l-1] / error_signal[l]`` is the factor by which one layer step
multiplies the error signal; ``layer_factors`` splits it into the activation's part
(``fprime_mean[l-1]``) and the rest, the weight gain, so that ``factor = f' x gain``.

Cost: read from the buffers backward already wrote (``Dense.dZ``, ``Z``, ``A``), one
BLAS dot or a count per array, no pass of its own over the network.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import LeakyReLU
from .layers import Dense


def frobenius(a: np.ndarray) -> float:
    """``||a||_F``; finite entries whose squares overflow still get their finite norm.

    The overflow of the first try is expected: call under ``np.errstate(over="ignore")``
    (as ``Trainer.step`` does) to keep NumPy quiet about it.
    """
    v = a.reshape(-1)
    n = math.sqrt(v.dot(v))  # one BLAS dot: the squares are never stored
    if n < math.inf or v.size == 0:  # finite (NaN fails both tests and is handled below)
        return n
    big = float(np.abs(v).max())
    if not math.isfinite(big) or big == 0.0:
        return n  # a NaN or inf entry: the norm is not finite either
    w = v / big
    return big * math.sqrt(float(w.dot(w)))


def fprime_mean(layer: Dense) -> float:
    """``mean |f'(Z)|`` of ``layer``'s latest forward pass (1 for a linear layer).

    ReLU's derivative is 0 or 1, so its mean is the share of active units; sigmoid's
    ``a (1 - a)`` and tanh's ``1 - a**2`` are never negative, so no ``abs`` is needed.
    Each is one reduction over ``A``: tanh's is ``1 - (a . a) / size``, one BLAS dot
    (summing ``1 - a**2`` took three NumPy calls and a temporary, 2-5 us a layer). Its
    error is that of a number near 1, a few 1e-16 absolute (measured against exact
    rationals up to 512 x 64 entries): relative 5e-11 for the saturation scenario's
    first layer, whose mean f' is 7e-6, far below the digits shown.
    """
    Z, A = layer.Z, layer.A
    if Z is None or A is None:
        raise RuntimeError("fprime_mean called before forward")
    name, size = layer.activation.name, Z.size
    if size == 0:
        return math.nan
    if name == "linear":
        return 1.0
    if name == "relu":  # f'(z) = sign(a): 1 where a > 0 (NaN counts as "active")
        # Counted on the bits: ReLU writes its zeros as +0.0 (all bits 0), and an
        # integer count is faster than a float one (64 x 64: 1.7 against 2.4 us alone;
        # in the step, a float count made exploding's diagnosed step 4% slower).
        return int(np.count_nonzero(A.view(np.uint64))) / size
    if isinstance(layer.activation, LeakyReLU):
        active = int(np.count_nonzero(Z > 0.0))
        return (active + layer.activation.slope * (size - active)) / size
    a = A.reshape(-1)
    if name == "sigmoid":
        return float(a.dot(1.0 - a)) / size
    if name == "tanh":
        return 1.0 - float(a.dot(a)) / size
    return float(np.abs(layer.activation.grad(Z, A)).mean())


def fprime_means(layers: list[Dense]) -> list[float | None]:
    """``fprime_mean`` per hidden layer, ``None`` for the output layer (its logits are
    linear by construction; the loss's own non-linearity is part of ``dlogits``)."""
    return [*(fprime_mean(layer) for layer in layers[:-1]), None]


def error_signals(layers: list[Dense]) -> list[float]:
    """``||dL/dZ_l||_F`` per layer of the latest ``backward``, input side first."""
    out = []
    for layer in layers:
        if layer.dZ is None:
            raise RuntimeError("error_signals called before backward")
        out.append(frobenius(layer.dZ))
    return out


def layer_factors(
    error_signal: list[float | None], fprime: list[float | None]
) -> list[tuple[float | None, float | None, float | None]]:
    """``(factor, f', gain)`` of each step down, from layer ``l`` to ``l-1``.

    One entry per layer but the last, input side first: entry ``l-1`` describes the
    step that takes ``delta_l`` to ``delta_{l-1}``: ``factor = ||delta_{l-1}|| /
    ||delta_l||``, ``f' = fprime_mean[l-1]`` and ``gain = factor / f'`` (the weights'
    part, so the product holds exactly as shown). ``None`` where undefined.
    """
    out: list[tuple[float | None, float | None, float | None]] = []
    for below in range(len(error_signal) - 1):
        lo, hi, fp = error_signal[below], error_signal[below + 1], fprime[below]
        factor = lo / hi if lo is not None and hi else None
        if factor is not None and not math.isfinite(factor):
            factor = None
        gain = factor / fp if factor is not None and fp else None
        out.append((factor, fp, gain))
    return out
