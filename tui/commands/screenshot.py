"""Headless screenshots of the dashboard: SVG for the docs, plain text for tests.

    python -m bp_tui.tui.commands.screenshot docs/screenshot.svg --scenario vanishing \
        --size 120x40 --steps 400

runs the real app headless (``App.run_test``) on a built-in scenario with the live
source, waits until ``steps`` steps have arrived (or the run ended), and saves the SVG.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len

from bp_tui.tui.commands.args import CliParser
from bp_tui.tui.errors import EXIT_USAGE, CliError, error_line
from bp_tui.tui.output_file import check_output_path, write_file

if TYPE_CHECKING:
    from textual.app import App

    from bp_tui.core.config import Scenario


# rich's SVG export: one <text> per run of equally styled cells, placed at
# x = column * char_width on the row its clip path names.
_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
    r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>'
)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows right now, as plain text, one line per row.

    Read back from ``app.export_screenshot()`` (Textual's public way to capture the
    screen, modal screens and notifications included) rather than from its compositor.
    """
    width, height = app.size
    svg = app.export_screenshot()
    rows = [[" "] * width for _ in range(height)]
    char_width = 0.0
    found = re.search(r'-clip-terminal">\s*<rect x="0" y="0" width="([0-9.]+)"', svg)
    if found:
        char_width = (float(found.group(1)) + 1) / width  # rich writes width * cw - 1
    for x, row, text in _SVG_TEXT.findall(svg):
        r = int(row)
        if r >= height or char_width <= 0:
            continue
        col = round(float(x) / char_width)
        for ch in html.unescape(text).replace("\xa0", " "):
            if 0 <= col < width:
                rows[r][col] = ch
            col += max(1, cell_len(ch))
    return "\n".join("".join(row).rstrip() for row in rows) + "\n"


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
    app = BpTuiApp(source_factory, [scenario], initial=scenario, speed=0.0)  # full speed
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
    # Written once the whole SVG is in memory, as every file a user names (in place: it
    # may be a symlink or a FIFO); CliError when it cannot be.
    write_file(path, "PATH", svg)
    return path


def export_svg(
    path: str, scenario: Scenario, size: tuple[int, int] = (120, 40), **kwargs: Any
) -> str:
    """Blocking form of ``export_svg_async`` (for scripts)."""
    return asyncio.run(export_svg_async(path, scenario, size, **kwargs))


def _size(text: str) -> tuple[int, int]:
    """``--size``: ``120x40`` -> (120, 40)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CliError(None, "--size", f"found {text!r}, expected WIDTHxHEIGHT") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    from bp_tui.scenarios import ScenarioError, load

    parser = CliParser(prog="python -m bp_tui.tui.commands.screenshot")
    parser.add_argument("path", metavar="PATH")
    parser.add_argument("--scenario", default="vanishing")
    parser.add_argument("--size", type=_size, default="120x40", metavar="WIDTHxHEIGHT")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--fix", action="store_true")
    try:
        args = parser.parse_args(argv)
        check_output_path(args.path, "PATH")
        scenario = load(args.scenario, fix=args.fix)
        export_svg(args.path, scenario, args.size, steps=args.steps)
    except (ScenarioError, CliError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    print(args.path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
