"""Loss (left axis, log-scale toggle) and accuracy (right axis, 0..1) over steps.

A diverging run's loss grows by hundreds of decades before it turns non-finite; on a
linear axis every step but the last would sit on the floor. When the finite losses
span more than ``AUTO_LOG_DECADES`` decades the pane draws them on a log axis by
itself and says so in the title. Non-finite steps are not drawn: the line ends at
the last finite step.
"""

from __future__ import annotations

import math

import numpy as np

from bp_tui.tui.panes.plotting import (
    TITLE_MARGIN,
    Figure,
    GuardedPlot,
    Line,
    band_and_trend,
    fit_title,
)
from bp_tui.tui.panes.view import RunView

AUTO_LOG_DECADES = 4
LOSS_COLOR = 160  # 256-colour red (colors.py says why not "red")
ACC_COLOR = 35  # 256-colour green


def decades_spanned(values: np.ndarray) -> float:
    """log10(max / min) of the positive finite ``values`` (shape (n,)); 0 if fewer than two."""
    good = values[np.isfinite(values) & (values > 0)]
    if len(good) < 2:
        return 0.0
    return math.log10(float(good.max()) / float(good.min()))


class LossPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("loss", **kwargs)

    def figure(self, view: RunView) -> Figure:
        loss = view.series("loss", points=self.points)
        acc = view.series("accuracy", points=self.points)
        lines = [
            # The raw min/max band (every spike kept) faint, the trend drawn over it.
            *band_and_trend("loss", loss, LOSS_COLOR, view.axis_points(self.points)),
            Line("accuracy", acc.steps, acc.last, color=ACC_COLOR, yside="right", legend=False),
        ]
        span = decades_spanned(loss.hi)
        auto = not view.log_y and span > AUTO_LOG_DECADES
        # No legend (its side glyphs are missing in common fonts): the title names the
        # colours. The loss is red over its grey min/max band, accuracy green on the right.
        if view.log_y:
            variants = [
                "loss (log) in red · accuracy in green (right)",
                "loss (log) · accuracy (right)",
                "loss (log)",
            ]
        elif auto:
            variants = [
                f"loss (log: spans {span:.0f} decades) in red · accuracy in green (right)",
                f"loss (log: spans {span:.0f} decades) · accuracy (right)",
                f"loss (log: {span:.0f} decades)",
                "loss (log)",
            ]
        else:
            variants = [
                "loss in red · accuracy in green (right, 0-1)",
                "loss in red · accuracy in green (right)",
                "loss · accuracy (right)",
                "loss",
            ]
        if not self.names_colours():
            variants = [v for v in variants if " in red" not in v]
        return Figure(
            lines,
            title=fit_title(variants, self.size.width - TITLE_MARGIN),
            log_y=view.log_y or auto,
            xlim=view.xlim(),
            ylim_right=(0.0, 1.0),
            vlines=view.mark_lines(),
        )
