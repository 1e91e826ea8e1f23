"""Initial weights and biases.

Every scheme draws a ``(fan_out, fan_in)`` weight matrix (one row per unit of the
layer, one column per input) and multiplies it by ``scale`` (the scenario's
``init_scale``): ``scale > 1`` is how the *exploding* scenario starts, ``scale < 1``
how the *vanishing* one does. The variances are chosen so that, at ``scale = 1``,
activations (He, LeCun) or activations and gradients together (Xavier/Glorot) keep
their magnitude from layer to layer.

=================  ===========================================
``he``             N(0, 2 / fan_in)        (ReLU family)
``xavier``         N(0, 2 / (fan_in + fan_out))   (tanh, sigmoid)
``xavier_uniform`` U(-r, r), r = sqrt(6 / (fan_in + fan_out))
``lecun``          N(0, 1 / fan_in)
``standard_uniform`` U(-r, r), r = 1 / sqrt(fan_in)
``normal``         N(0, 1)                 (far too large for wide layers)
=================  ===========================================
"""

from __future__ import annotations

import math

import numpy as np

from .config import INITS


def init_std(name: str, fan_in: int, fan_out: int) -> tuple[str, float]:
    """``("normal", std)`` or ``("uniform", bound)`` of scheme ``name`` at scale 1."""
    if name == "he":
        return "normal", math.sqrt(2.0 / fan_in)
    if name == "xavier":
        return "normal", math.sqrt(2.0 / (fan_in + fan_out))
    if name == "xavier_uniform":
        return "uniform", math.sqrt(6.0 / (fan_in + fan_out))
    if name == "lecun":
        return "normal", math.sqrt(1.0 / fan_in)
    if name == "standard_uniform":
        return "uniform", 1.0 / math.sqrt(fan_in)
    if name == "normal":
        return "normal", 1.0
    raise ValueError(f"unknown init {name!r}; allowed: {', '.join(INITS)}")


def init_weights(
    name: str, fan_in: int, fan_out: int, rng: np.random.Generator, scale: float = 1.0
) -> np.ndarray:
    """A new ``(fan_out, fan_in)`` float64 matrix drawn by scheme ``name``, times ``scale``."""
    kind, spread = init_std(name, fan_in, fan_out)
    if kind == "normal":
        W = rng.normal(0.0, spread, size=(fan_out, fan_in))
    else:
        W = rng.uniform(-spread, spread, size=(fan_out, fan_in))
    if scale != 1.0:
        W *= scale
    return W


def init_bias(bias_init: float | str, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A new ``(fan_out,)`` bias: the constant ``bias_init``, or N(0, 1) for ``"normal"``.

    A constant draws nothing from ``rng``, so changing a constant bias does not change
    the weights drawn after it.
    """
    if isinstance(bias_init, str):
        if bias_init != "normal":
            raise ValueError(f"unknown bias_init {bias_init!r}; allowed: a number or 'normal'")
        return rng.normal(0.0, 1.0, size=fan_out)
    return np.full(fan_out, float(bias_init))
