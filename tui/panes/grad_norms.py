"""Per-layer weight-gradient norm ||dW_i|| over steps, log scale, one line per layer.

On a log axis a vanishing gradient shows as lines whole decades apart. An exactly
zero gradient (every unit of a layer dead) has no place on a log axis: it is drawn
as ``x`` on a floor row labelled "0" and named in the title ("L1-L3: ‖dW‖ = 0"), since
"no gradient reaches this layer" is the most important thing the pane can say.
Lines are labelled at their right end (a legend of 11 layers does not fit 80x24).
"""

from __future__ import annotations

from bp_tui.tui.panes.colors import layer_colors
from bp_tui.tui.panes.grad_flow import SYMBOLS
from bp_tui.tui.panes.plotting import TITLE_MARGIN, Figure, GuardedPlot, Line, fit_title
from bp_tui.tui.panes.view import RunView


def name_span(names: list[str]) -> str:
    """'L1-L3' for a run of consecutive layers, 'L1,L3' otherwise ('' for none)."""
    if len(names) > 2:
        return f"{names[0]}-{names[-1]}"
    return ",".join(names)


def zero_layers(view: RunView, key: str = "grad_norm") -> list[str]:
    """Names of the layers whose latest ``key`` (||dW||) is exactly 0, input side first."""
    return [str(layer["name"]) for i, layer in enumerate(view.layers) if view.last(key, i) == 0]


def consecutive(view: RunView, names: list[str]) -> bool:
    """Whether ``names`` are neighbouring layers (so 'L1-L3' does not hide a live L2)."""
    all_names = [str(layer["name"]) for layer in view.layers]
    idx = [all_names.index(n) for n in names]
    return idx == list(range(idx[0], idx[0] + len(idx))) if idx else True


class GradNormsPane(GuardedPlot):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("weight gradient ‖dW‖ per layer (log)", **kwargs)

    def figure(self, view: RunView) -> Figure:
        # `e` switches between ||dW|| and the error signal ||delta|| (RunView.signal).
        key, sym = view.signal, SYMBOLS[view.signal]
        lines = []
        colors = layer_colors(len(view.layers))
        for i, layer in enumerate(view.layers):
            s = view.series(key, layer=i, points=self.points)
            color = colors[i]
            # The bucket maxima, not the min/max band: with a dozen noisy layers the
            # bands fill the plot, and the max still keeps every spike.
            lines.append(Line(str(layer["name"]), s.steps, s.hi, color=color))
        zero = zero_layers(view, key)
        if zero:
            span = name_span(zero) if consecutive(view, zero) else ",".join(zero)
            variants = [
                f"{sym} per layer (log) · {span}: {sym} = 0 (no gradient)",
                f"{sym} (log) · {span}: {sym} = 0",
                f"{span}: {sym} = 0",
                f"{span} = 0",
            ]
        elif key == "error_signal":
            variants = ["error signal ‖δ‖ = ‖dL/dz‖ per layer (log)", "‖δ‖ per layer (log)"]
            variants.append("‖δ‖ (log)")
        else:
            variants = ["weight gradient ‖dW‖ per layer (log)", "‖dW‖ per layer (log)"]
            variants.append("‖dW‖ (log)")
        return Figure(
            lines,
            title=fit_title(variants, self.size.width - TITLE_MARGIN),
            log_y=True,
            xlim=view.xlim(),
            zeros=True,
            end_labels=True,
            vlines=view.mark_lines(),
        )
