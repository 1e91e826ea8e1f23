"""Per-layer table: shape, activation, |dW|, |W|, update ratio, dead or saturated.

Every number is the latest step event's, formatted by ``fmt_num``; the shape and the
activation come from the run event.
"""

from __future__ import annotations

from typing import Any

from textual.color import Color
from textual.content import Content

from bp_tui.tui.panes.colors import hex_color, layer_colors
from bp_tui.tui.panes.line_diff import DiffedStatic
from bp_tui.tui.panes.view import RunView, fmt_num

COLUMNS = ("layer", "shape", "act", "|dW|", "|W|", "upd/W", "dead/sat")
# Between 110 and 160 columns (the screen's -wide class) the table leaves out the shape
# and the activation, which never change during a run, so the lesson beside it is not
# a strip a few words wide.
BRIEF = (0, 3, 4, 5, 6)


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
    rows: list[tuple[str, ...]] = []
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


def column_widths(rows: list[tuple[str, ...]], at_least: list[int] | None = None) -> list[int]:
    """Each column's widest cell (header included), and no less than ``at_least``."""
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    if at_least is not None:
        widths = [max(w, m) for w, m in zip(widths, at_least, strict=True)]
    return widths


SWATCH = "■ "  # before each layer's name, in the layer's colour (colors.py)


def table_content(
    rows: list[tuple[str, ...]],
    widths: list[int],
    dark: bool,
    header_bg: str = "$panel",
    colors: list[str] | None = None,
    columns: tuple[str, ...] = COLUMNS,
) -> Content:
    """The header and ``rows`` laid out as DataTable lays them out, zebra-striped.

    Columns are ``widths`` wide (``column_widths``), with one space of padding each side;
    the header is bold on ``header_bg``, every other row (the first, third...) shaded
    as DataTable shades its even rows (darker on a dark theme, lighter on a light one).
    ``colors``: each row's layer colour, drawn as a swatch before its name.
    """

    def line(cells: tuple[str, ...]) -> str:
        return "".join(f" {c:<{w}} " for c, w in zip(cells, widths, strict=True))

    stripe = "on $surface-darken-1 40%" if dark else "on $surface-lighten-1 50%"
    pad = " " * len(SWATCH)
    parts: list[tuple[str, str]] = [(pad + line(columns), f"bold $foreground on {header_bg}")]
    for i, row in enumerate(rows):
        shade = stripe if i % 2 == 0 else ""
        parts.append(("\n", ""))
        if colors is not None and i < len(colors):
            parts.append((SWATCH, f"{colors[i]} {shade}".strip()))
        else:
            parts.append((pad, shade))
        parts.append((line(row), shade))
    return Content.assemble(*parts)


class LayerTable(DiffedStatic):
    """The per-layer table as one text block: DataTable re-laid out and re-rendered
    every cell on each update; this is one Content (docs/performance.md)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(table_content([], column_widths([]), dark=True), **kwargs)
        self.rows_shown: list[tuple[str, ...]] = []
        self._widths: list[int] | None = None  # column widths: they only grow, per run
        self._brief = False  # whether the shape and activation columns are left out

    def show(self, view: RunView) -> None:
        rows = layer_rows(view)
        brief = self.screen.has_class("-wide")
        if rows == self.rows_shown and brief == self._brief:
            return
        # Columns only widen while the layers stay the same (as DataTable's did): a
        # table that changed width with every value would need a layout pass a frame,
        # and a layout repaints the panes beside it too.
        same_layers = [r[:3] for r in rows] == [r[:3] for r in self.rows_shown]
        widths = column_widths(rows, self._widths if same_layers else None)
        layout = widths != self._widths or len(rows) != len(self.rows_shown)
        dark = self.app.current_theme.dark
        colors = [hex_color(c) for c in layer_colors(len(rows))]
        keep = BRIEF if brief else tuple(range(len(COLUMNS)))
        content = table_content(
            [tuple(r[i] for i in keep) for r in rows],
            [widths[i] for i in keep],
            dark,
            self._header_bg(),
            colors,
            tuple(COLUMNS[i] for i in keep),
        )
        # same shape: only the cells that changed are repainted (line_diff.py)
        self.show_content(content, layout=layout or brief != self._brief or not self.rows_shown)
        self.rows_shown, self._widths, self._brief = rows, widths, brief

    def _header_bg(self) -> str:
        """``$panel`` tinted 5% towards ``$foreground``: with the widget's own tint (app.tcss)
        the header looks as DataTable's focused header did (tinted twice)."""
        v = self.app.theme_variables
        tint = Color.parse(v["foreground"]).with_alpha(0.05)
        return Color.parse(v["panel"]).tint(tint).hex
