"""Dead ReLU units per layer over steps, or the saturated fraction for sigmoid/tanh.

Both in percent on a fixed 0..100 % axis, so layers of different widths compare and
a run where nothing is dead reads as a flat line at 0 %, not as a rescaled axis:
``dead[i]`` is a count of units and is divided by the layer's width (``fan_out``
from the run event); ``saturated[i]`` is already a fraction. The design's ``dead``
is null for layers that are not ReLU-family (and for the linear output layer), and
``saturated`` null for layers that are not sigmoid/tanh: a layer without data has
no line and no label.
"""

from __future__ import annotations

from bp_tui.core.activations import SATURATING
from bp_tui.tui.panes.colors import layer_colors
from bp_tui.tui.panes.plotting import TITLE_MARGIN, Figure, GuardedPlot, Line, envelope, fit_title
from bp_tui.tui.panes.view import RunView

PERCENT_TICKS = ([0.0, 25.0, 50.0, 75.0, 100.0], ["0%", "25%", "50%", "75%", "100%"])


def uses_saturation(view: RunView) -> bool:
    """Whether the hidden layers are sigmoid/tanh (saturation applies, not dead units)."""
    acts = {str(layer.get("activation", "")) for layer in view.layers[:-1]}
    return bool(acts) and acts <= set(SATURATING)


class DeadUnitsPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("dead ReLU units per layer (% of width)", **kwargs)

    def figure(self, view: RunView) -> Figure:
        saturating = uses_saturation(view)
        key = "saturated" if saturating else "dead"
        lines = []
        percent = True
        colors = layer_colors(len(view.layers))
        for i, layer in enumerate(view.layers):
            s = view.series(key, layer=i, points=self.points)
            if saturating:
                scale = 100.0
            elif layer.get("fan_out"):
                scale = 100.0 / float(layer["fan_out"])
            else:  # a foreign stream without layer widths: counts, on their own axis
                scale, percent = 1.0, False
            x, y = envelope(s.steps, s.lo * scale, s.hi * scale)
            lines.append(Line(str(layer["name"]), x, y, color=colors[i]))
        if saturating:
            variants = ["saturated units per layer (%)", "saturated (%)"]
        elif percent:
            variants = [self.base_title, "dead ReLU units (% of layer)", "dead units (%)"]
        else:
            variants = ["dead ReLU units per layer (count)", "dead units"]
        return Figure(
            lines,
            title=fit_title(variants, self.size.width - TITLE_MARGIN),
            xlim=view.xlim(),
            ylim=(0.0, 100.0) if percent else None,
            yticks=PERCENT_TICKS if percent else None,
            end_labels=True,
            vlines=view.mark_lines(),
        )
