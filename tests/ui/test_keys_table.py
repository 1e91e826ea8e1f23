"""One key table per screen: the footer, the help screen and the README come from it."""

from __future__ import annotations

from pathlib import Path

from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.help import HelpScreen
from bp_tui.tui.screens.keys import SEEK, key_label, readme_tables
from bp_tui.tui.screens.recorded import RecordedScreen, ReplayScreen

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_key_table_is_the_generated_one():
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- keys:start -->\n"), text.index("<!-- keys:end -->")
    assert text[start + len("<!-- keys:start -->\n") : end].strip() == readme_tables().strip()


def actions(screen: type[DashboardScreen]) -> set[str]:
    return {b.action for b in screen.KEYS}


def test_each_screen_lists_only_the_keys_that_work_there():
    live, watch, replay = actions(DashboardScreen), actions(RecordedScreen), actions(ReplayScreen)
    changes_a_run = {"toggle_fix", "lr_half", "lr_double", "cycle_clip"}
    assert changes_a_run <= live and not changes_a_run & (watch | replay)
    seeks = {b.action for b in SEEK}
    assert seeks <= replay and not seeks & (live | watch)
    assert "faster" in replay and "faster" not in watch  # a followed file has no pace
    for screen in (DashboardScreen, RecordedScreen, ReplayScreen):  # every key has an action
        for b in screen.KEYS:
            assert hasattr(screen, f"action_{b.action.split('(')[0]}") or "." in b.action


async def test_footer_and_help_show_the_screen_s_own_keys(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = {b.description for _, b, *_ in app.screen.active_bindings.values() if b.show}
        assert {"help", "quit", "pause", "fix", "restart"} <= footer
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert [key_label(b) for b in app.screen.keys] == [
            key_label(b) for b in DashboardScreen.KEYS
        ]
