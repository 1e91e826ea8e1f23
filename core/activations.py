"""Activation functions and their derivatives.

Each activation is a small object with two textbook methods

- ``fn(z)``: the activation ``a = f(z)`` applied elementwise, a new array;
- ``grad(z, a)``: the derivative ``f'(z)``, given the pre-activation ``z`` and the
  output ``a = f(z)`` (sigmoid and tanh express their derivative through ``a``);

and two in-place variants that ``layers.Dense`` uses on every step, because on a
tiny network the time goes into allocating and visiting arrays, not into arithmetic:

- ``forward(z, out) -> a`` writes ``f(z)`` into ``out`` (``linear`` returns ``z``);
- ``backward(dA, z, a, out) -> dZ`` writes ``dA * f'(z)`` into ``out`` (which may be
  ``dA`` itself); this is the chain rule step ``dL/dZ = dL/dA * f'(Z)``.

Every array here has the shape of the layer's pre-activation, ``(m, n_out)``.

An ``Activation`` is also the string of its name (``get_activation("relu") ==
"relu"``), so a layer's activation can go straight into an event or a message.

Activations are values: immutable, like the strings they are. ``get_activation`` hands
out shared instances, so none may change under the networks that use it; a leaky ReLU
of another slope is a new value, ``LeakyReLU(slope=0.2)``.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import numpy as np

from .config import ACTIVATIONS

LEAKY_SLOPE = 0.01
"""Slope of ``leaky_relu`` for negative inputs."""


class Activation(str):
    """Base class: an activation function that is also its own name; immutable."""

    NAME: ClassVar[str]

    def __new__(cls, name: str | None = None) -> Activation:
        return super().__new__(cls, name or cls.NAME)

    @property
    def name(self) -> str:
        return str(self)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"activations are immutable values: make a new one instead of setting {key!r}"
        )

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"activations are immutable values: cannot delete {key!r}")

    def fn(self, z: np.ndarray) -> np.ndarray:
        """``f(z)``, a new array of ``z``'s shape."""
        a = self.forward(z, np.empty_like(z))
        return a.copy() if a is z else a

    def grad(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``f'(z)`` elementwise, a new array; ``a`` must be ``f(z)``."""
        return self.backward(np.ones_like(z), z, a, np.empty_like(z))

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write ``f(z)`` into ``out`` and return it (or return ``z`` if ``f`` is identity)."""
        raise NotImplementedError

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write ``dA * f'(z)`` into ``out`` (may be ``dA``) and return it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Linear(Activation):
    """Identity, ``f(z) = z``: the output layer (logits) and deep *linear* nets."""

    NAME = "linear"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return z  # A is Z: no copy needed

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return dA  # f'(z) = 1


class ReLU(Activation):
    """``f(z) = max(z, 0)``; ``f'(z) = 1`` if ``z > 0`` else ``0`` (0 at the kink)."""

    NAME = "relu"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0, out=out)

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        # A unit with z <= 0 passes no gradient back: this is how ReLU units die.
        # sign(a) is that 0/1 mask as floats (a = max(z, 0) >= 0); multiplying by the
        # boolean mask z > 0 would be the same but slower (a casting loop). The mask
        # goes into ``out`` itself when it is not ``dA``: no temporary array.
        if out is dA:
            return np.multiply(dA, np.sign(a), out=out)
        np.sign(a, out=out)
        return np.multiply(out, dA, out=out)


class LeakyReLU(Activation):
    """``f(z) = z`` if ``z > 0`` else ``slope * z``: a dead-looking unit still learns."""

    NAME = "leaky_relu"
    slope: float

    def __new__(cls, name: str | None = None, slope: float = LEAKY_SLOPE) -> LeakyReLU:
        self = cast("LeakyReLU", super().__new__(cls, name))
        object.__setattr__(self, "slope", float(slope))  # set once, here only
        return self

    def __eq__(self, other: object) -> bool:
        same_name = str.__eq__(self, other)
        if isinstance(other, LeakyReLU) and same_name is True:
            return self.slope == other.slope
        return same_name

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__  # equal values have equal names, so equal hashes

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope!r})"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # max(z, slope * z) is z for z > 0 and slope * z below, as long as slope < 1.
        np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out)

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(dA, np.where(z > 0.0, 1.0, self.slope), out=out)


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``; ``f'(z) = a (1 - a)``, at most 1/4."""

    NAME = "sigmoid"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # 1 / (1 + exp(-z)) is accurate to a few ulps everywhere (0.5 + 0.5 tanh(z/2)
        # cancels to 0 below z = -37), and exp is about twice as fast as tanh. For
        # z < -709, exp(-z) overflows to inf and the result is exactly 0, the float
        # nearest the true value (< 1e-308): the overflow is expected, so not reported.
        np.negative(z, out=out)
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        out += 1.0
        return np.divide(1.0, out, out=out)

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        if out is dA:
            slope = np.subtract(1.0, a)
            slope *= a
            return np.multiply(dA, slope, out=out)
        np.subtract(1.0, a, out=out)  # (1 - a) a dA, with no temporary array
        out *= a
        return np.multiply(out, dA, out=out)


class Tanh(Activation):
    """``f(z) = tanh(z)``; ``f'(z) = 1 - a**2``."""

    NAME = "tanh"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        slope = np.multiply(a, a) if out is dA else np.multiply(a, a, out=out)
        np.subtract(1.0, slope, out=slope)
        return np.multiply(slope, dA, out=out)


_ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (Linear(), ReLU(), LeakyReLU(), Sigmoid(), Tanh())
}
assert set(_ACTIVATIONS) == set(ACTIVATIONS)

RELU_FAMILY = ("relu", "leaky_relu")
"""Activations whose units can be *dead* (pre-activation <= 0 on every example)."""
SATURATING = ("sigmoid", "tanh")
"""Activations whose units can *saturate* (output pinned near its bounds)."""


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (one of ``config.ACTIVATIONS``)."""
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}"
        ) from None
