"""Held [ and ] (issue 9): the learning rate stops at its bounds instead of reaching 0
or inf, where the live source's check raised and the dashboard crashed."""

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
