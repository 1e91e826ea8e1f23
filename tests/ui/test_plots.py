"""Plots under the inputs plotext cannot take: divergence, inf/NaN, log of zero, no data."""

from __future__ import annotations

import math

import numpy as np

from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.clipping import ClippingPane
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import GuardedPlot
from bp_tui.tui.panes.status import StatusLine
from tests.ui.conftest import pump
from tests.ui.fake_source import fake_step


def plots(app) -> list[GuardedPlot]:
    return list(app.screen.query(GuardedPlot))


async def test_diverging_run_shows_diverged_and_plots_stop_at_the_last_finite_step(make_app):
    app, _ = make_app(diverge_at=45)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 6)
        text = screen_text(app)
        assert "DIVERGED at step 45" in text
        assert app.screen.query_one(StatusLine).plain.lstrip().startswith("DIVERGED at step 45")
        loss_x, loss_y = app.screen.query_one(LossPane).drawn.lines["loss"]
        assert loss_x.max() == 44 and np.isfinite(loss_y).all()
        for i in range(4):
            x, _ = app.screen.query_one(GradNormsPane).drawn.lines[f"L{i + 1}"]
            assert x.max() == 44
        assert all(p.render_error is None for p in plots(app))
        # the gradient-flow bars show the diverged step's inf, full length, not a crash
        assert [v for _, v, _ in app.screen.query_one(GradFlowPane).bars] == [math.inf] * 4


async def test_log_scale_with_zeros_and_nan_keeps_only_drawable_points(make_app):
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "norm", 1.0)
        ev["loss"] = 0.0 if s % 2 else math.nan  # log of 0 and NaN on every step
        ev["grad_norm"] = [0.0, math.inf, -1.0, 1e-300]
        ev["global_grad_norm"] = 0.0 if s < 5 else 2.0
        return ev

    app, _ = make_app(step_fn=step)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        await pilot.press("l")
        await pump(pilot)
        loss = app.screen.query_one(LossPane)
        assert loss.drawn.log_y and "loss" not in loss.drawn.lines  # all zeros/NaN dropped
        grads = app.screen.query_one(GradNormsPane).drawn.lines
        assert set(grads) == {"L4"} and (grads["L4"][1] == 1e-300).all()
        _, g = app.screen.query_one(ClippingPane).drawn.lines["‖g‖"]
        assert (g == 2.0).all()
        await pilot.pause()
        assert all(p.render_error is None for p in plots(app))
        assert "loss (log)" in screen_text(app)


async def test_no_data_yet(make_app):
    app, _ = make_app(batch=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        await pilot.press("l")
        await pump(pilot)
        assert all(p.drawn.empty for p in plots(app))
        text = screen_text(app)
        assert text.count("no data yet") >= 5  # four plots and the gradient-flow bars
        assert all(p.render_error is None for p in plots(app))


async def test_dead_relu_units_are_plotted_per_layer(make_app):
    app, _ = make_app(initial="dying-relu", names=("dying-relu",))
    async with app.run_test(size=(120, 40)) as pilot:
        app.start_scenario(app.reload_scenario(app.scenarios[0], fix=True))  # relu layers
        await pilot.pause()
        dash = await pump(pilot, 2)
        pane = app.screen.query_one(DeadUnitsPane)
        assert set(pane.drawn.lines) == {"L1", "L2", "L3"}  # the linear output has none
        _, y = pane.drawn.lines["L2"]
        # the fake's dead counts for layer 2 are 3 + step % 2 of its 16 units, in percent
        assert set(y) <= {100 * 3 / 16, 100 * 4 / 16}
        assert dash.view.last("dead", 1) in (3, 4)


async def test_a_crashed_source_shows_an_error_and_the_ui_stays_up(make_app):
    app, _ = make_app(crash_at=25)
    async with app.run_test(size=(80, 24)) as pilot:
        await pump(pilot, 5)
        assert "error: child crashed: boom" in screen_text(app)
        await pilot.press("l", "question_mark", "escape")
        assert app.is_running


async def test_clip_threshold_stays_on_screen_when_every_norm_is_far_above_it(make_app):
    # the exploding fix: the norm is ~500 on every step and the threshold is 1, two and
    # a half decades below every point; the line and the count must still be visible
    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "norm", 1.0)
        ev.update(global_grad_norm=500.0 + s, clipped=True, clip_steps=s)
        return ev

    for size in ((120, 40), (80, 24)):
        app, _ = make_app(step_fn=step)
        async with app.run_test(size=size) as pilot:
            await pump(pilot, 3)
            pane = app.screen.query_one(ClippingPane)
            if not pane.display or pane.size.width == 0:
                continue  # hidden in this view; the other size covers it
            ticks, labels = pane.drawn.yticks  # type: ignore[misc]
            assert min(ticks) <= 1.0 and "1e0" in labels  # the axis reaches the threshold
            assert len(pane.drawn.title) <= pane.size.width - 2  # plotext drops a longer one
            assert "clip" in pane.drawn.title and "(100.0%)" in pane.drawn.title
            assert pane.drawn.title in screen_text(app)


async def test_the_loss_title_names_colours_only_when_the_screen_has_them(make_app, monkeypatch):
    """Under NO_COLOR the loss is not red nor the accuracy green: the title must not say so."""
    for no_color in (False, True):
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        app, _ = make_app()
        async with app.run_test(size=(200, 50)) as pilot:
            await pump(pilot, 3)
            assert app.no_color == no_color
            title = app.screen.query_one(LossPane).drawn.title
            line = next(row for row in screen_text(app).splitlines() if "accuracy" in row)
            assert "accuracy" in title and "accuracy" in line
            assert ("in red" in title) == (not no_color) and ("in red" in line) == (not no_color)


async def test_a_run_that_diverged_early_is_not_smoothed_across_its_few_steps(make_app):
    """Seven steps on an axis of seven: each step is its own point, so the trend is the data.

    (A window of a share of the pane's 100+ points would average 10^10 with 10^15 and draw
    a line that runs ahead of the loss.)"""

    def step(s: int) -> dict:
        ev = fake_step(s, 4, 0.1, "none", 1.0)
        ev["loss"] = 10.0 ** (5 * s)
        ev["global_grad_norm"] = 10.0 ** (4 * s)
        return ev

    app, _ = make_app(step_fn=step, diverge_at=8)
    async with app.run_test(size=(220, 60)) as pilot:
        await pump(pilot, 3)
        assert "DIVERGED at step 8" in screen_text(app)
        for pane, key, want in (
            (LossPane, "loss mean", [10.0 ** (5 * s) for s in range(1, 8)]),
            (ClippingPane, "‖g‖ mean", [10.0 ** (4 * s) for s in range(1, 8)]),
        ):
            x, y = app.screen.query_one(pane).drawn.lines[key]
            assert list(x) == list(range(1, 8))
            assert np.allclose(y, want, rtol=1e-9)
