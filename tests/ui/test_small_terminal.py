"""80x24: the status line is never cut, and `v` shows every pane one view at a time."""

from __future__ import annotations

import re

import pytest

from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import GuardedPlot
from bp_tui.tui.panes.status import StatusInfo, status_text
from bp_tui.tui.screens.help import HelpScreen
from tests.ui.conftest import pump

BASE = StatusInfo(
    state="running",
    scenario="exploding",
    fix=False,
    step=123456,
    total=1000000,
    rate=98765.0,
    speed=5000.0,
    lr=0.0123,
    clip="value",
)
LONG_DETAIL = "replay 123456/1000000 (12.3%) · ×100 · following /very/long/path/run.jsonl"
LONG_ERROR = "error: /home/user/runs/exploding-2024.jsonl: line 12345: found 'nul', allowed JSON"
STATES = {
    "running": BASE,
    "paused": BASE.__class__(**{**BASE.__dict__, "state": "paused", "rate": 0.0}),
    "completed": BASE.__class__(**{**BASE.__dict__, "state": "completed"}),
    "diverged": BASE.__class__(**{**BASE.__dict__, "state": "DIVERGED at step 123456"}),
    "error": BASE.__class__(**{**BASE.__dict__, "state": LONG_ERROR}),
    "fix on": BASE.__class__(**{**BASE.__dict__, "fix": True, "scenario": "dying-relu"}),
    "replay": BASE.__class__(**{**BASE.__dict__, "detail": LONG_DETAIL}),
}
# The items a status line may show, full or abbreviated; anything else was cut mid-word.
ITEM = re.compile(
    r"^(exploding|dying-relu|fix (on|off)|\+fix|(step )?123456/1000000|98765/s( ≤5e\+03)?"
    r"|lr 0\.0123|clip[ :]value|replay .*)$"
)


@pytest.mark.parametrize("name", list(STATES))
def test_status_line_fits_80_columns_and_keeps_the_important_items(name):
    info = STATES[name]
    for width in (80, 60, 40):
        plain = status_text(info, width).plain
        assert len(plain) <= width
        state, _, rest = plain.strip().partition("  ")
        if info.state.startswith("error"):  # too long for any width here: cut with '…'
            assert state.endswith("…") and info.state.startswith(state[:-1])
        else:
            assert state in (info.state, info.state.replace("DIVERGED at step ", "DIVERGED@"))
        items = [i.strip() for i in re.split(r" │ |│", rest) if i.strip()]
        assert all(ITEM.match(i) for i in items), items  # no item cut in the middle
        if not info.state.startswith("error"):
            # the state and step/total survive every width down to 40, the scenario to 60
            assert any("123456/1000000" in i for i in items)
            assert info.scenario in items or width < 60
    full = status_text(info, 80).plain
    if name in ("running", "paused", "completed", "fix on"):
        assert "lr 0.0123" in full and "clip value" in full  # 80 columns keep every run item


@pytest.mark.parametrize("name", list(STATES))
def test_status_line_before_layout_is_the_full_form(name):
    # a StatusLine renders with width None before Textual has given it a size
    info = STATES[name]
    plain = status_text(info, None).plain
    assert plain.strip().startswith(info.state)
    assert "123456/1000000" in plain and info.detail in plain


async def test_diverged_status_line_is_whole_at_80_columns(make_app):
    app, _ = make_app(diverge_at=7)
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 2)
        first = screen_text(app).splitlines()[0].rstrip()
        assert first.lstrip().startswith("DIVERGED at step 7")
        assert "7/5000" in first and "vanishing" in first
        assert first.endswith("clip none")  # the last item is whole, not cut


async def test_v_cycles_plots_flow_and_table_lesson_at_80x24(make_app):
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 2)
        await pilot.press("space")  # freeze the run: the values read below stay on screen
        await pump(pilot)
        text = screen_text(app)
        assert "v view" in text.splitlines()[-1]  # the footer lists the key at 80 columns
        assert "‖dW‖ now" not in text and "Fix (f)" not in text  # no flow, no lesson
        assert "Watch: Watch the vanishing lines" in text  # the lesson's strip instead
        await pilot.press("v")
        await pump(pilot)
        text = screen_text(app)
        flow, table = app.screen.query_one(GradFlowPane), app.screen.query_one(LayerTable)
        assert flow.region.area > 0 and table.region.area > 0
        assert all(p.region.area == 0 for p in app.screen.query(GuardedPlot))
        assert "‖dW‖ now, loss → input" in text and "dead/sat" in text
        ev = app.dashboard.history.last
        assert f"{ev['grad_norm'][-1]:.3g}" in text  # the bars show the latest values
        assert len(flow.bars) == 4
        await pilot.press("v")  # the decision boundary, alone
        await pump(pilot)
        text = screen_text(app)
        assert "decision boundary" in text and flow.region.area == 0
        assert all(p.region.area == 0 for p in app.screen.query(GuardedPlot))
        await pilot.press("v")
        await pump(pilot)
        text = screen_text(app)
        assert "Watch the vanishing lines" in text and "Fix" in text
        assert flow.region.area == 0
        await pilot.press("v")
        await pump(pilot)
        loss = app.screen.query_one(LossPane)
        assert loss.region.area > 0 and "loss" in loss.drawn.lines


async def test_v_at_a_large_size_keeps_everything_visible(make_app):
    app, _ = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pump(pilot)
        await pilot.press("v")
        await pump(pilot)
        text = screen_text(app)
        assert "‖dW‖ now" in text and "dead/sat" in text and "Watch the vanishing" in text
        assert all(p.region.area > 0 for p in app.screen.query(GuardedPlot))


async def test_help_lists_the_view_key(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        assert "cycle the view" in screen_text(app)
