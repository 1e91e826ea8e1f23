"""Global gradient norm before clipping (log scale) with the clip threshold drawn.

The title counts the clipped steps so far and their fraction of all steps, both
straight from the latest step event (``clip_steps`` and ``step``).
"""

from __future__ import annotations

from bp_tui.tui.panes.plotting import (
    TITLE_MARGIN,
    Figure,
    GuardedPlot,
    band_and_trend,
    fit_title,
)
from bp_tui.tui.panes.view import RunView, fmt_num

NORM_COLOR = 178  # 256-colour gold: plotext has no "yellow" that reads on a light theme


def clip_summary(view: RunView) -> str:
    """'clipped 37/500 (7.4%)' from the latest event, or '' before any step."""
    clip_steps, step = view.last("clip_steps"), view.last("step")
    if clip_steps is None or not step:
        return ""
    return f"clipped {int(clip_steps)}/{int(step)} ({100.0 * clip_steps / step:.1f}%)"


class ClippingPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("‖g‖ before clipping (log)", **kwargs)

    def figure(self, view: RunView) -> Figure:
        s = view.series("global_grad_norm", points=self.points)
        threshold = view.last("clip_threshold")
        hlines = ((float(threshold), "red"),) if threshold is not None else ()
        summary = clip_summary(view)
        t = f"threshold {fmt_num(threshold)}" if threshold is not None else "clipping off"
        # Longest first: a too-long title is dropped by plotext, so shorten it to fit.
        variants = [
            " · ".join(p for p in (self.base_title, t, summary) if p),
            " · ".join(p for p in ("‖g‖ pre-clip (log)", t, summary) if p),
            " · ".join(p for p in ("‖g‖ (log)", t.replace("threshold ", "t="), summary) if p),
            " · ".join(p for p in ("‖g‖", summary.replace("clipped ", "clip ")) if p),
        ]
        return Figure(
            band_and_trend("‖g‖", s, NORM_COLOR, view.axis_points(self.points)),
            title=fit_title(variants, self.size.width - TITLE_MARGIN),
            log_y=True,
            xlim=view.xlim(),
            hlines=hlines,
            vlines=view.mark_lines(),
        )
