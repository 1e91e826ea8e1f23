"""What every pane reads: the run's history plus the run event and the display options.

Panes never talk to the event source; the dashboard screen feeds the source's events
into ``history`` and hands panes a ``RunView`` when there is something new to draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from bp_tui.tui.history import History, Series
from bp_tui.tui.panes.axes import time_axis_end


def fmt_num(value: Any) -> str:
    """A number as the dashboard shows it: 3 significant digits, '–' for no data."""
    if value is None or isinstance(value, bool):
        return "–" if value is None else str(value)
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(value, int):
        return str(value)
    return f"{v:.3g}"


@dataclass
class RunView:
    """A read-only view of one run for the panes."""

    history: History
    run: dict[str, Any] | None = None  # the run event, None before it arrives
    log_y: bool = False  # the user's log-scale toggle (loss plot)
    # The per-layer norm the gradient panes draw: "grad_norm" (‖dW‖) or
    # "error_signal" (‖δ‖ = ‖dL/dz‖, what backprop hands from layer to layer).
    signal: str = "grad_norm"
    #: (step, kind) of the run's events the time plots mark: "diverged", "lr", "clip"
    marks: list[tuple[int, str]] = field(default_factory=list)
    #: the run's end event, None while it runs: the time axis then ends at its last step
    end: dict[str, Any] | None = None

    def note_step(self, ev: dict[str, Any]) -> None:
        """Mark ``ev`` (a step about to be pushed) where its lr or clipping changed."""
        before = self.history.last
        if before is None or not isinstance(ev.get("step"), int):
            return
        if ev.get("lr") != before.get("lr"):
            self.marks.append((ev["step"], "lr"))
        if ev.get("clip_threshold") != before.get("clip_threshold"):
            self.marks.append((ev["step"], "clip"))

    def mark_lines(self) -> list[tuple[float, str]]:
        """The marks as (step, plotext colour) vertical lines, at most one per kind and step."""
        colors = {"diverged": "red", "lr": "orange", "clip": "gray"}
        return sorted({(float(step), colors[kind]) for step, kind in self.marks})

    @property
    def layers(self) -> list[dict[str, Any]]:
        """One dict per layer (name, fan_in, fan_out, activation), input side first."""
        if self.run and self.run.get("layers"):
            return list(self.run["layers"])
        return [{"name": name} for name in self.history.layer_names]

    @property
    def ended(self) -> bool:
        return self.end is not None

    @property
    def run_length(self) -> int | None:
        """The run's length in steps from the run event's config, None when not given."""
        config = (self.run or {}).get("config")
        steps = config.get("steps") if isinstance(config, dict) else None
        return steps if type(steps) is int and steps > 0 else None

    def xlim(self) -> tuple[float, float] | None:
        """The x range of every plot: the run's first step to ``axes.time_axis_end``.

        It moves only in 1-2-5 steps (and ends at the run's length), so a new step
        changes a plot only at its right end (axes.py says why). Once the run ended, it
        ends at the last step.
        """
        h = self.history
        if h.count == 0 or h.first_step is None or h.last_step is None:
            return None
        first, last = float(h.first_step), float(h.last_step)
        if self.ended:  # a run that stopped or diverged early: no empty room after it
            return first, max(last, first + 1.0)
        return first, time_axis_end(first, last, self.run_length)

    def axis_points(self, points: int) -> int:
        """How many of a pane's ``points`` buckets the x axis fills: all of them, or one
        per step when the axis spans fewer steps (a run that diverged at step 7). A
        trend's window is a share of these, so a short run is not smoothed across steps
        it does not have."""
        lim = self.xlim()
        if lim is None:
            return points
        return max(1, min(points, int(lim[1] - lim[0]) + 1))

    def series(self, key: str, layer: int | None = None, *, points: int) -> Series:
        """``key`` (of ``layer``) over the run so far, ``points`` buckets over the x axis.

        A bucket spans a fixed share of the x axis (``xlim``), not of the data so far:
        each point keeps its steps while the run grows, and only the last one changes
        (the x axis, and with it the buckets, move only in 1-2-5 steps). Arrays are
        shape (n,), n <= points.

        Each bucket's point sits at its last step, except the first bucket's, which
        sits at the run's first step: that bucket spans ``first_step..steps[0]``, and a
        line that starts at ``steps[0]`` would hide the start of the run (with 60
        points over 10^6 steps, the first 1.7%).
        """
        h = self.history
        lim = self.xlim()
        group = None
        if lim is not None and h.first_step is not None and h.last_step is not None:
            # steps one history bucket spans (a foreign stream may skip steps)
            per_push = (h.last_step - h.first_step) / max(1, h.count - 1) or 1.0
            per_point = (lim[1] - lim[0]) / points
            buckets = -(-h.count // h.width)
            group = max(math.ceil(per_point / (per_push * h.width)), -(-buckets // points), 1)
        s = self.history.series(key, layer=layer, group=group)
        first = self.history.first_step
        if len(s) and first is not None and s.steps[0] > first:
            steps = s.steps.copy()
            steps[0] = float(first)
            s = replace(s, steps=steps)
        return s

    def state_key(self) -> tuple[object, ...]:
        """Changes whenever what a pane draws from this view may have changed.

        The history's count and step range and the latest event object (a new run, a
        reset or a new step changes one of them), the run event and the two toggles.
        """
        h = self.history
        return (
            h.count,
            h.first_step,
            h.last_step,
            id(h.last),
            id(self.run),
            self.log_y,
            self.signal,
            len(self.marks),
            self.ended,
        )

    def last(self, key: str, layer: int | None = None) -> Any:
        """The value of ``key`` (of ``layer``) in the latest step event, None if absent."""
        ev = self.history.last
        if not ev:
            return None
        value = ev.get(key)
        if layer is None:
            return value
        if not isinstance(value, list | tuple) or layer >= len(value):
            return None
        return value[layer]
