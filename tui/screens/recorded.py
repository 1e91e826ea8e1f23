"""Dashboards over a file: ``bp-tui replay`` (a recording) and ``bp-tui watch`` (a growing file).

They are the live dashboard without the keys that change a run (lr, clip, fix: a
recorded run cannot change), with the pause state taken from the source (a replay
that reached its end stays paused after a seek back). The replay screen adds the seek
keys; the source does the seeking (``ReplaySource``). Their key tables are in keys.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.binding import Binding, BindingType

from bp_tui.tui.panes.status import StatusInfo
from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.keys import REPLAY_KEYS, WATCH_KEYS
from bp_tui.tui.sources.replay import ReplaySource


class RecordedScreen(DashboardScreen, inherit_bindings=False):
    """The dashboard on a run read from a file (``bp-tui watch``)."""

    live_trainer: ClassVar[bool] = False  # no trainer to trace or check: the file only
    KEYS: ClassVar[list[Binding]] = WATCH_KEYS
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    def poll(self) -> None:
        super().poll()
        if self.source is not None:
            # The source decides (a replay pauses at its end): shown, not sent back.
            self.set_reactive(DashboardScreen.paused, self.source.status == "paused")

    def status_info(self) -> StatusInfo:
        info = super().status_info()
        # A foreign stream may not say how many steps it will have.
        return replace(info, total=max(info.total, info.step or 0))


def progress_bar(position: int, total: int, width: int = 16) -> str:
    """'▕██████░░░░▏ 60%': ``position`` of ``total`` as a bar ``width`` cells wide."""
    frac = min(1.0, max(0.0, position / total)) if total > 0 else 0.0
    full = round(frac * width)
    return f"▕{'█' * full}{'░' * (width - full)}▏ {100 * frac:.0f}%"


class ReplayScreen(RecordedScreen, inherit_bindings=False):
    """``bp-tui replay``: also seeks (arrows by a step, PageUp/PageDown by 10 %, Home/End).

    Its status line names the recorded scenario (the run event's, not the file's name),
    counts steps once (the status's own step/total) and shows where playback is as a bar.
    """

    KEYS: ClassVar[list[Binding]] = REPLAY_KEYS
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    def status_info(self) -> StatusInfo:
        info = super().status_info()
        source = self.source
        if not isinstance(source, ReplaySource):
            return info
        run = self.view.run or {}
        name = str(run.get("scenario") or info.scenario)
        bar = progress_bar(source.position, source.total)
        fault = source.fault
        return replace(info, scenario=name, detail=bar if fault is None else f"{bar} · {fault}")

    def action_seek(self, command: str, value: float | None = None) -> None:
        self.send(command, value)
        self.poll()  # show the new position at once, not at the next timer tick
