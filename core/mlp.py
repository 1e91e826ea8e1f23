"""The multilayer perceptron: a stack of ``Dense`` layers, the last one linear.

``MLP([2, 16, 16, 1])`` is 2 inputs, two hidden layers of 16 units and 1 output
unit. Hidden layers use ``activation``; the output layer is linear and returns
*logits*, and the loss (``losses.py``) applies sigmoid or softmax itself, in a
numerically stable form.

One training step, by hand::

    net = MLP([2, 16, 16, 1], activation="relu", init="he", seed=0)
    logits = net.forward(X)                        # (m, 1); caches on each layer
    loss, dlogits = get_loss("bce")(logits, Y)     # dlogits = dL/dlogits, (m, 1)
    net.backward(dlogits)                          # fills layer.dW, layer.db
    make_optimizer("sgd", 0.1).step(net.params(), net.grads())

All parameters live in one flat float64 vector and all gradients in another;
``layer.W``, ``layer.b``, ``layer.dW`` and ``layer.db`` are views into them, in the
order of ``params()``: ``[W0, b0, W1, b1, ...]``. An optimiser or a clipping
function that sees the flat vectors (``params().flat``) updates every parameter of
the net in one NumPy operation instead of one per array, which is most of a tiny
network's step time. Nothing else about the layers changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import numpy as np

from .layers import Dense


class ParamList(list):
    """A list of arrays that are consecutive views into one flat vector ``.flat``.

    Behaves as a plain ``list`` of ``ndarray``; ``flat`` is the 1-D vector holding them
    all, so ``flat`` and the arrays always show the same numbers.
    """

    flat: np.ndarray

    def __init__(self, arrays: Sequence[np.ndarray], flat: np.ndarray) -> None:
        super().__init__(arrays)
        self.flat = flat


class MLP:
    """A fully connected network; see the module docstring.

    Parameters
    ----------
    sizes:
        Widths from input to output, at least two: ``[n_in, hidden..., n_out]``.
    activation:
        Hidden-layer activation (``config.ACTIVATIONS``); the last layer is linear.
    init, init_scale, bias_init:
        Initial weights and biases (see ``initializers.py``), drawn layer by layer,
        weights then biases, from ``numpy.random.default_rng(seed)``.
    seed:
        Same seed, same network.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str = "he",
        init_scale: float = 1.0,
        bias_init: float | str = 0.0,
        seed: int = 0,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must be at least two positive widths, got {sizes}")
        self.sizes = sizes
        self.activation = activation
        rng = np.random.default_rng(seed)
        total = sum(o * i + o for i, o in pairwise(sizes))
        self._flat_params = np.empty(total)
        self._flat_grads = np.zeros(total)
        self.layers: list[Dense] = []
        start = 0
        n_layers = len(sizes) - 1
        for k, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            stop = start + fan_out * fan_in + fan_out
            self.layers.append(
                Dense(
                    fan_in,
                    fan_out,
                    "linear" if k == n_layers - 1 else activation,
                    init=init,
                    init_scale=init_scale,
                    bias_init=bias_init,
                    rng=rng,
                    param_storage=self._flat_params[start:stop],
                    grad_storage=self._flat_grads[start:stop],
                    name=f"L{k + 1}",
                )
            )
            start = stop
        self._params = ParamList(
            [p for layer in self.layers for p in (layer.W, layer.b)], self._flat_params
        )
        self._grads = ParamList(
            [g for layer in self.layers for g in (layer.dW, layer.db)], self._flat_grads
        )

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Logits ``(m, sizes[-1])`` for inputs ``X`` ``(m, sizes[0])``.

        Each layer caches its ``X``, ``Z`` and ``A`` for ``backward``. The returned
        array is a buffer of the last layer, overwritten by the next ``forward`` with the
        same batch size.
        """
        A = np.asarray(X, dtype=np.float64)
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def backward(self, dlogits: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backprop ``dlogits = dL/dlogits`` ``(m, sizes[-1])`` from the latest ``forward``.

        Fills every layer's ``dW`` and ``db`` and returns ``dL/dX`` ``(m, sizes[0])``, as
        the design's API says. A training loop passes ``need_dx=False`` and gets
        ``None``: it never uses ``dL/dX``, and skipping it saves the first layer's
        biggest matrix product. ``dlogits`` is not modified.
        """
        layers = self.layers
        dA = np.asarray(dlogits, dtype=np.float64)
        for k in range(len(layers) - 1, 0, -1):
            # each layer's dZ and dX have buffers of their own; need_dx defaults to True
            dA = cast(np.ndarray, layers[k].backward(dA))
        return layers[0].backward(dA, need_dx=need_dx)

    def params(self) -> ParamList:
        """``[W0, b0, W1, b1, ...]``: the live parameter arrays (views; ``.flat`` has all)."""
        return self._params

    def grads(self) -> ParamList:
        """``[dW0, db0, dW1, db1, ...]`` of the latest ``backward``, matching ``params()``."""
        return self._grads

    @property
    def n_params(self) -> int:
        """Number of trainable numbers (weights and biases)."""
        return self._flat_params.size

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, activation={self.activation!r}, params={self.n_params})"
