"""Cost of ``bp_tui.torch.watch`` on the user's own PyTorch step: hooks on over hooks off.

A [784, 256, 256, 10] ReLU MLP (an MNIST-sized network) in float32 on the CPU, batch 64,
SGD, cross-entropy on random data; the two sides are two copies of the same network,
one watched (``optimizer=`` hooks, the default ``every=10``, the stream written to a
temporary file), one not, timed in interleaved blocks. Target: at most 1.15x (issue 14).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.report import Row, ratio_row
from bench.timing import interleave
from bench.torch_step import set_torch_threads, torch_available

TARGET = 1.15
SIZES = (784, 256, 256, 10)
BATCH = 64
EVERY = 10  # watch's default


def _model(sizes: tuple[int, ...]) -> Any:
    from torch import nn

    mods: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def _step(model: Any, X: Any, y: Any, watch: Any = None) -> Callable[[], None]:
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    run = None if watch is None else watch(model, opt)

    def step() -> None:
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if run is not None:
            run.step(loss=loss)

    return step


def run(cfg: BenchConfig) -> list[Row]:
    figure = "torch step with bp_tui.torch.watch / without: [784, 256, 256, 10]"
    if not torch_available():
        return [Row("torch_watch/mlp", figure, "x", "<=", TARGET, status="torch not installed")]
    import copy

    import torch

    import bp_tui.torch as bt

    sizes = (20, 16, 16, 3) if cfg.tiny else SIZES
    threads_before = torch.get_num_threads()
    threads = set_torch_threads(1)  # the machine is shared; one thread, as the core benches
    try:
        torch.manual_seed(0)
        X = torch.randn(BATCH, sizes[0])
        y = torch.randint(0, sizes[-1], (BATCH,))
        plain = _model(sizes)
        watched = copy.deepcopy(plain)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "run.jsonl"
            handles: list[Any] = []

            def watch(model: Any, opt: Any) -> Any:
                handles.append(bt.watch(model, path, optimizer=opt, every=EVERY))
                return handles[-1]

            samples = interleave(
                {"on": _step(watched, X, y, watch), "off": _step(plain, X, y)},
                rounds=cfg.rounds,
                block_seconds=cfg.block_seconds,
            )
            for h in handles:
                h.close()
    finally:
        torch.set_num_threads(threads_before)
    note = f"every={EVERY}, batch {BATCH}, float32, SGD, torch threads {threads}"
    return [ratio_row("torch_watch/mlp", figure, "<=", TARGET, samples, "on", "off", note, "/step")]
