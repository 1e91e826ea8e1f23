"""Loss functions on logits, with their gradient ``dL/dlogits``.

A loss is called as ``loss(logits, Y) -> (L, dlogits)``:

- ``logits`` ``(m, k)``: the network's linear outputs, one row per example;
- ``Y`` ``(m, k)`` float64 targets of the same shape (``targets_for`` builds them);
- ``L``: a Python float, the **mean over the batch** of the per-example loss;
- ``dlogits`` ``(m, k)``: ``dL/dlogits``, already divided by ``m``, ready for
  ``MLP.backward``. It is a new array on every call.

The output non-linearity lives here, not in the network, because combined with the
loss it simplifies and can be computed stably: for sigmoid + binary cross-entropy
and for softmax + cross-entropy, ``dL/dlogits = (p - Y) / m``. No ``exp`` of a large
logit is ever formed, so logits of +-1000 give a finite loss and finite gradients
without a single floating-point warning.

========== ============================================= ==========================
``bce``    mean_i sum_j [softplus(z_ij) - y_ij z_ij]     sigmoid per output column
``softmax_ce`` mean_i [logsumexp(z_i) - y_i . z_i]       softmax over a row
``mse``    mean_i sum_j (z_ij - y_ij)^2 / 2              identity (regression on 0/1)
========== ============================================= ==========================

(``softplus(z) - y z`` is ``-[y log sigmoid(z) + (1-y) log(1 - sigmoid(z))]``
rewritten with ``softplus(z) = log(1 + e^z)``. The ``/ 2`` in ``mse`` makes its
gradient simply ``(z - y) / m``.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .config import LOSSES

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def bce(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Sigmoid + binary cross-entropy, each output column an independent yes/no."""
    m = logits.shape[0]
    softplus = np.logaddexp(0.0, logits)  # log(1 + e^z) without overflow
    loss = (softplus.sum() - np.vdot(Y, logits)) / m
    # sigmoid(z) = exp(z - softplus(z)); the exponent is <= 0, so exp cannot overflow.
    d = np.subtract(logits, softplus, out=softplus)
    np.exp(d, out=d)
    d -= Y
    d *= 1.0 / m
    return float(loss), d


def softmax_ce(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax + cross-entropy; each row of ``Y`` one-hot (or probabilities summing to 1)."""
    m = logits.shape[0]
    # Shifting each row by its max changes neither softmax nor logsumexp, and keeps
    # every exponent <= 0.
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=1, keepdims=True)
    log_p = shifted - np.log(total)
    loss = -np.vdot(Y, log_p) / m + 0.0  # + 0.0 turns -0.0 into 0.0
    p /= total
    p -= Y
    p *= 1.0 / m
    return float(loss), p


def mse(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Half the squared error, summed over outputs, averaged over the batch."""
    m = logits.shape[0]
    d = np.subtract(logits, Y)
    loss = 0.5 * np.vdot(d, d) / m
    d *= 1.0 / m
    return float(loss), d


_LOSSES: dict[str, LossFn] = {"bce": bce, "softmax_ce": softmax_ce, "mse": mse}
assert set(_LOSSES) == set(LOSSES)


def get_loss(name: str) -> LossFn:
    """The loss called ``name`` (one of ``config.LOSSES``)."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}") from None


def n_outputs(loss: str, classes: int) -> int:
    """Output units for ``classes`` classes: ``bce``/``mse`` use 1 for two classes."""
    get_loss(loss)
    if loss == "softmax_ce" or classes > 2:
        return classes
    return 1


def targets_for(loss: str, y: np.ndarray, classes: int) -> np.ndarray:
    """Float64 targets ``(m, n_outputs(loss, classes))`` for integer labels ``y`` ``(m,)``.

    One output unit: the label itself as 0.0 / 1.0. Otherwise one-hot rows.
    """
    y = np.asarray(y)
    if n_outputs(loss, classes) == 1:
        return y.astype(np.float64).reshape(-1, 1)
    Y = np.zeros((y.shape[0], classes))
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y


def predict(loss: str, logits: np.ndarray) -> np.ndarray:
    """Predicted labels ``(m,)`` int64: the arg-max unit, or a threshold for one unit.

    One unit: ``bce`` says 1 when ``sigmoid(z) > 0.5`` (``z > 0``); ``mse`` regresses
    the 0/1 label directly, so it says 1 when ``z > 0.5``.
    """
    get_loss(loss)
    if logits.shape[1] == 1:
        threshold = 0.5 if loss == "mse" else 0.0
        return (logits[:, 0] > threshold).astype(np.int64)
    return logits.argmax(axis=1).astype(np.int64)
