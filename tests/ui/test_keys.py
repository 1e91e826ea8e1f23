"""Every dashboard key, asserted by its effect on the source and on what the user sees."""

from __future__ import annotations

from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.status import StatusLine
from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.help import HelpScreen
from bp_tui.tui.screens.picker import PickerScreen
from tests.ui.conftest import pump


def status(app) -> str:
    return app.screen.query_one(StatusLine).plain


async def test_space_pauses_and_resumes(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 2)
        await pilot.press("space")
        assert sources.last.commands[-1] == ("pause", None)
        await pump(pilot)
        step = dash.view.last("step")
        await pump(pilot, 3)
        assert dash.view.last("step") == step  # no training while paused
        assert status(app).lstrip().startswith("paused")
        await pilot.press("space")
        assert sources.last.commands[-1] == ("resume", None)
        await pump(pilot)
        assert dash.view.last("step") > step
        assert status(app).lstrip().startswith("running")


async def test_n_steps_once_while_paused(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot)
        await pilot.press("space")
        await pump(pilot)
        step = dash.view.last("step")
        await pilot.press("n")
        await pump(pilot, 3)
        assert sources.last.commands[-1] == ("step", None)
        assert dash.view.last("step") == step + 1
        assert f"step {step + 1}/5000" in status(app)


async def test_lr_keys_send_half_and_double_and_the_status_shows_it(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        assert "lr 0.1 " in status(app)
        await pilot.press("left_square_bracket")
        assert sources.last.commands[-1] == ("lr", 0.05)
        await pump(pilot)
        assert "lr 0.05 " in status(app)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert sources.last.commands[-1] == ("lr", 0.2)  # from the target, not a stale event
        await pump(pilot)
        assert "lr 0.2 " in status(app)


async def test_c_cycles_clipping_none_norm_value(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        seen = []
        for _ in range(3):
            await pilot.press("c")
            seen.append(sources.last.commands[-1])
            await pump(pilot)
            assert f"clip {seen[-1][1]}" in status(app)
        assert seen == [("clip", "norm"), ("clip", "value"), ("clip", "none")]


async def test_plus_minus_change_the_target_speed(make_app):
    app, sources = make_app(speed=100)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        assert sources.last.speed == 100
        await pilot.press("plus")
        assert sources.last.commands[-1] == ("speed", 200.0)
        await pilot.press("minus", "minus")
        assert sources.last.commands[-1] == ("speed", 50.0)
        await pump(pilot)
        assert "/s ≤50 " in status(app)


async def test_l_flips_the_loss_plot_to_log_scale(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        loss = app.screen.query_one(LossPane)
        assert not loss.drawn.log_y
        await pilot.press("l")
        await pump(pilot)
        assert loss.drawn.log_y
        assert "loss (log)" in screen_text(app)
        await pilot.press("l")
        await pump(pilot)
        assert not loss.drawn.log_y


async def test_r_restarts_from_step_one(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 3)
        assert dash.view.last("step") >= 30
        first = sources.last
        await pilot.press("r")
        assert first.closed and len(sources.made) == 2
        await pump(pilot)
        assert dash.history.first_step == 1
        # only the new run's steps are in the history (none of the first run's)
        assert dash.history.count == dash.view.last("step") == sources.last._step


async def test_f_restarts_with_the_fix(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        assert "fix off" in status(app)
        await pilot.press("f")
        await pump(pilot)
        assert sources.made[0].closed
        assert sources.last.scenario.fix is True
        assert sources.last.scenario.model.activation == "relu"  # the fix's change
        assert "fix on" in status(app)
        await pilot.press("f")
        assert sources.last.scenario.fix is False


async def test_s_returns_to_the_picker_and_ends_the_run(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, PickerScreen)
        assert sources.last.closed


async def test_question_mark_shows_help_and_escape_closes_it(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_q_quits_and_ends_the_run(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert sources.last.closed
    assert app.return_code == 0


async def test_table_shows_the_values_of_the_last_event(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 2)
        await pilot.press("space")  # freeze the run so no timer poll lands in between
        await pump(pilot)
        ev = dash.history.last
        rows = app.screen.query_one(LayerTable).rows_shown
        for i, row in enumerate(rows):
            assert row[3] == f"{ev['grad_norm'][i]:.3g}"
            assert row[4] == f"{ev['weight_norm'][i]:.3g}"
            assert row[5] == f"{ev['update_ratio'][i]:.3g}"
        # sigmoid layers show their saturated fraction as a percentage
        assert rows[0][6] == f"{100 * ev['saturated'][0]:.0f}%"
        assert rows[0][1] == "8×2"  # W is (fan_out, fan_in)
        assert f"step {ev['step']}/5000" in status(app)
