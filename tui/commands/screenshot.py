"""Headless screenshots of the dashboard: SVG for the docs, plain text for tests.

    python -m bp_tui.tui.commands.screenshot docs/screenshot.svg --scenario vanishing \
        --size 120x40 --steps 400

runs the real app headless (``App.run_test``) on a built-in scenario with the live
source, waits until ``steps`` steps have arrived (or the run ended), and saves the SVG.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from textual.app import App

    from bp_tui.core.config import Scenario


def screen_text(app: App[Any]) -> str:
    """What the terminal shows right now, as plain text, one line per row."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)


def _write_atomic(path: str, text: str) -> None:
    """Write through a temporary file in the same folder, so a failure leaves no half file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a screenshot is for sharing
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


async def export_svg_async(
    path: str,
    scenario: Scenario,
    size: tuple[int, int] = (120, 40),
    *,
    steps: int = 400,
    source_factory: Callable[[Scenario], Any] | None = None,
    timeout: float = 60.0,
) -> str:
    """Run the dashboard headless on ``scenario`` until ``steps`` steps, save an SVG."""
    from bp_tui.tui.app import BpTuiApp
    from bp_tui.tui.screens.dashboard import DashboardScreen

    if source_factory is None:
        from bp_tui.tui.sources.live import LiveSource

        source_factory = LiveSource
    app = BpTuiApp(source_factory, [scenario], initial=scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dash.poll()
            last = dash.view.last("step")
            if dash.end is not None or (last is not None and last >= steps):
                break
            await asyncio.sleep(0.05)
        dash.action_toggle_pause()  # freeze the picture; the state shows "paused"
        dash.refresh_now()
        await pilot.pause()
        svg = app.export_screenshot(title=f"bp-tui {scenario.name}")
    _write_atomic(path, svg)
    return path


def export_svg(
    path: str, scenario: Scenario, size: tuple[int, int] = (120, 40), **kwargs: Any
) -> str:
    """Blocking form of ``export_svg_async`` (for scripts)."""
    return asyncio.run(export_svg_async(path, scenario, size, **kwargs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bp_tui.tui.commands.screenshot")
    parser.add_argument("path")
    parser.add_argument("--scenario", default="vanishing")
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--fix", action="store_true")
    args = parser.parse_args(argv)
    from bp_tui.scenarios import ScenarioError, load

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        scenario = load(args.scenario, fix=args.fix)
    except (ValueError, ScenarioError) as exc:
        print(f"bp-tui: error: {exc}", file=sys.stderr)
        return 2
    export_svg(args.path, scenario, (width, height), steps=args.steps)
    print(args.path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
