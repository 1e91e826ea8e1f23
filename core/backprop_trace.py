"""One training step's forward and backward pass, written down for the backprop view.

``backprop_trace(net, ...)`` is called by the trainer right after ``backward`` and before
clipping and the update, so every number is the trainer's own for that step: the
breadcrumbs the forward pass left on each layer (``X`` = a_prev, ``Z``, ``A``) and what
backward made of them (``dZ`` = delta, ``dW``, ``db``). In the lesson's matrix form, for a
batch of ``m`` examples as rows:

    forward   Z = A_prev @ W.T + b      (m, n_out);   A = f(Z)
    backward  dL/dA  (m, n_out)  ->  delta = dL/dA * f'(Z)  (m, n_out)
              dW = delta.T @ A_prev  (n_out, n_in);  db = sum over rows of delta  (n_out,)
              dL/dA_prev = delta @ W  (m, n_in), handed to the layer below

The trace is a plain JSON-able dict (``{"type": "trace", ...}``), sent over the child's
pipe like an event. Per layer it always has the batch summaries (means, stds, norms);
for a small network (at most ``UNIT_LIMIT`` hidden units) it also has, for the first
``EXAMPLES`` examples of the batch (the view shows one at a time), every unit's z, a,
f'(z), dL/da and delta, and every weight's gradient, both that example's share
(delta_j * a_prev_i) and the batch's ``dW``.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .error_signal import fprime_mean, frobenius
from .mlp import MLP

UNIT_LIMIT = 24  # hidden units up to which the trace goes unit by unit
EXAMPLES = 4  # examples of the batch traced unit by unit, for the view to choose from


def unit_level(sizes: list[int]) -> bool:
    """Whether a network of ``sizes`` is small enough to trace unit by unit."""
    return sum(sizes[1:-1]) <= UNIT_LIMIT


def _stats(a: np.ndarray) -> dict[str, float]:
    return {"mean": float(a.mean()), "std": float(a.std())}


def backprop_trace(net: MLP, *, step: int, loss: float, loss_name: str) -> dict[str, Any]:
    """The trace of the forward and backward pass ``net`` has just done (see module doc).

    Unit by unit (small networks only), each per-example field is a list with one row
    per traced example: ``unit["z"][e][j]`` is unit j's z for example e of the batch.
    """
    layers = net.layers
    m = int(layers[0].X.shape[0]) if layers[0].X is not None else 0
    rows = slice(0, min(m, EXAMPLES))
    units = unit_level(net.sizes)
    out_layers: list[dict[str, Any]] = []
    # dL/dA of each layer: the layer above's delta @ W (what its backward handed down);
    # the output layer's dL/dA is dlogits, its own dZ (the layer is linear).
    if any(layer.X is None or layer.dZ is None for layer in layers):
        raise RuntimeError("backprop_trace needs a forward and a backward pass first")
    deltas = [cast(np.ndarray, layer.dZ) for layer in layers]
    dA = [delta.dot(above.W) for delta, above in zip(deltas[1:], layers[1:], strict=True)]
    dA.append(deltas[-1])
    for k, layer in enumerate(layers):
        X, Z, A, dZ = layer.X, layer.Z, layer.A, deltas[k]
        assert X is not None and Z is not None and A is not None
        output = k == len(layers) - 1
        fprime = None if output else fprime_mean(layer)
        dA_prev = dZ.dot(layer.W)  # for L1 this is dL/dx, which training never needs
        entry: dict[str, Any] = {
            "name": layer.name,
            "fan_in": layer.fan_in,
            "fan_out": layer.fan_out,
            "activation": layer.activation.name,
            "z": _stats(Z),
            "a": _stats(A),
            "fprime_mean": fprime,
            "dA_norm": frobenius(dA[k]),
            "delta_norm": frobenius(dZ),
            "dW_norm": frobenius(layer.dW),
            "db_norm": frobenius(layer.db),
            "dA_prev_norm": frobenius(dA_prev),
        }
        if units:
            delta, a_prev = dZ[rows], X[rows]
            entry["unit"] = {
                "a_prev": a_prev.tolist(),
                "z": Z[rows].tolist(),
                "a": A[rows].tolist(),
                "fprime": layer.activation.grad(Z[rows], A[rows]).tolist(),
                "dA": dA[k][rows].tolist(),
                "delta": delta.tolist(),
                "dA_prev": dA_prev[rows].tolist(),
                "dW_example": (delta[:, :, None] * a_prev[:, None, :]).tolist(),
                "W": layer.W.tolist(),
                "b": layer.b.tolist(),
                "dW": layer.dW.tolist(),
                "db": layer.db.tolist(),
            }
        out_layers.append(entry)
    return {
        "type": "trace",
        "step": int(step),
        "loss": float(loss),
        "loss_name": loss_name,
        "batch": m,
        "examples": rows.stop if units else 0,  # the first rows of the batch
        "unit_level": units,
        "layers": out_layers,
    }
