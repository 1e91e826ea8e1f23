"""A fully connected layer: ``A = f(Z)``, ``Z = X @ W.T + b``.

Shapes (``m`` examples as rows):

- ``X``  ``(m, n_in)``   the layer's input (the previous layer's ``A``);
- ``W``  ``(n_out, n_in)`` one row of weights per unit; ``b`` ``(n_out,)``;
- ``Z``  ``(m, n_out)``  pre-activations; ``A = f(Z)`` ``(m, n_out)`` outputs.

``forward`` keeps ``X``, ``Z`` and ``A`` on the layer (the breadcrumbs backprop
follows back); ``backward(dA)`` turns ``dL/dA`` into

- ``dZ = dA * f'(Z)``          (chain rule through the activation),
- ``dW = dZ.T @ X``  ``(n_out, n_in)``, ``db = dZ.sum(axis=0)``  ``(n_out,)``,
- ``dX = dZ @ W``    ``(m, n_in)``, handed to the layer below.

``dW`` and ``db`` are sums over the batch: the loss already divided its ``dlogits``
by ``m``, so they are the gradients of the batch-mean loss.

Speed notes. ``Z``, ``A``, ``dZ`` and ``dX`` live in buffers the layer owns, one set per
batch size seen (training batches and the full-data probe), so a step allocates
almost nothing; the next ``forward`` with the same batch size overwrites them (copy
what you want to keep). ``W``, ``b``, ``dW`` and ``db`` may be views into flat
vectors owned by an ``MLP`` (see ``mlp.py``); assigning ``layer.W = array`` copies
into that storage so the views stay valid.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation
from .initializers import init_bias, init_weights

_MAX_BUFFER_SETS = 4  # batch sizes whose buffers are kept (train batch, probe, ...)


def _storage_view(attr: str, doc: str) -> property:
    """A property reading array ``attr`` and, on assignment, copying into it in place."""

    def get(self: Dense) -> np.ndarray:
        return getattr(self, attr)

    def set_(self: Dense, value: np.ndarray) -> None:
        getattr(self, attr)[...] = value

    return property(get, set_, doc=doc)


class Dense:
    """A fully connected layer of ``fan_out`` units reading ``fan_in`` inputs.

    Parameters
    ----------
    fan_in, fan_out:
        Input and output widths.
    activation:
        Name of the activation (``config.ACTIVATIONS``) or an ``Activation``.
    init, init_scale, bias_init:
        How ``W`` and ``b`` are drawn (see ``initializers.py``).
    rng:
        Random generator for the initial values (a fresh seed-0 one if omitted).
    param_storage, grad_storage:
        Optional 1-D float64 arrays of ``fan_out * fan_in + fan_out`` elements in which
        ``W`` (row-major) then ``b`` are laid out, and ``dW`` then ``db``. ``MLP`` passes
        slices of its flat parameter and gradient vectors.
    name:
        Shown in events and plots (``"L1"``, ``"L2"``, ... in an ``MLP``).
    """

    def __init__(
        self,
        fan_in: int,
        fan_out: int,
        activation: str = "relu",
        *,
        init: str = "he",
        init_scale: float = 1.0,
        bias_init: float | str = 0.0,
        rng: np.random.Generator | None = None,
        param_storage: np.ndarray | None = None,
        grad_storage: np.ndarray | None = None,
        name: str = "",
    ) -> None:
        self.fan_in = int(fan_in)
        self.fan_out = int(fan_out)
        self.name = name
        self.activation: Activation = (
            activation if isinstance(activation, Activation) else get_activation(activation)
        )
        size = self.fan_out * self.fan_in + self.fan_out
        if param_storage is None:
            param_storage = np.empty(size)
        if grad_storage is None:
            grad_storage = np.zeros(size)
        if param_storage.shape != (size,) or grad_storage.shape != (size,):
            raise ValueError(f"storage must have shape ({size},)")
        n_w = self.fan_out * self.fan_in
        self._W = param_storage[:n_w].reshape(self.fan_out, self.fan_in)
        self._b = param_storage[n_w:]
        self._dW = grad_storage[:n_w].reshape(self.fan_out, self.fan_in)
        self._db = grad_storage[n_w:]

        rng = np.random.default_rng(0) if rng is None else rng
        self._W[...] = init_weights(init, self.fan_in, self.fan_out, rng, init_scale)
        self._b[...] = init_bias(bias_init, self.fan_out, rng)

        # Caches of the latest forward pass.
        self.X: np.ndarray | None = None
        self.Z: np.ndarray | None = None
        self.A: np.ndarray | None = None
        # dL/dZ of the latest backward (the error signal delta), a buffer of this
        # layer or, for a linear one, the dA it was handed (valid until the next step).
        self.dZ: np.ndarray | None = None
        self._m = -1  # batch size the current buffers are for
        self._buffers: dict[int, tuple] = {}
        self._Zbuf = self._Abuf = self._dX = np.empty((0, self.fan_out))
        self._dZbuf: np.ndarray | None = None
        self._ones = np.empty(0)

    # W, b, dW, db are properties so that assigning one copies into the storage an
    # MLP's optimiser updates as a whole (``layer.W = W0`` keeps the views valid).
    W = _storage_view("_W", "Weights ``(fan_out, fan_in)``.")
    b = _storage_view("_b", "Biases ``(fan_out,)``.")
    dW = _storage_view("_dW", "``dL/dW`` ``(fan_out, fan_in)`` from the latest ``backward``.")
    db = _storage_view("_db", "``dL/db`` ``(fan_out,)`` from the latest ``backward``.")

    def _use_buffers(self, m: int) -> None:
        """Point the forward/backward buffers at the set for batch size ``m`` (made once).

        A set is ``Z``, ``A``, ``dX``, ``dZ`` (``(m, n)`` arrays) and ``ones`` ``(m,)`` for
        the bias gradient.
        """
        bufs = self._buffers.get(m)
        if bufs is None:
            if len(self._buffers) >= _MAX_BUFFER_SETS:
                self._buffers.clear()  # bounded memory with many batch sizes
            Z = np.empty((m, self.fan_out))
            # A linear layer's A is its Z and its dZ its dA: no buffers of their own.
            linear = self.activation == "linear"
            A = Z if linear else np.empty((m, self.fan_out))
            dZ = None if linear else np.empty((m, self.fan_out))
            bufs = (Z, A, np.empty((m, self.fan_in)), dZ, np.ones(m))
            self._buffers[m] = bufs
        self._Zbuf, self._Abuf, self._dX, self._dZbuf, self._ones = bufs
        self._m = m

    def forward(self, X: np.ndarray) -> np.ndarray:
        """``A = f(X @ W.T + b)`` for ``X`` ``(m, fan_in)``; returns ``A`` ``(m, fan_out)``.

        Caches ``X``, ``Z`` and ``A`` on the layer for ``backward``.
        """
        if X.shape[0] != self._m:
            self._use_buffers(X.shape[0])
        # ndarray.dot, not np.dot: the method skips NumPy's __array_function__
        # dispatch, 0.25 us a call, four calls a layer per step.
        Z = X.dot(self._W.T, out=self._Zbuf)
        np.add(Z, self._b, out=Z)
        self.X = X
        self.Z = Z
        self.A = A = self.activation.forward(Z, self._Abuf)
        return A

    def backward(self, dA: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backprop ``dA = dL/dA`` ``(m, fan_out)`` through the layer of the latest ``forward``.

        Fills ``dW`` and ``db``; returns ``dX = dL/dX`` ``(m, fan_in)``, or ``None`` when
        ``need_dx`` is false (the first layer's input gradient is never used in
        training, and for a wide input it costs a whole matrix product). ``dA`` is
        never modified: ``dZ`` has a buffer of its own, which lets the activations
        write it without a temporary.
        The returned ``dX`` is a buffer of the layer, overwritten by the next call.
        """
        if self.X is None or self.Z is None or self.A is None:
            raise RuntimeError("backward called before forward")
        if dA.shape[0] != self._m:
            raise ValueError(f"dA has {dA.shape[0]} rows, the latest forward had {self._m}")
        # Linear layers pass dA through untouched, so need no buffer for dZ.
        out = dA if self._dZbuf is None else self._dZbuf
        dZ = self.activation.backward(dA, self.Z, self.A, out)
        self.dZ = dZ
        dZ.T.dot(self.X, out=self._dW)
        # db = dZ.sum(axis=0) as ones @ dZ: one GEMV, 2-3x faster than add.reduce
        # on a (64, 32) array.
        self._ones.dot(dZ, out=self._db)
        if not need_dx:
            return None
        return dZ.dot(self._W, out=self._dX)

    def __repr__(self) -> str:
        return f"Dense({self.fan_in}, {self.fan_out}, {self.activation.name!r})"
