"""The whole ``bp-tui run SCENARIO --out FILE`` against the tightest PyTorch eager loop.

Figure ``command_ratio/<scenario>``: steps/s of the command (``headless.run`` in-process:
the trainer with its diagnostics, every event encoded and written to a file; Python's
start-up left out) over steps/s of a bare PyTorch loop on the same network, data and
batch size: ``zero_grad``, forward, backward, the scenario's clipping if any, ``step``;
float64, one fixed batch (the first ``batch_size`` rows), no sampling, no ``.item()``.
One timed call is a whole run of the scenario (its own number of steps; one that
diverges, ``exploding``, is run with its fix, as in the ``core`` group) on one side and
as many torch steps on the other, so the command's set-up (data, network, run event,
opening the file) is in its time. Both sides get the BLAS threads a trainer process
uses (one, for every built-in). Target: at least 3x. The ``core`` group's
``torch_ratio`` rows compare the core's step alone with a torch step that also samples
a batch and reads the loss.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench.config import BenchConfig
from bench.core_speed import TORCH_TARGET, scenario_names
from bench.machine import trainer_blas
from bench.report import Row, ratio_row, unavailable
from bench.timing import interleave
from bench.torch_step import clip_grads, torch_available, torch_threads, torch_training

if TYPE_CHECKING:
    from bp_tui.core.config import Scenario
    from bp_tui.core.trainer import Trainer

FIGURE = "bp-tui run --out FILE steps/s vs tight PyTorch loop: {}"


def command_run(sc: Scenario, path: str) -> Callable[[], object]:
    """A closure running ``bp-tui run`` over ``sc`` in-process, writing ``path``."""
    from bp_tui.tui.commands.headless import StopRequest, run

    def call() -> object:
        out = io.StringIO()
        return run(sc, jsonl=False, out=path, stdout=out, stderr=out, stop=StopRequest())

    return call


def tight_torch_steps(trainer: Trainer, n: int) -> Callable[[], None]:
    """A closure running ``n`` steps of a torch user's bare loop on ``trainer``'s network,
    data and scenario (see the module docstring)."""
    sc = trainer.scenario
    model, params, opt, loss_fn, X, Y = torch_training(
        trainer.net.layers,
        sc.model.activation,
        sc.model.loss,
        sc.train.optimizer,
        sc.train.lr,
        trainer.X,
        trainer.Y,
    )
    b = min(sc.train.batch_size, X.shape[0])
    Xb, Yb = X[:b].clone(), Y[:b].clone()

    def steps() -> None:
        for _ in range(n):
            opt.zero_grad()
            loss_fn(model(Xb), Yb).backward()
            clip_grads(params, sc.train.clip, sc.train.clip_threshold)
            opt.step()

    return steps


def _last_event(path: str) -> dict:
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
        return json.loads(f.read().splitlines()[-1])


def _row(cfg: BenchConfig, name: str, folder: str) -> Row:
    from dataclasses import replace

    from bp_tui import scenarios
    from bp_tui.core.trainer import Trainer

    def whole_run(fix: bool) -> tuple[Scenario, Callable[[], object], dict]:
        sc = scenarios.load(name, fix=fix)
        if cfg.tiny:
            sc = replace(sc.with_(steps=20), data=replace(sc.data, samples=64))
        ours = command_run(sc, path)
        ours()
        return sc, ours, _last_event(path)

    path = os.path.join(folder, f"{name}.jsonl")
    sc, ours, end = whole_run(fix=False)
    why = ""
    if end.get("reason") == "diverged":  # its set-up over a few steps: as the core rows,
        why = f"; diverges at step {end.get('step')}: timed with --fix"  # with its fix
        sc, ours, end = whole_run(fix=True)
    steps = end.get("step") or 0
    if steps < 1:
        return _missing(name, f"the run ended ({end.get('reason')}) before its first step")
    tr = Trainer(sc, diagnostics=False)
    theirs = tight_torch_steps(tr, steps)
    with trainer_blas(tr.net.sizes) as n, torch_threads(n) as threads:
        s = interleave(
            {"command": ours, "torch": theirs}, rounds=cfg.rounds, block_seconds=cfg.block_seconds
        )
    per_step = {side: [t / steps for t in times] for side, times in s.items()}
    note = f"net {tr.net.sizes}, batch {sc.train.batch_size}, {sc.train.optimizer}, "
    note += f"runs of {steps} steps ({end.get('reason')}), torch threads {threads}{why}"
    key = f"command_ratio/{name}"
    return ratio_row(
        key, FIGURE.format(name), ">=", TORCH_TARGET, per_step, "torch", "command", note, "/step"
    )


def _missing(name: str, why: str) -> Row:
    key = f"command_ratio/{name}"
    return unavailable(key, FIGURE.format(name), "x", ">=", TORCH_TARGET, why)


def run(cfg: BenchConfig) -> list[Row]:
    names = scenario_names()
    if not torch_available():
        return [_missing(name, "torch not installed") for name in names]
    with tempfile.TemporaryDirectory(prefix="bp-bench-") as folder:
        return [_row(cfg, name, folder) for name in names]
