"""Keys against hostile use (issue 9): held [ and ] stop the learning rate at its bounds
(at 0 or inf the live source's check raised and the dashboard crashed); Ctrl+C says
"interrupted" in the exit status."""

from __future__ import annotations

from bp_tui.tui.sources.live import MAX_LR, MIN_LR
from tests.ui.conftest import pump


async def test_held_lr_keys_stop_at_the_bounds(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        await pilot.press(*["right_square_bracket"] * 40)  # 0.1 * 2**40 > MAX_LR
        assert sources.last.commands[-1] == ("lr", MAX_LR)
        await pilot.press(*["left_square_bracket"] * 40)  # 1000 / 2**40 < MIN_LR
        assert sources.last.commands[-1] == ("lr", MIN_LR)
        await pilot.press("right_square_bracket")  # from the bound, not from a stale 0
        assert sources.last.commands[-1] == ("lr", 2 * MIN_LR)
        await pump(pilot)
        assert app.dashboard is not None and app.is_running


async def test_ctrl_c_quits_with_status_130_and_ends_the_run(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert sources.last.closed
    assert app.return_code == 130  # the shell's status for an interrupted program; q gives 0
