"""Dead ReLU units per layer over steps, or the saturated fraction for sigmoid/tanh.

The design's ``dead`` is null for layers that are not ReLU-family and ``saturated``
is null for layers that are not sigmoid/tanh, so each layer shows whichever it has.
"""

from __future__ import annotations

from tui.panes.plotting import LAYER_COLORS, GuardedPlot, Line, envelope
from tui.panes.view import RunView

SATURATING = ("sigmoid", "tanh")


class DeadUnitsPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("dead units per layer", **kwargs)

    def show(self, view: RunView) -> None:
        width = max(16, self.size.width * 2)
        acts = {str(layer.get("activation", "")) for layer in view.layers[:-1]}
        saturating = bool(acts) and acts <= set(SATURATING)
        key = "saturated" if saturating else "dead"
        lines = []
        for i, layer in enumerate(view.layers):
            s = view.history.series(key, layer=i, width=width)
            color = LAYER_COLORS[i % len(LAYER_COLORS)]
            lines.append(Line(str(layer["name"]), *envelope(s.steps, s.lo, s.hi), color=color))
        title = "saturated fraction per layer" if saturating else "dead ReLU units per layer"
        self.draw(lines, title=title, xlim=view.xlim())
