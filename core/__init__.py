"""bp-tui's training core: a plain-NumPy MLP, its losses, optimisers and diagnostics.

Imports NumPy only (never textual, rich or plotext), so any program can train,
record or analyse a run without the dashboard. The pieces, in the order a step uses
them::

    from bp_tui.core import MLP, get_loss, make_optimizer, make_dataset, targets_for
    X, y = make_dataset(DataConfig(kind="moons"), seed=0)
    net = MLP([2, 16, 16, 1], activation="relu", init="he", seed=0)
    loss, dlogits = get_loss("bce")(net.forward(X), targets_for("bce", y, 2))
    net.backward(dlogits)
    make_optimizer("sgd", 0.1).step(net.params(), net.grads())

The training loop with its event stream (``Trainer``, ``EventWriter``...) is in
``core.trainer``, ``core.events`` and ``core.stream``; those
names are importable from here too, loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .activations import Activation, get_activation
from .clipping import clip_by_norm, clip_by_value, global_norm, norm
from .config import DataConfig, ModelConfig, Scenario, TrainConfig
from .datasets import make_dataset
from .diagnostics import dead_units, layer_norms, saturated_fraction
from .gradcheck import LayerCheck, gradcheck
from .initializers import init_bias, init_weights
from .layers import Dense
from .losses import get_loss, n_outputs, predict, targets_for
from .mlp import MLP
from .optim import make_optimizer

# Loaded on first access, so ``import bp_tui.core`` stays as light as the numerics.
_LAZY = {
    "Trainer": "trainer",
    "StepEvent": "events",
    "EventWriter": "stream",
    "read_stream": "stream",
    "StreamError": "stream",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bp_tui.core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "MLP",
    "Activation",
    "DataConfig",
    "Dense",
    "LayerCheck",
    "ModelConfig",
    "Scenario",
    "TrainConfig",
    "clip_by_norm",
    "clip_by_value",
    "dead_units",
    "get_activation",
    "get_loss",
    "global_norm",
    "gradcheck",
    "init_bias",
    "init_weights",
    "layer_norms",
    "make_dataset",
    "make_optimizer",
    "n_outputs",
    "norm",
    "predict",
    "saturated_fraction",
    "targets_for",
    *_LAZY,
]
