"""Resident memory of the UI and the trainer after 10^4 and after 10^6 steps.

The dashboard trains a tiny network (a scenario file written here: one hidden layer of
4 units, 64 examples, batch 16) at full speed in a 120x40 pty, so a million steps take
minutes, not hours. VmRSS of the UI process and of its trainer child is read when the
status line first shows a step past 10^4, and again past 10^6.

Figure ``memory/growth``: the larger growth of the two processes, in MB. Target: at
most +20 MB (the history is bounded; nothing should grow with the run).
"""

from __future__ import annotations

import os
import tempfile
import time

from bench.config import BenchConfig
from bench.pty_app import PtyApp, child_pids, rss_mb, strip_ansi
from bench.report import Row, unavailable
from bench.ui_pty import STATUS_STEP, app_available, bp_tui_exe

TARGET_MB = 20.0
TINY_SCENARIO = """\
title = "Memory soak"
summary = "A tiny network trained for a million steps: memory must stay flat."
seed = 0
steps = {steps}

[data]
kind = "moons"
samples = 64
noise = 0.1
classes = 2

[model]
hidden = [4]
activation = "relu"
init = "he"
loss = "bce"

[train]
optimizer = "sgd"
lr = 0.05
batch_size = 16
probe_every = 10
"""


def trainer_pid(ui_pid: int) -> int | None:
    """The UI's trainer child: the spawned child that is not multiprocessing's tracker."""
    for pid in child_pids(ui_pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"resource_tracker" not in cmd:
            return pid
    return None


def wait_for_step(app: PtyApp, target: int, timeout: float, seen: list[int]) -> int | None:
    """Read the pty until the status line has shown a step >= ``target``; that step.

    ``seen`` holds the highest step shown so far (one read can pass several targets).
    """
    deadline = time.perf_counter() + timeout
    while seen[0] < target and time.perf_counter() < deadline and not app.closed:
        steps = [int(m.group(1)) for m in STATUS_STEP.finditer(strip_ansi(app.pump(0.2)))]
        seen[0] = max([seen[0], *steps])
        app.chunks.clear()  # a million steps of frames: keep the log bounded
    return seen[0] if seen[0] >= target else None


def run(cfg: BenchConfig) -> list[Row]:
    early, late = cfg.memory_steps
    figure = f"RSS growth from {early:.0e} to {late:.0e} steps (UI, trainer)"
    why = app_available()
    if why:
        return [unavailable("memory/growth", figure, "MB", "<=", TARGET_MB, why)]
    exe = bp_tui_exe()
    assert exe is not None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "soak.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(TINY_SCENARIO.format(steps=2 * late))  # still running at `late`
        app = PtyApp([exe, path]).start()
        try:
            readings, seen = [], [0]
            t0 = time.perf_counter()
            for target in (early, late):
                step = wait_for_step(app, target, max(60.0, late / 500), seen)
                if step is None:
                    raise RuntimeError(f"the dashboard did not reach step {target}")
                tpid = trainer_pid(app.pid)
                readings.append((step, rss_mb(app.pid), rss_mb(tpid) if tpid else float("nan")))
            seconds = time.perf_counter() - t0
        finally:
            app.stop()
    (s0, ui0, tr0), (s1, ui1, tr1) = readings
    growth = max(ui1 - ui0, tr1 - tr0)
    return [
        Row(
            "memory/growth",
            figure,
            "MB",
            "<=",
            TARGET_MB,
            value=growth,
            samples=[ui1 - ui0, tr1 - tr0],
            absolute=f"UI {ui0:.0f} -> {ui1:.0f} MB, trainer {tr0:.0f} -> {tr1:.0f} MB "
            f"(steps {s0} -> {s1}, {seconds:.0f} s)",
            note="tiny net [2, 4, 1] at full speed in the dashboard",
        )
    ]
