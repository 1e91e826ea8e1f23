"""An event source that runs core's real ``Trainer`` in the test process.

It answers ``trace`` and ``gradcheck`` as the live child does (``tui/sources/child.py``),
with the same core functions, so a Pilot test can check the backprop and gradient-check
views against the trainer's own numbers without a child process. Before each step it
keeps a copy of the weights, and after it the batch, so the tests can recompute the
step independently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bp_tui.core.config import Scenario
from bp_tui.core.events import decode, encode
from bp_tui.core.gradcheck import gradcheck_event
from bp_tui.core.trainer import Trainer


class TrainerSource:
    def __init__(self, scenario: Scenario, steps_per_poll: int = 2) -> None:
        self.trainer = Trainer(scenario)
        self.steps_per_poll = steps_per_poll
        self.status = "running"
        self.singles = 0
        self.commands: list[tuple[str, Any]] = []
        self.inputs: dict[int, tuple[list[np.ndarray], np.ndarray, np.ndarray]] = {}
        self.events: dict[int, dict[str, Any]] = {}  # step events as sent, by step
        self._out: list[dict[str, Any]] = [self._wire(self.trainer.run_event())]

    @staticmethod
    def _wire(event: dict[str, Any]) -> dict[str, Any]:
        return decode(encode(event))  # exactly what crosses the child's pipe

    def start(self) -> None:
        pass

    def _step(self) -> None:
        t = self.trainer
        weights = [a.copy() for a in t.net.params()]
        ev = t.step()
        self.inputs[ev.step] = (weights, t._Xb.copy(), t._Yb.copy())
        self.events[ev.step] = self._wire(ev.to_dict())
        self._out.append(self.events[ev.step])
        if t.last_trace is not None:
            self._out.append(self._wire(t.last_trace))
            t.last_trace = None
        if t.finished:
            self._out.append(self._wire(t.end_event()))
            self.status = "ended"

    def poll(self) -> list[dict[str, Any]]:
        if not self.trainer.finished:
            if self.status == "running":
                for _ in range(self.steps_per_poll):
                    if not self.trainer.finished:
                        self._step()
            elif self.singles:
                self.singles -= 1
                self._step()
        out, self._out = self._out, []
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        self.commands.append((name, value))
        t = self.trainer
        if name == "pause":
            self.status = "paused"
        elif name == "resume":
            self.status = "running"
        elif name == "step":
            self.singles += 1
        elif name == "trace":
            t.request_trace()
            if self.status == "paused":
                self.singles += 1
        elif name == "gradcheck":
            report = gradcheck_event(t.net, t.X, t.Y, t.loss_name, step=t.step_count)
            self._out.append(self._wire(report))

    def close(self) -> None:
        self.status = "ended"
