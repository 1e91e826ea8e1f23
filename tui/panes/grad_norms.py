"""Per-layer weight-gradient norm ||dW_i|| over steps, log scale, one line per layer.

On a log axis a vanishing gradient shows as lines whole decades apart.
"""

from __future__ import annotations

from tui.panes.plotting import LAYER_COLORS, GuardedPlot, Line
from tui.panes.view import RunView


class GradNormsPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("gradient norm per layer (log)", **kwargs)

    def show(self, view: RunView) -> None:
        width = max(16, self.size.width * 2)
        lines = []
        for i, layer in enumerate(view.layers):
            s = view.history.series("grad_norm", layer=i, width=width)
            color = LAYER_COLORS[i % len(LAYER_COLORS)]
            # The bucket maxima, not the min/max band: with a dozen noisy layers the
            # bands fill the plot, and the max still keeps every spike.
            lines.append(Line(str(layer["name"]), s.steps, s.hi, color=color))
        self.draw(lines, log_y=True, xlim=view.xlim())
