"""A deterministic, scripted event source for the Pilot tests.

It honours the EventSource protocol of ``docs/internals.md`` the way the live source
does (pause, resume, single step, lr, clip, stop), but produces its step events from a
closed-form formula instead of training, so a test can compute every expected number
independently. Nothing here sleeps or uses threads: each ``poll()`` returns the next
``batch`` events at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bp_tui.core.config import Scenario

#: default number of layers (3 hidden + output) of the fake network
N_LAYERS = 4


def fake_step(
    step: int, n_layers: int, lr: float, clip: str, threshold: float, saturating: bool = False
) -> dict[str, Any]:
    """The step event of the fake run at ``step`` (1-based), a vanishing-gradient shape.

    Layer i (input side first) has gradient norm ``10**-(n_layers-1-i)`` times a slow
    wobble, so the input layer's gradient is orders of magnitude below the output's.
    """
    wobble = 1.0 + 0.5 * math.sin(step / 7.0)
    grad = [wobble * 10.0 ** -(n_layers - 1 - i) for i in range(n_layers)]
    global_norm = math.sqrt(sum(g * g for g in grad)) * 3.0
    clipped = clip == "norm" and global_norm >= threshold
    return {
        "type": "step",
        "step": step,
        "loss": 1.0 / (1.0 + 0.01 * step),
        "accuracy": min(1.0, 0.5 + step / 2000.0),
        "lr": lr,
        "grad_norm": grad,
        "bias_grad_norm": [g / 10.0 for g in grad],
        "weight_norm": [2.0 + i for i in range(n_layers)],
        "update_ratio": [lr * g / (2.0 + i) for i, g in enumerate(grad)],
        "dead": [None] * n_layers
        if saturating
        else [i * 3 + step % 2 for i in range(n_layers - 1)] + [None],
        "saturated": [0.1 * (i + 1) for i in range(n_layers - 1)] + [None]
        if saturating
        else [None] * n_layers,
        "global_grad_norm": global_norm,
        "clip_threshold": threshold if clip != "none" else None,
        "clipped": clipped,
        "clip_steps": step if clipped else 0,
        "clipped_values": [0] * n_layers,
        "finite": True,
    }


def diverged_step(step: int, n_layers: int, lr: float) -> dict[str, Any]:
    """A non-finite step as a live run delivers it: NaN loss, inf gradients."""
    ev = fake_step(step, n_layers, lr, "none", 1.0)
    ev.update(
        loss=math.nan,
        grad_norm=[math.inf] * n_layers,
        global_grad_norm=math.inf,
        update_ratio=[math.nan] * n_layers,
        finite=False,
    )
    return ev


class FakeSource:
    """Scripted EventSource: ``poll()`` returns up to ``batch`` new events, never blocks.

    Attributes tests read: ``commands`` (every ``(name, value)`` received, in order),
    ``started``, ``closed``, ``paused``, ``lr``, ``clip``, ``speed``.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        n_layers: int = N_LAYERS,
        batch: int = 10,
        diverge_at: int | None = None,
        crash_at: int | None = None,
        step_fn: Callable[[int], dict[str, Any]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.n_layers = n_layers
        self.batch = batch
        self.diverge_at = diverge_at
        self.crash_at = crash_at
        self.step_fn = step_fn
        self.total = scenario.steps
        self.lr = scenario.train.lr
        self.clip = scenario.train.clip
        self.threshold = scenario.train.clip_threshold
        self.speed: float | None = None
        self.commands: list[tuple[str, Any]] = []
        self.started = False
        self.closed = False
        self.paused = False
        self.status = "running"
        self._step = 0
        self._single = 0
        self._pending: list[dict[str, Any]] = []
        self._ended = False

    def run_event(self) -> dict[str, Any]:
        acts = [self.scenario.model.activation] * (self.n_layers - 1) + ["linear"]
        widths = [2] + [8 * (i + 1) for i in range(self.n_layers - 1)] + [1]
        return {
            "type": "run",
            "version": 1,
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "seed": self.scenario.seed,
            "fix": self.scenario.fix,
            "layers": [
                {
                    "name": f"L{i + 1}",
                    "fan_in": widths[i],
                    "fan_out": widths[i + 1],
                    "activation": acts[i],
                }
                for i in range(self.n_layers)
            ],
        }

    def start(self) -> None:
        self.started = True
        self._pending.append(self.run_event())

    def _next(self) -> dict[str, Any]:
        self._step += 1
        s = self._step
        if self.diverge_at is not None and s >= self.diverge_at:
            self._ended = True
            return diverged_step(s, self.n_layers, self.lr)
        if self.step_fn is not None:
            return self.step_fn(s)
        saturating = self.scenario.model.activation in ("sigmoid", "tanh")
        return fake_step(s, self.n_layers, self.lr, self.clip, self.threshold, saturating)

    def poll(self) -> list[dict[str, Any]]:
        out, self._pending = self._pending, []
        if self.closed or self._ended or not self.started or self.status.startswith("error"):
            return out
        n = self.batch if not self.paused else min(self._single, 1)
        self._single -= min(self._single, n)
        for _ in range(n):
            if self.crash_at is not None and self._step + 1 >= self.crash_at:
                self.status = "error: child crashed: boom"
                return out
            ev = self._next()
            out.append(ev)
            if self._ended:
                out.append({"type": "end", "step": self._step, "reason": "diverged"})
                self.status = "ended"
                break
            if self._step >= self.total:
                self._ended = True
                out.append({"type": "end", "step": self._step, "reason": "completed"})
                self.status = "ended"
                break
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        self.commands.append((name, value))
        if name == "pause":
            self.paused = True
            self.status = "paused"
        elif name == "resume":
            self.paused = False
            self.status = "running"
        elif name == "step":
            self._single += 1
        elif name == "lr":
            self.lr = float(value)  # type: ignore[arg-type]
        elif name == "clip":
            self.clip = str(value)
        elif name == "clip_threshold":
            self.threshold = float(value)  # type: ignore[arg-type]
        elif name == "speed":
            self.speed = float(value)  # type: ignore[arg-type]
        elif name == "stop":
            self._ended = True

    def close(self) -> None:
        self.closed = True
