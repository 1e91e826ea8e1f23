"""The decision-boundary pane, read off the rendered screen cells and checked against the data.

The events are the real trainer's (built-in ``vanishing`` and its fix, run to the end
here), fed to the app by a source that hands them over in batches; the replay test
records them to a file and opens it with ``bp-tui replay``'s app.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style

from bp_tui.core.datasets import make_dataset
from bp_tui.core.events import decode, encode
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load
from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.commands.replay import replay_app
from bp_tui.tui.panes.boundary import CELL_POINT, DENSITY_2, POINT_MARKS_2, UPPER_HALF, BoundaryPane

_RUNS: dict[bool, list[dict[str, Any]]] = {}


def vanishing_events(fix: bool) -> list[dict[str, Any]]:
    """The whole run of built-in vanishing (or its fix) as the wire carries it."""
    if fix not in _RUNS:
        t = Trainer(load("vanishing", fix=fix))
        evs = [t.run_event()]
        while not t.finished:
            evs.append(t.step().to_dict())
        evs.append(t.end_event())
        _RUNS[fix] = [decode(encode(e)) for e in evs]
    return _RUNS[fix]


class ListSource:
    """Hands over recorded events, ``batch`` per poll."""

    def __init__(self, events: list[dict[str, Any]], batch: int = 250, held: bool = False) -> None:
        self.events, self.batch, self.status, self.pos = events, batch, "running", 0
        self.held = held  # then each batch waits for release()
        self.released = 0

    def release(self) -> None:
        self.released += 1

    def start(self) -> None:
        pass

    def poll(self) -> list[dict[str, Any]]:
        if self.held:
            if not self.released:
                return []
            self.released -= 1
        out = self.events[self.pos : self.pos + self.batch]
        self.pos += len(out)
        if self.pos >= len(self.events):
            self.status = "ended"
        return out

    def command(self, name: str, value: Any = None) -> None:
        pass

    def close(self) -> None:
        pass


def screen_cells(app: Any) -> list[list[tuple[str, Style]]]:
    """The terminal's cells right now: rows of (character, style), as the app wrote them."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), legacy_windows=False)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    rows: list[list[tuple[str, Style]]] = []
    for seg in console.render(update):
        if seg.control:  # each row of a full update starts with a cursor move
            rows.append([])
            continue
        for ch in seg.text:
            if ch == "\n":
                rows.append([])
            else:
                rows[-1].append((ch, seg.style or Style()))
    return [r for r in rows if r][:height]


def pane_cells(app: Any, pane: BoundaryPane) -> list[list[tuple[str, Style]]]:
    """The plane's cells (below the pane's title row), from the screen."""
    r = pane.content_region
    rows = screen_cells(app)[r.y + 1 : r.y + r.height]
    return [row[r.x : r.x + r.width] for row in rows]


def colour_class(colour: Any, system: ColorSystem) -> int:
    """Class of a drawn colour after the terminal's downgrade: orange (0) or blue (1)."""
    if system != ColorSystem.TRUECOLOR:
        colour = colour.downgrade(system)
    r, _, b = colour.get_truecolor()
    assert r != b, f"{colour} is neither orange nor blue"
    return 0 if r > b else 1


def read_plane(cells, no_color: bool, system: ColorSystem = ColorSystem.TRUECOLOR):  # type: ignore[no-untyped-def]
    """(background class per cell (rows, cols), point class per cell or -1) from the cells.

    Colour: a ``▀`` cell's class is its lower pixel's (both pixels must be read), a
    ``●`` cell's background is the prediction there and its colour the points' class.
    NO_COLOR: density characters are the prediction (-1 under a point mark).
    """
    rows, cols = len(cells), len(cells[0])
    bg = np.full((rows, cols), -1)
    pts = np.full((rows, cols), -1)
    for r, row in enumerate(cells):
        for c, (ch, style) in enumerate(row):
            if no_color:  # the terminal drops every colour: the characters alone tell
                if ch in POINT_MARKS_2:
                    pts[r, c] = POINT_MARKS_2.index(ch)
                else:
                    bg[r, c] = DENSITY_2.index(ch) // 2
                continue
            bg[r, c] = colour_class(style.bgcolor, system)
            if ch == CELL_POINT:
                pts[r, c] = colour_class(style.color, system)
            else:
                assert ch == UPPER_HALF
                colour_class(style.color, system)  # the upper pixel is a class colour too
    return bg, pts


def data_classes(pane: BoundaryPane, rows: int, cols: int) -> np.ndarray:
    """Majority class of the scenario's own data per cell, computed here: (rows, cols)."""
    s = load("vanishing")
    X, y = make_dataset(s.data, s.seed)
    b = pane.boundary
    c = ((X[:, 0] - b.x[0]) / (b.x[1] - b.x[0]) * cols).astype(int)
    r = ((b.y[1] - X[:, 1]) / (b.y[1] - b.y[0]) * rows).astype(int)
    votes = np.zeros((rows, cols, 2))
    np.add.at(votes, (r, c, y), 1)
    return np.where(votes.sum(axis=2) > 0, votes.argmax(axis=2), -1)


async def show_run(app: Any, pilot: Any, size: tuple[int, int]) -> BoundaryPane:
    dash = app.dashboard
    deadline = time.monotonic() + 60
    while dash.source.status != "ended":
        assert time.monotonic() < deadline
        dash.refresh_now()
        await pilot.pause()
    if dash.compact:  # the compact views: plots -> flow -> boundary
        await pilot.press("v", "v")
        assert dash.view_name == "boundary"
    await asyncio.sleep(0.05)
    dash.refresh_now()
    await pilot.pause()
    return dash.query_one(BoundaryPane)


SIZES = [(80, 24), (120, 40)]
COLOURS = ["256", "NO_COLOR"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("colours", COLOURS)
@pytest.mark.parametrize("fix", [False, True], ids=["vanishing", "fixed"])
async def test_boundary_pane_shows_what_the_network_learned(
    fix: bool, colours: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_color = colours == "NO_COLOR"
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    scenario = load("vanishing", fix=fix)
    app = BpTuiApp(lambda s: ListSource(vanishing_events(fix)), [scenario], initial=scenario)
    async with app.run_test(size=size) as pilot:
        assert app.no_color == no_color
        pane = await show_run(app, pilot, size)
        assert pane.boundary_step == scenario.steps
        cells = pane_cells(app, pane)
        assert len(cells) >= 8 and len(cells[0]) >= 30
        bg, pts = read_plane(cells, no_color, ColorSystem.EIGHT_BIT)
        want = data_classes(pane, len(cells), len(cells[0]))
        # the points are where the data is, in its class
        assert np.array_equal(pts >= 0, want >= 0)
        assert np.array_equal(pts[pts >= 0], want[pts >= 0])
        shown = bg[bg >= 0]
        if not fix:  # learned nothing: one class everywhere
            assert len(np.unique(shown)) == 1
        else:  # both classes, each where its data is
            assert set(np.unique(shown)) == {0, 1}
            if no_color:  # the prediction beside each point: left and right neighbours
                near = [
                    (bg[r, c2], want[r, c])
                    for r, c in zip(*np.nonzero(want >= 0), strict=True)
                    for c2 in (c - 1, c + 1)
                    if 0 <= c2 < bg.shape[1] and bg[r, c2] >= 0 and want[r, c2] < 0
                ]
                agree = np.mean([a == b for a, b in near])
            else:  # the prediction under each point
                agree = np.mean(bg[want >= 0] == want[want >= 0])
            assert agree >= 0.85, agree


async def test_replayed_recording_shows_the_same_pane(tmp_path: Path) -> None:
    path = tmp_path / "fixed.jsonl"
    events = vanishing_events(True)
    path.write_text("".join(encode(e) + "\n" for e in events))
    scenario = load("vanishing", fix=True)
    live = BpTuiApp(lambda s: ListSource(events), [scenario], initial=scenario)
    async with live.run_test(size=(120, 40)) as pilot:
        pane = await show_run(live, pilot, (120, 40))
        shown_live = pane_cells(live, pane)
    replay = replay_app(str(path), speed=0)
    async with replay.run_test(size=(120, 40)) as pilot:
        dash = replay.dashboard
        deadline = time.monotonic() + 60
        while dash.end is None:
            assert time.monotonic() < deadline
            dash.refresh_now()
            await pilot.pause()
        dash.refresh_now()
        await pilot.pause()
        pane = dash.query_one(BoundaryPane)
        assert pane.boundary_step == 1000
        assert pane_cells(replay, pane) == shown_live


async def test_pane_follows_each_probe() -> None:
    events = vanishing_events(True)
    scenario = load("vanishing", fix=True)
    app = BpTuiApp(lambda s: ListSource(events, 50, held=True), [scenario], initial=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        dash, seen = app.dashboard, []
        while dash.source.status != "ended":
            dash.source.release()
            dash.refresh_now()
            await pilot.pause()
            pane = dash.query_one(BoundaryPane)
            if pane.boundary_step is None:
                continue
            seen.append(pane.boundary_step)
            want = f"step {pane.boundary_step}"
            for _ in range(40):  # the screen catches up within a few frames
                if want in "".join(ch for ch, _ in screen_cells(app)[pane.content_region.y]):
                    break
                await pilot.pause(0.05)
            else:
                raise AssertionError(f"{want} never shown")
    probes = [e["step"] for e in events if e.get("boundary")]
    # one poll of 50 events holds one or two probe steps (every 50): the latest is shown
    assert set(seen) <= set(probes) and len(set(seen)) >= len(probes) // 2
