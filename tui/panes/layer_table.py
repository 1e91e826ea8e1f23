"""Per-layer table: shape, activation, |dW|, |W|, update ratio, dead or saturated.

Every number is the latest step event's, formatted by ``fmt_num``; the shape and the
activation come from the run event.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tui.panes.view import RunView, fmt_num

COLUMNS = ("layer", "shape", "act", "|dW|", "|W|", "upd/W", "dead/sat")


def dead_or_saturated(view: RunView, layer: int) -> str:
    """Dead units as 'dead/width' (26/32), saturation as a percentage, '–' when neither."""
    dead = view.last("dead", layer)
    if dead is not None:
        width = view.layers[layer].get("fan_out") if layer < len(view.layers) else None
        return f"{fmt_num(dead)}/{width}" if width else fmt_num(dead)
    sat = view.last("saturated", layer)
    if sat is not None:
        return f"{100.0 * float(sat):.0f}%"
    return "–"


def layer_rows(view: RunView) -> list[tuple[str, ...]]:
    """The table's rows, input side first, as the strings shown."""
    rows = []
    for i, layer in enumerate(view.layers):
        shape = (
            f"{layer['fan_out']}×{layer['fan_in']}"
            if "fan_in" in layer and "fan_out" in layer
            else "–"
        )
        rows.append(
            (
                str(layer["name"]),
                shape,
                str(layer.get("activation", "–")),
                fmt_num(view.last("grad_norm", i)),
                fmt_num(view.last("weight_norm", i)),
                fmt_num(view.last("update_ratio", i)),
                dead_or_saturated(view, i),
            )
        )
    return rows


class LayerTable(DataTable[Any]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, **kwargs)
        self.rows_shown: list[tuple[str, ...]] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, view: RunView) -> None:
        rows = layer_rows(view)
        if rows == self.rows_shown:
            return
        self.clear()
        self.add_rows(rows)
        self.rows_shown = rows
