"""Core training speed: vs PyTorch eager on the CPU, and vs the BLAS bound.

Figures
- ``torch_ratio/<scenario>``: steps/s of ``Trainer(scenario, diagnostics=False).step()``
  over steps/s of the same network, batch, loss, optimiser and clipping in PyTorch eager
  (float64). Both sides use the BLAS threads a trainer process uses for that network
  (``core.blas.limit_for_network``: one, for every built-in), torch's thread count set
  equal to NumPy's. Target: at least 3x.
- ``blas_bound``: the large network ``[784, 1024, 1024, 10]``, batch 256, synthetic data,
  softmax cross-entropy, SGD: one training step over the time of the matrix products that
  step performs (forward ``X @ W.T`` per layer, backward ``dZ.T @ X`` per layer and
  ``dZ @ W`` for every layer but the first), alone, into preallocated outputs.
  Target: at most 1.25x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bench.config import BenchConfig
from bench.machine import trainer_blas
from bench.report import Row, ratio_row, unavailable
from bench.timing import interleave
from bench.torch_step import make_torch_step, torch_available, torch_threads

if TYPE_CHECKING:
    from bp_tui.core.config import Scenario
    from bp_tui.core.trainer import Trainer

TORCH_TARGET = 3.0
BOUND_TARGET = 1.25


def scenario_names() -> list[str]:
    """The built-in scenarios, in the loader's order."""
    from bp_tui import scenarios

    return [info.name for info in scenarios.list_builtin()]


DIVERGE_CHECK_STEPS = 300  # a scenario that diverges this early is timed with its fix


def load_scenario(name: str, *, tiny: bool = False) -> tuple[Scenario, str]:
    """``(scenario, note)``: built-in ``name`` with its step count lifted.

    A benchmark never ends, so a scenario that diverges within ``DIVERGE_CHECK_STEPS``
    (the exploding one does, on purpose) is timed with its ``[fix]`` merged in: the same
    network and optimiser, steps of finite numbers, where restarting the run every few
    dozen steps would time the set-up instead of the step. ``note`` says so.
    ``tiny`` (the smoke test) also shrinks the data set.
    """
    from bp_tui import scenarios
    from bp_tui.core.trainer import Trainer

    def get(fix: bool) -> Scenario:
        sc = scenarios.load(name, fix=fix).with_(steps=10**9)
        return replace(sc, data=replace(sc.data, samples=64)) if tiny else sc

    sc = get(False)
    tr = Trainer(sc, diagnostics=False)
    for _ in range(DIVERGE_CHECK_STEPS):
        tr.step()
        if tr.finished:
            fixed = get(True)
            return (
                fixed,
                f"diverges at step {tr.step_count}: timed with its fix ({fixed.fix_summary})",
            )
    return sc, ""


def trainer_step(
    sc: Scenario, *, diagnostics: bool, boundary: bool = True
) -> tuple[Callable[[], object], Trainer]:
    """``(step, trainer)``: a closure running ``Trainer.step`` that never runs out of steps.

    A run that still diverges is restarted from its initial weights.
    """
    from bp_tui.core.trainer import Trainer

    box = [Trainer(sc, diagnostics=diagnostics, boundary=boundary)]

    def step() -> object:
        tr = box[0]
        if tr.finished:
            tr = box[0] = Trainer(sc, diagnostics=diagnostics, boundary=boundary)
        return tr.step()

    return step, box[0]


def _torch_rows(cfg: BenchConfig) -> list[Row]:
    names = scenario_names()
    figure = "steps/s vs PyTorch eager CPU: {}"
    if not torch_available():
        return [
            unavailable(
                f"torch_ratio/{n}", figure.format(n), "x", ">=", TORCH_TARGET, "torch not installed"
            )
            for n in names
        ]
    rows = []
    for name in names:
        sc, why = load_scenario(name, tiny=cfg.tiny)
        ours, tr = trainer_step(sc, diagnostics=False)
        Y = tr.Y
        theirs = make_torch_step(
            tr.net.layers,
            sc.model.activation,
            sc.model.loss,
            sc.train.optimizer,
            sc.train.lr,
            sc.train.clip,
            sc.train.clip_threshold,
            tr.X,
            Y,
            sc.train.batch_size,
            seed=sc.seed,
        )
        # Both sides get the BLAS threads the trainer process runs with (core.blas).
        with trainer_blas(tr.net.sizes) as n, torch_threads(n) as threads:
            s = interleave(
                {"numpy": ours, "torch": theirs},
                rounds=cfg.rounds,
                block_seconds=cfg.block_seconds,
            )
        # steps/s ratio = torch time per step / our time per step
        note = f"net {tr.net.sizes}, batch {sc.train.batch_size}, {sc.train.optimizer}, "
        note += f"torch threads {threads} = BLAS threads" + (f"; {why}" if why else "")
        rows.append(
            ratio_row(
                f"torch_ratio/{name}",
                figure.format(name),
                ">=",
                TORCH_TARGET,
                s,
                "torch",
                "numpy",
                note,
                per="/step",
            )
        )
    return rows


def large_step(
    sizes: tuple[int, ...], batch: int, seed: int = 0
) -> tuple[Callable[[], object], Callable[[], object]]:
    """``(train_step, matmuls_only)`` for an MLP of ``sizes`` on a synthetic batch.

    Synthetic data: ``X (batch, sizes[0])`` standard normal, labels uniform over
    ``sizes[-1]`` classes, softmax cross-entropy, SGD lr 0.01.
    """
    from bp_tui.core.losses import get_loss, targets_for
    from bp_tui.core.mlp import MLP
    from bp_tui.core.optim import make_optimizer

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    Y = targets_for("softmax_ce", y, sizes[-1])
    net = MLP(list(sizes), activation="relu", init="he", seed=seed)
    loss = get_loss("softmax_ce")
    opt = make_optimizer("sgd", 0.01)
    params, grads = net.params(), net.grads()

    def train_step() -> object:
        logits = net.forward(X)
        value, dlogits = loss(logits, Y)
        net.backward(dlogits, need_dx=False)
        opt.step(params, grads)
        return value

    # The same products on arrays of the same shapes, into preallocated outputs: the
    # time a step could not go below with this BLAS.
    Ws = [layer.W.copy() for layer in net.layers]
    acts = [X] + [np.abs(rng.standard_normal((batch, n))) for n in sizes[1:]]
    Zs = [np.empty((batch, n)) for n in sizes[1:]]
    dZs = [rng.standard_normal((batch, n)) for n in sizes[1:]]
    dWs = [np.empty_like(W) for W in Ws]
    dXs = [np.empty((batch, n)) for n in sizes[:-1]]

    def matmuls_only() -> object:
        for k, W in enumerate(Ws):
            np.matmul(acts[k], W.T, out=Zs[k])
        for k in range(len(Ws) - 1, -1, -1):
            np.matmul(dZs[k].T, acts[k], out=dWs[k])
            if k > 0:
                np.matmul(dZs[k], Ws[k], out=dXs[k])
        return None

    return train_step, matmuls_only


def _bound_row(cfg: BenchConfig) -> Row:
    train, bound = large_step(cfg.large_sizes, cfg.large_batch)
    s = interleave(
        {"step": train, "matmul": bound},
        rounds=cfg.rounds,
        block_seconds=max(cfg.block_seconds, 0.005),
    )
    sizes = list(cfg.large_sizes)
    figure = f"large net {sizes} b{cfg.large_batch}: step / its matmuls alone"
    return ratio_row(
        "blas_bound", figure, "<=", BOUND_TARGET, s, "step", "matmul", "softmax CE, SGD"
    )


def run(cfg: BenchConfig) -> list[Row]:
    return [*_torch_rows(cfg), _bound_row(cfg)]
