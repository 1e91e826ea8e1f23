"""Compare mode's keys come from keys.py, and its state is reactive (issue 16).

The keys: the footer, the help (`?`, in ``bp-tui compare`` and after `m`) and the
README are made from ``keys.COMPARE_KEYS``. The state: setting ``paused``, ``speed`` or
``clip_mode`` tells both sources and both status lines by itself, with no poll, redraw
or refresh in between.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bp_tui.tui.app import ScenarioCommands
from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.status import StatusLine
from bp_tui.tui.screens.compare import CompareApp, CompareScreen, Side
from bp_tui.tui.screens.help import COMPARE_PANES, HelpScreen
from bp_tui.tui.screens.keys import COMPARE, COMPARE_KEYS, COMPARE_PALETTE_ROW, HEAD, key_label
from tests.ui.conftest import make_scenario
from tests.ui.fake_source import FakeSource

README = Path(__file__).resolve().parents[2] / "README.md"


def fake_compare() -> tuple[CompareApp, list[FakeSource]]:
    made: list[FakeSource] = []

    def factory(s: Any) -> FakeSource:
        made.append(FakeSource(s, batch=5))
        return made[-1]

    sides = [
        Side("broken", make_scenario(), factory),
        Side("fixed", make_scenario(fix=True), factory),
    ]
    return CompareApp(sides), made


def test_compare_keys_are_the_key_table_s_and_each_has_an_action() -> None:
    assert CompareScreen.KEYS is COMPARE_KEYS
    assert CompareScreen.BINDINGS == COMPARE_KEYS
    for b in COMPARE_KEYS:  # a screen action, or the app's (help, quit) in both apps
        name = b.action.removeprefix("app.")
        assert hasattr(CompareScreen if b in COMPARE else CompareApp, f"action_{name}"), b
    text = README.read_text(encoding="utf-8")
    for b in COMPARE:  # the README's compare table, row by row
        assert f"| `{key_label(b)}` | {b.tooltip} |" in text


async def test_help_and_footer_show_the_compare_keys() -> None:
    app, _ = fake_compare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.compare
        shown = [b.description for _, b, *_ in screen.active_bindings.values() if b.show]
        footer = list(dict.fromkeys(shown))  # + is two keys (plus, equals_sign)
        assert footer[: len(COMPARE)] == [b.description for b in COMPARE]
        assert {"help", "quit"} <= set(footer)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert [key_label(b) for b in app.screen.keys] == [key_label(b) for b in COMPARE_KEYS]
        # what the help says the palette and the panes are, true of this app
        assert app.screen.palette == COMPARE_PALETTE_ROW and app.screen.panes == COMPARE_PANES
        titles = [c.title.lower() for c in app.get_system_commands(screen)]
        assert any("theme" in t for t in titles)
        assert ScenarioCommands not in app.COMMANDS  # no "start any scenario" here
        await pilot.press("question_mark")  # closes it again
        await pilot.pause()
        assert app.screen is screen


async def test_help_after_m_lists_the_compare_keys_not_the_dashboard_s(make_app: Any) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        labels = [key_label(b) for b in app.screen.keys]
        assert labels == [key_label(b) for b in COMPARE_KEYS]
        assert "f" not in labels and "m" not in labels  # the dashboard's, not working here
        assert [key_label(b) for b in HEAD] == labels[-len(HEAD) :]
        assert app.screen.palette == COMPARE_PALETTE_ROW and app.screen.panes == COMPARE_PANES
        assert ScenarioCommands in app.COMMANDS  # opened with m: any scenario can start


async def test_a_state_change_reaches_both_sources_and_status_lines_at_once() -> None:
    app, made = fake_compare()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.compare
        screen.refresh_now()
        await pilot.pause()
        lines = [screen.query_one(f"#cmp-status-{n}", StatusLine) for n in range(2)]
        assert all(" running " in line.plain for line in lines)
        # No await from here to each check: no timer, poll or refresh can run between.
        screen.paused = True
        assert [src.commands[-1] for src in made] == [("pause", None)] * 2
        assert [line.plain.split()[:3] for line in lines] == [
            ["✗", "broken", "paused"],
            ["✓", "fixed", "paused"],
        ]
        screen.speed = 20.0
        assert [src.commands[-1] for src in made] == [("speed", 20.0)] * 2
        assert all("≤20" in line.plain for line in lines)
        screen.clip_mode = "value"
        assert [src.commands[-1] for src in made] == [("clip", "value")] * 2
        assert all("clip value" in line.plain for line in lines)
        screen.paused = False
        assert [src.commands[-1] for src in made] == [("resume", None)] * 2
        assert all(" running " in line.plain for line in lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_pane_that_plots_saturation_beside_dead_units_names_both(size: Any) -> None:
    """Sigmoid (saturated %) beside ReLU (dead %) in one pane: its title says which run
    is which measure at every width (at 80 columns it once fell back to the first
    run's title alone, labelling the fixed run's dead units "saturated")."""
    app, _ = fake_compare()
    async with app.run_test(size=size) as pilot:
        screen = app.compare
        for _ in range(3):
            screen.refresh_now()
            await pilot.pause()
        pane = screen.query_one(DeadUnitsPane)
        title = pane.drawn.title
        assert "✗ saturated" in title and "✓ dead" in title, title
        assert title in screen_text(app)
