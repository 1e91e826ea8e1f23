"""Gradient checking: backprop against central finite differences.

For every parameter ``p`` of the network the derivative of the loss is estimated
numerically,

    dL/dp  ~  (L(p + eps) - L(p - eps)) / (2 eps),

whose error shrinks like ``eps**2``, and compared with what ``MLP.backward`` put in
``dW`` and ``db``. Per layer (weights and biases together) the relative error is

    max |g_bp - g_fd|  /  max(max |g_bp| + max |g_fd|, tiny)

so a correct backprop scores around 1e-9 in float64 and a wrong one around 1. It
costs two forward passes per parameter: use a small network and a few examples.

Cost, the lesson's point: backprop gets every derivative from one forward and one
backward pass, O(n) for n parameters, while the differences take two forward passes
per parameter, O(n^2). ``timed_gradcheck`` measures both on the network at hand.

ReLU's kink at 0 breaks the estimate if some pre-activation lies within about
``eps`` of 0 (the two sides see different slopes): a correct backprop then scores
1e-4 to 1e-2 and looks broken. Measured on healthy (ReLU), checking the first 64
examples every other step: 2 checks in 100 failed that way. ``checkable_examples``
picks examples whose pre-activations all keep clear of the kink;
``min_abs_preactivation`` tells you how close yours come.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .losses import LossFn, get_loss
from .mlp import MLP

TINY = 1e-300
TOLERANCE = 1e-6  # the lesson's bar for a correct backward pass
# Measured: the error of a correct gradient sits at 1-2x eps * |L| / 2h when the loss's
# own rounding dominates (vanishing first layers, a loss of 1e200); 10x leaves margin.
NOISE_FACTOR = 10.0
BACKPROP_TIMING = 0.02  # s: backprop is timed over repeats that fill at least this
EXAMPLES = 64  # examples a check uses: each parameter costs two forward passes over them
# Hidden activations with a kink at 0, and how far from it a checked pre-activation must
# be: 1000 h, beyond what one parameter's step of h moves a pre-activation in these nets.
KINKED = frozenset({"relu", "leaky_relu"})
KINK_MARGIN = 1e-3

# ``progress(done, total)``: parameters estimated so far, of all of them. Called after
# every parameter; a slow display should rate-limit itself.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LayerCheck:
    """The gradient check of one layer."""

    index: int  # 0 = the layer reading the input
    name: str  # "L1", "L2", ...
    rel_error: float  # max |bp - fd| / (max |bp| + max |fd|), W and b together
    max_abs_error: float  # max |bp - fd|
    max_abs_grad: float  # max |bp|: tells a vanishing layer from a broken one
    n_params: int


@dataclass(frozen=True)
class GradcheckCost:
    """What the two ways of getting the gradient cost on one network and batch."""

    backprop_seconds: float  # one forward + backward pass (all n derivatives)
    fd_seconds: float  # the 2n forward passes of the central differences
    n_params: int

    @property
    def ratio(self) -> float:
        """How many times slower the finite differences were (grows like n)."""
        return self.fd_seconds / self.backprop_seconds if self.backprop_seconds > 0 else math.inf


def _loss_fn(loss: str | LossFn) -> LossFn:
    return get_loss(loss) if isinstance(loss, str) else loss


def numerical_grads(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    loss: str | LossFn,
    eps: float = 1e-6,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """Central-difference estimates of ``dL/dp`` for each array of ``net.params()``.

    Parameters are restored exactly afterwards, also when interrupted (Ctrl+C, or an
    exception raised by ``progress``, which is how a caller stops a long check).
    """
    fn = _loss_fn(loss)
    params = net.params()
    total = sum(p.size for p in params)
    done = 0
    estimates = []
    for p in params:
        g = np.empty_like(p)
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)  # views of p and g
        for i in range(flat_p.size):
            original = flat_p[i]
            try:
                flat_p[i] = original + eps
                plus = fn(net.forward(X), Y)[0]
                flat_p[i] = original - eps
                minus = fn(net.forward(X), Y)[0]
            finally:
                flat_p[i] = original
            flat_g[i] = (plus - minus) / (2.0 * eps)
            done += 1
            if progress is not None:
                progress(done, total)
        estimates.append(g)
    return estimates


def backprop_grads(net: MLP, X: np.ndarray, Y: np.ndarray, loss: str | LossFn) -> list[np.ndarray]:
    """Copies of ``net.grads()`` after one forward and backward pass on ``(X, Y)``."""
    _, dlogits = _loss_fn(loss)(net.forward(X), Y)
    net.backward(dlogits, need_dx=False)
    return [g.copy() for g in net.grads()]


def gradcheck(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    loss: str | LossFn,
    eps: float = 1e-6,
    progress: Progress | None = None,
) -> list[LayerCheck]:
    """Compare backprop with finite differences on ``X`` ``(m, n_in)``, ``Y`` ``(m, n_out)``.

    ``loss`` is a name (``config.LOSSES``) or a loss callable. Returns one
    ``LayerCheck`` per layer, input side first. The network's parameters are left as
    they were; its gradients hold the backprop result. ``progress(done, total)`` is
    called after each parameter's finite difference.
    """
    return timed_gradcheck(net, X, Y, loss, eps, progress)[0]


def timed_gradcheck(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    loss: str | LossFn,
    eps: float = 1e-6,
    progress: Progress | None = None,
) -> tuple[list[LayerCheck], GradcheckCost]:
    """``gradcheck`` and what each side cost (see ``GradcheckCost``).

    Backprop is timed as the best of repeats (one pass takes microseconds, below the
    clock's noise on a loaded machine); the differences once, as they take long.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    t0 = time.perf_counter()
    numeric = numerical_grads(net, X, Y, loss, eps, progress)
    fd_seconds = time.perf_counter() - t0
    analytic = backprop_grads(net, X, Y, loss)
    bp_seconds, spent = math.inf, 0.0
    while spent < BACKPROP_TIMING:
        t0 = time.perf_counter()
        backprop_grads(net, X, Y, loss)
        took = time.perf_counter() - t0
        bp_seconds, spent = min(bp_seconds, took), spent + took
    checks = []
    for k, layer in enumerate(net.layers):
        bp = np.concatenate([analytic[2 * k].ravel(), analytic[2 * k + 1].ravel()])
        fd = np.concatenate([numeric[2 * k].ravel(), numeric[2 * k + 1].ravel()])
        diff = float(np.abs(bp - fd).max())
        scale = float(np.abs(bp).max() + np.abs(fd).max())
        checks.append(
            LayerCheck(
                index=k,
                name=layer.name,
                rel_error=diff / max(scale, TINY),
                max_abs_error=diff,
                max_abs_grad=float(np.abs(bp).max()),
                n_params=bp.size,
            )
        )
    return checks, GradcheckCost(bp_seconds, fd_seconds, net.n_params)


def verdict(check: LayerCheck, loss: float, eps: float = 1e-6) -> str:
    """``"ok"``, ``"ok to rounding noise"``, ``"unresolved"``, ``"FAIL"`` or ``"n/a: ..."``.

    ``loss`` is ``|L|`` at the checked parameters, ``eps`` the step the differences used.
    ``(L(p+h) - L(p-h)) / 2h`` cannot resolve a slope finer than about
    ``eps_machine * |L| / 2h``: a layer whose whole gradient is below that floor is
    *unresolved* (nothing can be checked; never reported as agreement), one whose error
    is below it agrees *to rounding noise*, and only an error above both the tolerance
    and the floor is a failure of backprop.
    """
    if not math.isfinite(loss):
        return "n/a: loss not finite"
    floor = NOISE_FACTOR * np.finfo(np.float64).eps * loss / (2 * eps)
    if check.rel_error <= TOLERANCE:
        return "ok"
    if check.max_abs_grad <= floor:  # the whole gradient is below the resolution
        return "unresolved"
    if check.max_abs_error <= floor:
        return "ok to rounding noise"
    return "FAIL"


def checkable_examples(
    net: MLP, X: np.ndarray, Y: np.ndarray, m: int = EXAMPLES, margin: float = KINK_MARGIN
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``m`` examples of ``(X, Y)`` a finite difference can check on ``net``.

    With a kinked hidden activation (``KINKED``) these are the examples whose hidden
    pre-activations all lie at least ``margin`` from 0, so that no step of the
    differences crosses the kink; with a smooth one, or when no example qualifies (a
    diverged network's are NaN), simply the first ``m``.
    """
    X = np.asarray(X, dtype=np.float64)
    if net.activation not in KINKED:
        return X[:m], Y[:m]
    with np.errstate(all="ignore"):
        net.forward(X)
    clear = np.ones(X.shape[0], dtype=bool)
    for layer in net.layers[:-1]:
        clear &= (np.abs(cast(np.ndarray, layer.Z)) >= margin).all(axis=1)
    chosen = np.flatnonzero(clear)[:m]
    if chosen.size == 0:
        return X[:m], Y[:m]
    return X[chosen], Y[chosen]


def min_abs_preactivation(net: MLP, X: np.ndarray) -> float:
    """Smallest ``|Z|`` over the hidden layers for inputs ``X`` (how close to a kink)."""
    net.forward(np.asarray(X, dtype=np.float64))
    hidden = net.layers[:-1]
    return min((float(np.abs(cast(np.ndarray, layer.Z)).min()) for layer in hidden), default=np.inf)


def gradcheck_event(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    loss: str,
    *,
    step: int,
    eps: float = 1e-6,
) -> dict[str, Any]:
    """The check of ``net`` as it is now, as a JSON-able ``{"type": "gradcheck"}`` message.

    What the dashboard's gradient-check view shows, made in the trainer's process:
    per layer the relative error and its ``verdict``; the cost of each side. It checks
    ``checkable_examples`` of ``(X, Y)``, the data set.
    """
    X, Y = checkable_examples(net, X, Y)
    with np.errstate(all="ignore"):
        value = abs(get_loss(loss)(net.forward(np.asarray(X, dtype=np.float64)), Y)[0])
        checks, cost = timed_gradcheck(net, X, Y, loss, eps)
    return {
        "type": "gradcheck",
        "step": int(step),
        "examples": int(X.shape[0]),
        "kink_margin": KINK_MARGIN if net.activation in KINKED else None,
        "eps": eps,
        "loss": value,
        "layers": [
            {
                "name": c.name,
                "rel_error": c.rel_error,
                "max_abs_error": c.max_abs_error,
                "max_abs_grad": c.max_abs_grad,
                "n_params": c.n_params,
                "verdict": verdict(c, value, eps),
            }
            for c in checks
        ],
        "backprop_seconds": cost.backprop_seconds,
        "fd_seconds": cost.fd_seconds,
        "ratio": cost.ratio,
        "n_params": cost.n_params,
    }
