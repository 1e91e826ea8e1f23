"""What each pathology must show: a diverging loss, zero gradients, dead %, 11 labelled lines."""

from __future__ import annotations

import math
import re

from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from tests.ui.conftest import pump
from tests.ui.fake_source import fake_step


def pane_text(app, pane) -> list[str]:
    """The rows of the screen inside ``pane``'s region, as plain text."""
    r = pane.region
    rows = screen_text(app).splitlines()[r.y : r.y + r.height]
    return [row[r.x : r.x + r.width] for row in rows]


def braille(rows: list[str]) -> int:
    return sum(1 for row in rows for ch in row if 0x2801 <= ord(ch) <= 0x28FF)


async def test_a_diverging_loss_is_drawn_up_to_its_last_finite_step_at_80x24(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 6, 0.05, "none", 1.0)
        ev["loss"] = 85.0 * 10.0 ** (40 * (s - 1))  # 85 ... 8.5e+201: finite, but huge
        return ev

    app, _ = make_app(step_fn=step, diverge_at=7, batch=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 4)
        loss = app.screen.query_one(LossPane)
        x, y = loss.drawn.lines["loss"]
        assert x.max() == 6 and y.max() == 85.0 * 1e200  # the last finite step, step 7 is NaN
        assert loss.drawn.log_y  # 200 decades: on a log axis by itself
        rows = pane_text(app, loss)
        assert "loss (log" in rows[0]
        # the plot area holds the line (it was empty when the axis labels took the width)
        assert braille(rows) >= 15
        assert max(len(label) for label in loss.drawn.yticks[1]) <= 6


async def test_linear_ticks_of_huge_values_are_compact(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "none", 1.0)
        ev["loss"] = 1e12 + s * 1e10  # two decades at most: stays linear
        return ev

    app, _ = make_app(step_fn=step)
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 2)
        loss = app.screen.query_one(LossPane)
        assert not loss.drawn.log_y
        assert all(len(label) <= 8 for label in loss.drawn.yticks[1])
        assert braille(pane_text(app, loss)) >= 15


async def test_exactly_zero_gradients_are_shown_not_hidden(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "none", 1.0)
        ev["grad_norm"] = [0.0, 0.0, 0.0, 0.5]  # every hidden layer dead, the output alive
        return ev

    app, _ = make_app(step_fn=step, initial="dying-relu", names=("dying-relu",))
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        await pilot.press("space")  # freeze: the steps drawn are the steps received
        dash = await pump(pilot)
        pane = app.screen.query_one(GradNormsPane)
        assert not pane.drawn.empty
        assert "L1-L3: ‖dW‖ = 0" in pane.drawn.title
        # zeros at every step drawn (the buckets of the live output layer's line)
        steps = pane.drawn.lines["L4"][0].tolist()
        assert steps[-1] == dash.history.last_step and steps[0] == 1
        assert all(pane.drawn.zeros[f"L{i}"].tolist() == steps for i in (1, 2, 3))
        assert pane.drawn.yticks[1][0] == "0"  # the floor row where the zeros are drawn
        rows = pane_text(app, pane)
        assert "no data yet" not in "".join(rows)
        assert "L1-L3: ‖dW‖ = 0" in rows[0]
        # the zeros' markers on one row, over the share of the time axis the run covers,
        # the last ones under the layers' end label
        lo, hi = pane.drawn.xlim
        columns = (steps[-1] - lo) / (hi - lo) * (pane.size.width - 8)
        zero_row = [row for row in rows if "L1,L2,L3" in row]
        assert len(zero_row) == 1
        assert zero_row[0].count("x") + len("L1,L2,L3") >= min(20, 0.8 * columns)
        assert zero_row[0].count("x") >= 3
        # the floor is below the smallest positive value (the output layer's 0.5)
        assert pane.drawn.yticks[0][0] < 0.5


async def test_all_gradients_zero_on_the_plot_and_the_bars(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "none", 1.0)
        ev["grad_norm"] = [0.0] * 4
        return ev

    app, _ = make_app(step_fn=step)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        pane = app.screen.query_one(GradNormsPane)
        assert "L1-L4: ‖dW‖ = 0" in pane.drawn.title and not pane.drawn.empty
        flow = app.screen.query_one(GradFlowPane)
        assert [v for _, v, _ in flow.bars] == [0.0] * 4
        assert all(frac == 0.0 for *_, frac in flow.bars)
        text = "\n".join(pane_text(app, flow))
        assert "no gradient reaches any layer" in text
        assert "1e4" not in text  # no made-up decade axis


async def test_dead_units_in_percent_of_the_layer_and_dead_over_width_in_the_table(make_app):
    app, _ = make_app(initial="dying-relu", names=("dying-relu",))
    async with app.run_test(size=(120, 40)) as pilot:
        app.start_scenario(app.reload_scenario(app.scenarios[0], fix=True))  # relu layers
        await pilot.pause()
        await pilot.press("space")
        dash = await pump(pilot, 2)
        pane = app.screen.query_one(DeadUnitsPane)
        assert pane.drawn.yticks == (
            [0.0, 25.0, 50.0, 75.0, 100.0],
            ["0%", "25%", "50%", "75%", "100%"],
        )
        assert set(pane.drawn.lines) == {"L1", "L2", "L3"}  # the output layer: no data
        assert "L4" not in pane.drawn.end_labels
        widths = [8, 16, 24]  # the fake's hidden layers
        ev = dash.history.last
        for i, w in enumerate(widths):
            _, y = pane.drawn.lines[f"L{i + 1}"]
            # the last point is the last bucket's max (one step, or two once the run is
            # longer than the pane has points), in % of the layer's width
            s = dash.view.series("dead", layer=i, points=pane.points)
            assert s.last[-1] == ev["dead"][i]
            assert y[-1] == 100.0 * s.hi[-1] / w
        rows = app.screen.query_one(LayerTable).rows_shown
        assert [r[6] for r in rows] == [f"{ev['dead'][i]}/{w}" for i, w in enumerate(widths)] + [
            "–"
        ]


async def test_saturation_is_a_fixed_0_to_100_percent_axis_even_when_all_zero(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "none", 1.0, saturating=True)
        ev["saturated"] = [0.0, 0.0, 0.0, None]
        return ev

    app, _ = make_app(step_fn=step)  # the default scenario is sigmoid
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        pane = app.screen.query_one(DeadUnitsPane)
        assert "saturated" in pane.drawn.title
        assert pane.drawn.yticks[1] == ["0%", "25%", "50%", "75%", "100%"]
        text = "\n".join(pane_text(app, pane))
        assert "100%" in text and "-1" not in text


async def test_eleven_layers_at_80x24_are_labelled_at_their_line_ends(make_app, monkeypatch):
    # NO_COLOR: the labels, not the colours, must tell the lines apart
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(n_layers=11)
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 2)
        assert app.no_color
        pane = app.screen.query_one(GradNormsPane)
        labels = pane.drawn.end_labels
        assert {"L1", "L11"} <= set(labels) and len(labels) >= 4
        rows = pane_text(app, pane)
        # each placed label is on the screen once, whole, at the right edge of the plot
        # (lines ending on one row share it: 'L9,L10')
        ends = [re.search(r"(L\d+(,L\d+)*)$", row.rstrip("│ ")) for row in rows[2:-2]]
        on_screen = [name for m in ends if m for name in m.group(1).split(",")]
        assert sorted(on_screen) == sorted(labels)
        # the fake's layer i is 10**-(10-i): each label sits on its own decade's row
        assert math.isclose(
            pane.drawn.lines["L1"][1][-1] / pane.drawn.lines["L11"][1][-1], 1e-10, rel_tol=1e-9
        )
