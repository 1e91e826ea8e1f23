"""The per-layer table: aligned columns that keep their width while a run goes on."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from bp_tui.tui.history import History
from bp_tui.tui.panes.layer_table import COLUMNS, SWATCH, LayerTable
from bp_tui.tui.panes.view import RunView

LAYERS = [
    {"name": "L1", "fan_in": 2, "fan_out": 8, "activation": "relu"},
    {"name": "L2", "fan_in": 8, "fan_out": 1, "activation": "linear"},
]


def step(n: int, update_ratio: float) -> dict[str, Any]:
    return {
        "type": "step",
        "step": n,
        "grad_norm": [0.5, 0.25],
        "weight_norm": [1.5, 2.0],
        "update_ratio": [update_ratio, 0.001],
        "dead": [3, None],
    }


class TableApp(App[None]):
    CSS = "LayerTable { width: auto; }"  # as in app.tcss: the table is as wide as its text

    def compose(self) -> ComposeResult:
        yield LayerTable()


def view_of(layers: list[dict[str, Any]], *events: dict[str, Any]) -> RunView:
    run = {"type": "run", "layers": layers}
    history = History(capacity=16)
    history.set_run(run)
    history.extend(events)
    return RunView(history, run=run)


def lines(table: LayerTable) -> list[str]:
    """The table's rows as text, each layer's colour swatch left out."""
    rows = [strip.text.rstrip() for strip in table.render_lines(table.region.reset_offset)]
    return [row.replace(SWATCH, " " * len(SWATCH), 1) for row in rows]


async def test_columns_line_up_and_keep_their_width_while_values_narrow():
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(LayerTable)
        table.show(view_of(LAYERS, step(1, 1.23456e-05)))
        await pilot.pause()
        wide = lines(table)
        assert wide[0].split() == list(COLUMNS)
        assert wide[1].split() == ["L1", "8×2", "relu", "0.5", "1.5", "1.23e-05", "3/8"]
        # every cell starts at its header's column
        for header in COLUMNS[1:]:
            col = wide[0].index(header)
            assert wide[1][col - 1] == " " and wide[1][col] != " "
        width = table.region.width
        table.show(view_of(LAYERS, step(2, 0.5)))  # "0.5" is narrower than "1.23e-05"
        await pilot.pause()
        narrow = lines(table)
        assert narrow[1].split()[5] == "0.5"
        assert table.region.width == width  # the table did not jump
        assert narrow[0] == wide[0]
        other = [dict(layer, name=f"layer{i}") for i, layer in enumerate(LAYERS)]
        table.show(view_of(other, step(1, 0.5)))  # a run with other layers starts afresh
        await pilot.pause()
        assert lines(table)[1].split()[0] == "layer0"
        assert table.region.width != width
