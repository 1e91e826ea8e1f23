"""``bp-tui compare``: two runs in one screen, each exactly the run it would be alone.

The live tests run the real trainer children (``LiveSource``); "alone" is the
installed ``bp-tui run --jsonl`` in its own process.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bp_tui.core.boundary import GRID_H, GRID_W
from bp_tui.scenarios import load
from bp_tui.tui.commands.compare import Pair, compare_app, parser, resolve, side_by_side
from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.boundary import BoundaryPane
from bp_tui.tui.screens.compare import PLOTS, CompareScreen, Side
from bp_tui.tui.sources.live import LiveSource
from bp_tui.tui.sources.record import RecordingSource
from tests.ui.fake_source import FakeSource

BP_TUI = str(Path(sys.executable).with_name("bp-tui"))
STEPS = 150


async def until(pilot: Any, screen: CompareScreen, done, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done(screen):
        assert time.monotonic() < deadline, "gave up waiting"
        screen.refresh_now()
        await pilot.pause()
        await asyncio.sleep(0.02)
    screen.refresh_now()
    await pilot.pause()


def run_alone(fix: bool) -> bytes:
    args = [BP_TUI, "run", "vanishing", "--steps", str(STEPS), "--jsonl"]
    return subprocess.run(
        [*args, "--fix"] if fix else args, capture_output=True, check=True, timeout=120
    ).stdout


async def test_both_runs_are_byte_identical_to_each_run_alone(tmp_path: Path) -> None:
    broken, fixed = load("vanishing", steps=STEPS), load("vanishing", fix=True, steps=STEPS)
    paths = {False: tmp_path / "broken.jsonl", True: tmp_path / "fixed.jsonl"}
    pair = Pair(("broken", "fixed"), (broken, fixed))
    app = compare_app(pair, factory=lambda s: RecordingSource(LiveSource(s), paths[s.fix]))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, app.compare, lambda c: all(s.end for s in c.sides))
        screen = app.compare
        assert [s.history.count for s in screen.sides] == [STEPS, STEPS]
        # each drawn into the same panes, told apart by their marks
        loss = screen.query_one(PLOTS[0])
        assert {"✗loss", "✓loss"} <= set(loss.drawn.lines)
        panes = list(screen.query(BoundaryPane))
        assert [p.boundary_step for p in panes] == [STEPS, STEPS]
        text = screen_text(app)  # every plot's title fits and is on screen
        for kind in PLOTS:
            assert screen.query_one(kind).drawn.title in text
    for fix, path in paths.items():
        assert path.read_bytes() == run_alone(fix), f"fix={fix}"


async def test_pause_stops_both_runs_and_resume_restarts_them() -> None:
    scenarios = (load("vanishing", steps=10**6), load("vanishing", fix=True, steps=10**6))
    pair = Pair(("broken", "fixed"), scenarios)
    app = compare_app(pair)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.compare
        await until(pilot, screen, lambda c: all(s.history.count > 20 for s in c.sides))
        await pilot.press("space")
        sources = [s.source for s in screen.sides]
        for src in sources:
            assert src.wait_acked(10.0)  # type: ignore[union-attr]
        held = [src.child_step for src in sources]  # type: ignore[union-attr]
        await asyncio.sleep(0.6)
        screen.refresh_now()
        assert [src.child_step for src in sources] == held  # type: ignore[union-attr]
        assert all(0 < h < 10**6 for h in held)
        await pilot.press("n")  # one step, both runs
        for src in sources:
            assert src.wait_acked(10.0)  # type: ignore[union-attr]
        await until(
            pilot,
            screen,
            lambda c: all(s.view.last("step") == h + 1 for s, h in zip(c.sides, held, strict=True)),
        )
        await pilot.press("space")
        await until(
            pilot,
            screen,
            lambda c: all(s.view.last("step") > h + 50 for s, h in zip(c.sides, held, strict=True)),
        )


def boundary_step(step: int) -> dict[str, Any]:
    """A cheap step event; every 100 000th carries a grid, as probe steps do."""
    ev: dict[str, Any] = {"type": "step", "step": step, "loss": 1.0 / step, "grad_norm": [1.0, 2.0]}
    if step % 100_000 == 0:
        cells = bytes([step // 100_000]) * (GRID_W * GRID_H)  # the grid says which one
        ev["boundary"] = {"w": GRID_W, "h": GRID_H, "x": [-1.0, 1.0], "y": [-1.0, 1.0],
                          "classes": 2, "p": base64.b64encode(cells).decode()}  # fmt: skip
    return ev


async def test_a_million_steps_of_each_keep_memory_flat() -> None:
    scenario = load("vanishing", steps=10**6)
    sides = [
        Side(label, scenario, lambda s: FakeSource(s, batch=250_000, step_fn=boundary_step))
        for label in ("broken", "fixed")
    ]
    from bp_tui.tui.screens.compare import CompareApp

    app = CompareApp(sides)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.compare
        screen.refresh_now()
        await pilot.pause()
        early = [s.history.nbytes for s in screen.sides]
        await until(pilot, screen, lambda c: all(s.end for s in c.sides))
        assert [s.history.count for s in screen.sides] == [10**6, 10**6]
        assert [s.history.nbytes for s in screen.sides] == early  # allocated once
        for pane in screen.query(BoundaryPane):  # only the latest grid is kept
            assert pane.boundary_step == 10**6 and int(pane.boundary.values[0, 0]) == 10


def recordings(tmp_path: Path) -> list[str]:
    """The broken and the fixed run recorded, as `bp-tui compare a.jsonl b.jsonl` takes them."""
    paths = []
    for fix in (False, True):
        path = tmp_path / f"{'fixed' if fix else 'broken'}.jsonl"
        path.write_bytes(run_alone(fix))
        paths.append(str(path))
    return paths


async def test_two_recordings_side_by_side(tmp_path: Path) -> None:
    paths = recordings(tmp_path)
    pair = resolve(parser().parse_args(paths))  # as `bp-tui compare a.jsonl b.jsonl` does
    app = compare_app(pair, speed=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare
        await until(pilot, screen, lambda c: all(s.end for s in c.sides))
        assert [s.history.count for s in screen.sides] == [STEPS, STEPS]
        # two recordings: neither is "the fix", so the marks are neutral
        assert {"A:loss", "B:loss"} <= set(screen.query_one(PLOTS[0]).drawn.lines)
        await pilot.press("v")  # 80x24: the two boundaries have a view of their own
        await until(pilot, screen, lambda c: True)
        panes = list(screen.query(BoundaryPane))
        assert all(p.region.area > 0 for p in panes)
        assert [p.boundary_step for p in panes] == [STEPS, STEPS]


async def test_the_loss_title_names_no_colour_the_runs_are_not_drawn_in(tmp_path: Path) -> None:
    """The dashboard's loss title says "loss in red"; here each run has its own palette."""
    paths = recordings(tmp_path)
    app = compare_app(resolve(parser().parse_args(paths)), speed=0)
    async with app.run_test(size=(220, 60)) as pilot:
        screen = app.compare
        await until(pilot, screen, lambda c: all(s.end for s in c.sides))
        title = screen.query_one(PLOTS[0]).drawn.title
        assert "accuracy" in title and " in red" not in title and " in green" not in title


def test_headless_compare_prints_both_run_summaries_side_by_side() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = [BP_TUI, "compare", "vanishing", "--steps", "60"]
    got = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert got.returncode == 0, got.stderr  # stdout is a pipe: headless without --summary
    alone = [
        subprocess.run(
            [BP_TUI, "run", "vanishing", "--steps", "60", *fix],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for fix in ([], ["--fix"])
    ]
    assert got.stdout == side_by_side("✗ broken\n" + alone[0], "✓ fixed\n" + alone[1])
    columns = [line.partition("│") for line in got.stdout.splitlines()]
    left = [a.rstrip() for a, _, _ in columns]
    right = [b.removeprefix("  ") for _, _, b in columns]
    assert [x for x in left if x] == ["✗ broken", *[x.rstrip() for x in alone[0].splitlines() if x]]
    assert [x for x in right if x] == ["✓ fixed", *[x for x in alone[1].splitlines() if x]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["micro"], "fix: found no [fix] table"),
        (["a.jsonl", "healthy"], "found a recording and a scenario"),
        (["missing.jsonl", "other.jsonl"], "missing.jsonl: file: not found"),
        (["a", "b", "c"], "found 3 names"),
    ],
)
def test_bad_compare_arguments_are_one_line_errors(args: list[str], message: str) -> None:
    got = subprocess.run([BP_TUI, "compare", *args], capture_output=True, text=True, timeout=60)
    assert got.returncode == 2 and got.stdout == ""
    assert got.stderr.count("\n") == 1 and got.stderr.startswith("bp-tui: error: ")
    assert message in got.stderr


async def test_every_key_acts_on_both_runs() -> None:
    made: list[FakeSource] = []

    def factory(s: Any) -> FakeSource:
        made.append(FakeSource(s, batch=5))
        return made[-1]

    broken, fixed = load("healthy"), load("healthy", fix=True)  # lr 0.1 and 0.02
    from bp_tui.tui.screens.compare import CompareApp

    app = CompareApp([Side("broken", broken, factory), Side("fixed", fixed, factory)])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.compare
        screen.refresh_now()
        await pilot.pause()
        first = list(made)
        await pilot.press("right_square_bracket", "c", "minus", "space", "n")
        for src, lr in zip(first, (0.1, 0.02), strict=True):
            names = [name for name, _ in src.commands]
            assert names[-5:] == ["lr", "clip", "speed", "pause", "step"]
            assert dict(src.commands)["lr"] == pytest.approx(2 * lr)  # each run's own rate
            assert dict(src.commands)["clip"] == "norm"
            assert dict(src.commands)["speed"] == 10000.0
        await pilot.press("r")  # both restart: two new sources, the old ones closed
        assert len(made) == 4 and all(src.closed for src in first)
        assert [s.source for s in screen.sides] == made[2:]
