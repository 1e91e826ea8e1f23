"""The PyTorch yardstick: the same network, batch, loss, optimiser and clipping, eager, CPU.

PyTorch is an optional extra (``pip install torch==2.13.0``). Its thread count is set
equal to NumPy's BLAS threads, so both sides get the same cores. Weights are copied from
the NumPy network so that both compute on the same numbers (a diverged net full of NaN
or denormals would time differently).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """Give torch ``n`` intra-op threads (NumPy's BLAS count) for the ``with`` block;
    yields what torch took. The old count is restored after: the smoke tests run the
    benchmarks inside the test process, whose later torch tests keep their own setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def torch_training(
    layers: list[Any], activation: str, loss: str, optimizer: str, lr: float, X: Any, Y: Any
) -> tuple[Any, list[Any], Any, Any, Any, Any]:
    """``(model, params, optimizer, loss_fn, X, Y)`` in torch: the NumPy net's layers
    (``W (n_out, n_in)``, ``b (n_out,)``) copied, ``X (m, n_in)`` and ``Y`` as torch wants
    them (class indices for softmax cross-entropy)."""
    import torch
    from torch import nn

    acts: dict[str, Callable[[], nn.Module]] = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "linear": nn.Identity,
    }
    mods: list[nn.Module] = []
    for i, layer in enumerate(layers):
        lin = nn.Linear(layer.W.shape[1], layer.W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(layer.W, dtype=np.float64)))
            lin.bias.copy_(torch.from_numpy(np.asarray(layer.b, dtype=np.float64)))
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(acts[activation]())
    model = nn.Sequential(*mods)
    params = list(model.parameters())
    if optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr)
    elif optimizer == "momentum":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    if loss == "bce":
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
        Yt = torch.from_numpy(np.asarray(Y, dtype=np.float64))
    elif loss == "softmax_ce":
        loss_fn = nn.CrossEntropyLoss()
        # class-index targets: what a torch user would pass (cheaper than one-hot)
        Yt = torch.from_numpy(np.argmax(Y, axis=1).astype(np.int64))
    else:
        loss_fn = nn.MSELoss()
        Yt = torch.from_numpy(np.asarray(Y, dtype=np.float64))
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
    return model, params, opt, loss_fn, Xt, Yt


def clip_grads(params: list[Any], clip: str, threshold: float) -> None:
    """The scenario's clipping (``none``, ``norm`` or ``value``) on torch's gradients."""
    import torch

    if clip == "norm":
        torch.nn.utils.clip_grad_norm_(params, threshold)
    elif clip == "value":
        torch.nn.utils.clip_grad_value_(params, threshold)


def make_torch_step(
    layers: list[Any],
    activation: str,
    loss: str,
    optimizer: str,
    lr: float,
    clip: str,
    clip_threshold: float,
    X: np.ndarray,
    Y: np.ndarray,
    batch_size: int,
    seed: int = 0,
) -> Callable[[], float]:
    """A closure running one torch training step on a random mini-batch.

    ``layers`` are the NumPy net's layers (``W (n_out, n_in)``, ``b (n_out,)``), copied;
    ``X (m, n_in)`` and ``Y (m, n_out)`` the full training set (float64).
    Returns the step function; each call returns the batch loss as a float, as
    ``Trainer.step`` does (which forces the same synchronisation).
    """
    import torch

    model, params, opt, loss_fn, Xt, Yt = torch_training(
        layers, activation, loss, optimizer, lr, X, Y
    )
    m = Xt.shape[0]
    gen = torch.Generator().manual_seed(seed)
    b = min(batch_size, m)

    def step() -> float:
        idx = torch.randint(m, (b,), generator=gen)
        opt.zero_grad(set_to_none=True)
        out = loss_fn(model(Xt[idx]), Yt[idx])
        out.backward()
        clip_grads(params, clip, clip_threshold)
        opt.step()
        return float(out.item())

    return step
