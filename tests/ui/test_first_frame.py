"""The first steps of a run are drawn when they arrive, not at the next redraw tick."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.status import StatusLine
from tests.ui.conftest import make_scenario
from tests.ui.fake_source import FakeSource

SLOW_FPS = 0.1  # the redraw timer's period is 10 s: a test that waits for it times out
WAIT = 5.0  # s to wait for the first drawn plot, well below that period


class LateSource(FakeSource):
    """A fake source that sends nothing until ``opened``, as a trainer still starting."""

    opened = False

    def poll(self) -> list[dict[str, Any]]:
        return super().poll() if self.opened else []


def late_app() -> BpTuiApp:
    """The dashboard on ``vanishing``, its source silent until opened, the timer slow."""
    scenario = make_scenario("vanishing")
    return BpTuiApp(LateSource, [scenario], initial=scenario, fps=SLOW_FPS)


async def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_the_first_steps_are_drawn_without_waiting_for_the_redraw_timer():
    app = late_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = app.dashboard
        assert dash is not None
        for _ in range(3):  # the layout's own redraws (from no data) are done
            await pilot.pause()
        loss = dash.query_one(LossPane)
        assert loss.shown_key is None or loss.shown_key[0][0] == 0
        assert isinstance(dash.source, LateSource)
        dash.source.opened = True
        # shown_key is (view state, size); the state's first item is the history's count
        drawn_with_steps = await wait_for(
            lambda: loss.shown_key is not None and loss.shown_key[0][0] > 0, WAIT
        )
        assert drawn_with_steps, f"loss plot not drawn from any step within {WAIT} s"
        assert dash.query_one(StatusLine).info.step is not None


async def test_steps_waiting_at_start_are_in_the_first_painted_status_line(monkeypatch):
    """A source started before the UI (bp-tui SCENARIO) has steps waiting: the first
    frame painted shows them, not the frame after the poll timer's first tick."""
    scenario = make_scenario("vanishing")
    app = BpTuiApp(FakeSource, [scenario], initial=scenario, fps=SLOW_FPS)
    painted: list[int | None] = []
    original = StatusLine.render

    def render(line: StatusLine) -> Any:
        painted.append(None if line.info is None else line.info.step)
        return original(line)

    monkeypatch.setattr(StatusLine, "render", render)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(lambda: bool(painted), WAIT)
        await pilot.pause()
    assert painted[0] is not None, f"first status lines painted: {painted[:3]}"


async def test_the_lesson_built_after_the_first_frame_is_shown():
    scenario = make_scenario("vanishing")
    app = BpTuiApp(FakeSource, [scenario], initial=scenario, fps=SLOW_FPS)
    async with app.run_test(size=(120, 40)) as pilot:

        def lesson() -> Markdown | None:
            return next(app.screen.query("#lesson-text").results(Markdown), None)

        assert await wait_for(lambda: lesson() is not None, WAIT)
        markdown = lesson()
        assert markdown is not None and "**vanishing**" in markdown.source
        await pilot.pause()
        shown = " ".join(str(block.render()) for block in markdown.query(MarkdownBlock))
        assert "vanishing" in shown  # rendered, not just stored


async def test_a_lesson_due_after_the_screen_closed_is_not_mounted():
    # q or SIGTERM right after the first frame: the screen is taken down before the
    # lesson's callback runs. It then raised (MountError while the app was closing,
    # NoMatches once the screen was removed): exit status 1 and a traceback instead of
    # 0 or 143 (tests/e2e/test_hostile_tmux.py, SIGTERM at the first step).
    app = late_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dash = app.dashboard
        assert dash is not None
        await pilot.pause()
        assert not list(dash.query("#lesson-text"))  # no step yet: the lesson waits
        app.pop_screen()  # the dashboard goes, as it does when the app closes
        await pilot.pause()
        assert not dash.is_attached
        dash._show_lesson()  # the callback, late
        assert not list(dash.query("#lesson-text"))
