"""`m` in the dashboard: the scenario beside its fix in compare mode, and back (issue 13)."""

from __future__ import annotations

from bp_tui.tui.screens.compare import CompareScreen
from bp_tui.tui.screens.dashboard import DashboardScreen


async def test_m_opens_compare_on_the_scenario_and_its_fix_and_escape_comes_back(make_app):
    app, sources = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        live = sources.last
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        broken, fixed = sources.made[-2:]
        assert (broken.scenario.fix, fixed.scenario.fix) == (False, True)
        assert broken.scenario.name == fixed.scenario.name == "vanishing"
        assert broken.started and fixed.started
        assert live.paused and not live.closed  # the dashboard's run waits meanwhile
        await pilot.press("space")  # the compare keys act on both runs
        await pilot.pause()
        assert broken.paused and fixed.paused
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dash
        assert broken.closed and fixed.closed  # leaving compare ends both runs


async def test_m_on_a_scenario_without_a_fix_says_so(make_app):
    app, sources = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        dash.scenario = dash.scenario.with_(fix_summary="")  # a walkthrough, like micro
        made = len(sources.made)
        await pilot.press("m")
        await pilot.pause()
        assert app.screen is dash and len(sources.made) == made
