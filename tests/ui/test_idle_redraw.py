"""A redraw with nothing new builds no plot again and repaints nothing (no bytes sent)."""

from __future__ import annotations

from typing import Any

from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import GuardedPlot
from bp_tui.tui.panes.status import StatusLine
from tests.ui.conftest import pump


def count_repaints(widgets: list[Any]) -> dict[str, int]:
    """Wrap each widget's ``refresh`` to count the calls, by widget id."""
    counts = {w.id: 0 for w in widgets}
    for w in widgets:
        original = w.refresh

        def counted(*args: Any, _w: Any = w, _original: Any = original, **kw: Any) -> Any:
            counts[_w.id] += 1
            return _original(*args, **kw)

        w.refresh = counted
    return counts


async def test_a_forced_redraw_without_new_steps_repaints_nothing(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 2)
        await pilot.press("space")  # paused: no step arrives any more
        await pump(pilot)
        plots = list(app.screen.query(GuardedPlot))
        before = [p.drawn for p in plots]
        widgets = [*plots, *app.screen.query(GradFlowPane), *app.screen.query(LayerTable)]
        counts = count_repaints([*widgets, app.screen.query_one(StatusLine)])
        dash.redraw(force=True)
        await pilot.pause()
        assert all(p.drawn is b for p, b in zip(plots, before, strict=True))  # none rebuilt
        assert counts == dict.fromkeys(counts, 0)
        await pilot.press("l")  # the log toggle changes the loss plot: it is redrawn
        await pilot.pause()
        loss = app.screen.query_one(LossPane)
        assert loss.drawn is not before[plots.index(loss)] and loss.drawn.log_y
