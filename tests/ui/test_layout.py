"""The dashboard at 80x24, 120x40 and 200x60, and a live resize between them."""

from __future__ import annotations

import pytest

from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.plotting import GuardedPlot
from tests.ui.conftest import pump


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_sizes_show_the_status_and_the_plots(make_app, size):
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")  # freeze: the status read below is the one drawn
        dash = await pump(pilot, 2)
        lines = screen_text(app).splitlines()
        assert len(lines) == size[1]
        step = dash.view.last("step")
        # the status line's key text is visible, not cut
        assert lines[0].lstrip().startswith("paused")
        assert f"vanishing │ fix off │ step {step}/5000" in lines[0]
        assert "lr 0.1" in lines[0]
        plots = list(app.screen.query(GuardedPlot))
        assert all(p.size.width >= 30 and p.size.height >= 9 for p in plots)
        assert all(p.render_error is None for p in plots)
        compact = size == (80, 24)
        # small terminals hide the table row so the plots stay readable
        assert (app.screen.query_one(LayerTable).region.area == 0) is compact


async def test_live_resize_keeps_the_status_line_whole(make_app):
    app, _ = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pump(pilot, 2)
        for size in [(80, 24), (120, 40), (200, 60), (80, 24)]:
            await pilot.resize_terminal(*size)
            await pump(pilot)
            first = screen_text(app).splitlines()[0]
            assert "clip none" in first  # the status line's last item still fits
            assert all(p.render_error is None for p in app.screen.query(GuardedPlot))
