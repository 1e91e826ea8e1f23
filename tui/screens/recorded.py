"""Dashboards over a file: ``bp-tui replay`` (a recording) and ``bp-tui watch`` (a growing file).

They are the live dashboard with the controls that change a run (lr, clip, fix) turned
into a short notice, since a recorded run cannot change, and with the pause state taken
from the source (a replay that reached its end stays paused after a seek back). The
replay screen adds the seek keys; the source does the seeking (``ReplaySource``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.binding import Binding, BindingType

from bp_tui.tui.panes.status import StatusInfo
from bp_tui.tui.screens.dashboard import DashboardScreen

# (key, action, footer label, footer shown): priority bindings, so that a focused table
# or scroll view does not take the arrow keys.
SEEK_BINDINGS: list[BindingType] = [
    Binding("left", "seek('seek_rel', -1)", "-1 step", priority=True),
    Binding("right", "seek('seek_rel', 1)", "+1 step", priority=True),
    Binding("pageup", "seek('seek_frac', -0.1)", "-10%", priority=True),
    Binding("pagedown", "seek('seek_frac', 0.1)", "+10%", priority=True),
    Binding("home", "seek('home')", "start", priority=True),
    Binding("end", "seek('end')", "end", priority=True),
]


class RecordedScreen(DashboardScreen):
    """The dashboard on a run read from a file (``bp-tui watch``)."""

    live_trainer: ClassVar[bool] = False  # no trainer to trace or check: the file only

    def poll(self) -> None:
        super().poll()
        if self.source is not None:
            self.paused = self.source.status == "paused"

    def status_info(self) -> StatusInfo:
        info = super().status_info()
        # A foreign stream may not say how many steps it will have.
        return replace(info, total=max(info.total, info.step or 0))

    def _recorded(self) -> None:
        self.notify("A recorded run cannot change: lr, clip and fix apply to live runs.", timeout=2)

    def action_toggle_fix(self) -> None:
        self._recorded()

    def action_lr_half(self) -> None:
        self._recorded()

    def action_lr_double(self) -> None:
        self._recorded()

    def action_cycle_clip(self) -> None:
        self._recorded()


class ReplayScreen(RecordedScreen):
    """``bp-tui replay``: also seeks (arrows by a step, PageUp/PageDown by 10 %, Home/End)."""

    BINDINGS: ClassVar[list[BindingType]] = SEEK_BINDINGS

    def action_seek(self, command: str, value: float | None = None) -> None:
        self.send(command, value)
        self.poll()  # show the new position at once, not at the next timer tick
