"""The scenario picker: lists the built-ins, Enter or a click starts one, palette too."""

from __future__ import annotations

from textual.widgets import OptionList

from bp_tui.scenarios import list_builtin
from bp_tui.tui.commands.dashboard import collect, parser
from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.picker import PickerScreen
from tests.ui.conftest import pump


def test_the_picker_lists_every_builtin_and_the_files_given(tmp_path):
    own = tmp_path / "mine.toml"
    own.write_text('title = "My own"\nsummary = "A file of mine."\n')
    picker, initial = collect(parser().parse_args(["--scenarios", str(tmp_path)]))
    assert initial is None
    builtins = list_builtin()
    assert [s.name for s in picker] == [i.name for i in builtins] + ["mine"]
    assert [s.title for s in picker[:-1]] == [i.title for i in builtins]


async def test_picker_shows_titles_and_enter_starts_the_highlighted_one(make_app):
    app, sources = make_app(initial=None, names=("healthy", "vanishing", "exploding"))
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        text = screen_text(app)
        for scenario in app.scenarios:
            assert scenario.title in text and scenario.summary in text
        await pilot.press("down", "enter")
        assert isinstance(app.screen, DashboardScreen)
        assert sources.last.scenario.name == "vanishing" and sources.last.started
        await pump(pilot)
        assert "vanishing" in screen_text(app).splitlines()[0]


async def test_a_click_starts_a_scenario(make_app):
    app, sources = make_app(initial=None, names=("healthy", "exploding"))
    async with app.run_test(size=(80, 24)) as pilot:
        option_list = app.screen.query_one(OptionList)
        # each option is two rows (title, summary): row 2 of the list is the second one
        await pilot.click(option_list, offset=(4, 2))
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert sources.last.scenario.name == "exploding"


async def test_the_command_palette_starts_a_scenario(make_app):
    app, sources = make_app(initial="healthy", names=("healthy", "exploding"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"exploding")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert sources.last.scenario.name == "exploding"
        assert sources.made[0].closed  # the healthy run was ended


async def test_opened_on_a_scenario_s_shows_the_picker_and_it_starts_another(make_app):
    """The picker of an app opened on a scenario is made when `s` asks for it: it lists
    every scenario, starts the one chosen, and `s` from that run comes back to it."""
    app, sources = make_app(initial="vanishing", names=("healthy", "vanishing", "exploding"))
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert sources.made[0].closed
        text = screen_text(app)
        assert all(s.title in text for s in app.scenarios)
        await pilot.press("down", "down", "enter")  # the third: exploding
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert sources.last.scenario.name == "exploding" and sources.last.started
        picker = app.screen_stack[-2]
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is picker  # the same picker, under the run it started
        assert sources.last.closed
