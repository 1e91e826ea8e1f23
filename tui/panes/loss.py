"""Loss (left axis, log-scale toggle) and accuracy (right axis, 0..1) over steps."""

from __future__ import annotations

from tui.panes.plotting import GuardedPlot, Line, envelope
from tui.panes.view import RunView


class LossPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("loss", **kwargs)

    def show(self, view: RunView) -> None:
        width = max(16, self.size.width * 2)
        loss = view.history.series("loss", width=width)
        acc = view.history.series("accuracy", width=width)
        lines = [
            Line("loss", *envelope(loss.steps, loss.lo, loss.hi), color="red"),
            Line("accuracy", acc.steps, acc.last, color="green", yside="right"),
        ]
        title = "loss (log)" if view.log_y else "loss"
        self.draw(lines, title=title, log_y=view.log_y, xlim=view.xlim(), ylim_right=(0.0, 1.0))
