"""Record, replay and watch in the dashboard (Textual Pilot, real sources and files).

The live run is the real one (trainer in a child process) recorded with ``--record``'s
RecordingSource; its replay must show the same History, series for series. The event
sequence is checked against a Trainer stepped here in the test process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bp_tui.core.events import decode, encode
from bp_tui.core.stream import read_stream
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load
from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.commands.replay import replay_app, watch_app
from bp_tui.tui.history import LAYER_KEYS, SERIES_SCALARS, History
from bp_tui.tui.panes.status import StatusLine
from bp_tui.tui.sources.live import LiveSource
from bp_tui.tui.sources.record import RecordingSource
from bp_tui.tui.sources.replay_index import index_stream

ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 40)


def status(app: Any) -> str:
    return app.screen.query_one(StatusLine).plain


async def run_until(pilot: Any, done, timeout: float = 60.0) -> Any:
    """Poll and redraw until ``done(dashboard)``; fail after ``timeout`` s (a hang)."""
    dash = pilot.app.dashboard
    deadline = time.monotonic() + timeout
    while not done(dash):
        assert time.monotonic() < deadline, f"gave up waiting; status: {status(pilot.app)}"
        dash.refresh_now()
        await pilot.pause()
        await asyncio.sleep(0.02)
    dash.refresh_now()
    await pilot.pause()
    return dash


def series_arrays(dash: Any) -> dict[str, list[list[float]]]:
    """Every series the panes read, as plain lists (NaN kept comparable as a string)."""
    h = dash.history
    out = {}
    keys = [(k, None) for k in SERIES_SCALARS]
    keys += [(k, i) for k in LAYER_KEYS for i in range(len(h.layer_names))]
    for key, layer in keys:
        s = h.series(key) if layer is None else h.series(key, layer=layer)
        out[f"{key}[{layer}]"] = [
            np.where(np.isnan(a), -12345.0, a).tolist() for a in (s.steps, s.lo, s.hi, s.last)
        ]
    return out


async def test_record_then_replay_shows_the_same_run(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    scenario = load("exploding", steps=120)
    live = BpTuiApp(lambda s: RecordingSource(LiveSource(s), path), [scenario], initial=scenario)
    async with live.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.end is not None)
        shown_live = series_arrays(dash)
        live_count, live_status = dash.history.count, status(live)
    assert live_count > 0

    # The recording is the run's event sequence, checked against a Trainer stepped here.
    trainer = Trainer(scenario)
    expected = [trainer.run_event()]
    while not trainer.finished:
        expected.append(trainer.step().to_dict())
    expected.append(trainer.end_event())
    expected = [decode(encode(e)) for e in expected]
    contents = read_stream(path)
    assert contents.error is None
    assert_same_events(contents.all_events(), expected)

    replay = replay_app(str(path), index_stream(path), speed=0)
    async with replay.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.end is not None)
        assert dash.history.count == live_count
        assert series_arrays(dash) == shown_live
        # same step, same end state ("completed" or "DIVERGED at step N") and the same
        # scenario name (the recording's run event's, not the file's) on both
        assert status(replay).split("│")[0] == live_status.split("│")[0]
        assert f"step {expected[-2]['step']}/" in status(replay)


def assert_same_events(got: Any, expected: Any, where: str = "events") -> None:
    """Equal structure, keys, ints, flags and nulls; floats equal to 1e-12 relative (the
    child process may sum in another order: BLAS threads)."""
    if isinstance(expected, float) and isinstance(got, float):
        assert got == pytest.approx(expected, rel=1e-12), where
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), where
        for k in expected:
            assert_same_events(got[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same_events(g, e, f"{where}[{i}]")
    else:
        assert got == expected and type(got) is type(expected), where


def _write(path: Path, steps: int, *, garbage_after: int | None = None) -> None:
    lines = [encode({"type": "run", "version": 1, "title": "hand-made", "layers": [{"name": "a"}]})]
    for i in range(1, steps + 1):
        lines.append(encode({"type": "step", "step": i, "loss": 1.0 / i, "grad_norm": [0.1 * i]}))
        if i == garbage_after:
            lines.append('{"type": "step", "step": ')
    lines.append(encode({"type": "end", "step": steps, "reason": "completed"}))
    path.write_text("".join(x + "\n" for x in lines))


async def test_damaged_recording_shows_every_valid_step_and_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "damaged.jsonl"
    _write(path, 40, garbage_after=25)  # the bad line is line 27
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.source.status.startswith("error"))
        assert dash.history.count == 25 and dash.view.last("step") == 25
        line = status(app)
        # the status line is fitted to the screen: the error comes first, cut at its end
        # when the path is long, and the step count stays
        assert len(line) <= SIZE[0]
        assert f"error: {path}: line 27: not valid JSON".startswith(line.lstrip()[:60])
        assert "step 25/25" in line


async def test_seek_keys_move_through_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    _write(path, 200)
    app = replay_app(str(path), index_stream(path), speed=1)  # slow: the keys do the moving
    async with app.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.history.count >= 0)

        async def press(key: str) -> int:
            await pilot.press(key)
            await run_until(pilot, lambda d: d.source._target is None)
            return dash.history.count

        assert await press("end") == 200
        assert dash.end is not None and "completed" in status(app)
        assert await press("pageup") == 180  # 10 % back: the History is rebuilt
        assert dash.end is None and status(app).lstrip().startswith("paused")
        assert dash.view.last("loss") == pytest.approx(1.0 / 180)
        assert await press("left") == 179
        assert await press("home") == 0
        assert await press("right") == 1
        assert await press("pagedown") == 21
        await pilot.press("n")  # paused after reaching the end: n steps once
        dash = await run_until(pilot, lambda d: d.history.count == 22)
        assert "step 22/200" in status(app)
        # the rebuilt History equals one filled straight from the file's first 22 steps
        straight = History()
        contents = read_stream(path)
        straight.set_run(contents.run)
        straight.extend(contents.events[:22])
        for key, layer in (("loss", None), ("grad_norm", 0)):
            a, b = dash.history.series(key, layer=layer), straight.series(key, layer=layer)
            assert a.steps.tolist() == b.steps.tolist() and a.hi.tolist() == b.hi.tolist()


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


async def test_torch_example_stream_replays_in_the_dashboard(tmp_path: Path) -> None:
    if not _torch_available():
        if os.environ.get("BP_TUI_REQUIRE_TORCH") == "1":
            pytest.fail("BP_TUI_REQUIRE_TORCH=1 but PyTorch cannot be imported")
        pytest.skip("PyTorch not installed: pip install -e .[bench]")
    path = tmp_path / "torch.jsonl"
    subprocess.run(
        [sys.executable, "examples/torch_monitor.py", "--out", str(path), "--steps", "60"],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    contents = read_stream(path)
    assert contents.error is None and len(contents.events) == 60
    assert contents.end == {"type": "end", "step": 60, "reason": "completed"}
    first = contents.events[0]
    # what the example measures is self-consistent: the global norm covers every layer
    per_layer = np.hypot(first["grad_norm"], first["bias_grad_norm"])
    assert first["global_grad_norm"] == pytest.approx(float(np.sqrt((per_layer**2).sum())))
    assert first["dead"][-1] is None and all(d >= 0 for d in first["dead"][:-1])
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.end is not None)
        assert dash.history.count == 60
        assert dash.history.layer_names == ["fc1", "fc2", "fc3", "fc4"]
        assert status(app).lstrip().startswith("completed")
        assert "step 60/60" in status(app)


WRITER = """
import sys, time
from bp_tui.core.stream import EventWriter
with EventWriter(sys.argv[1], layers=["a", "b"]) as w:
    for i in range(1, 1000):
        w.step(step=i, loss=1.0 / i, grad_norm=[i, 2 * i])
        time.sleep(0.05)
"""


async def test_watch_shows_steps_a_writer_appends(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    app = watch_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.source is not None)
        # a long path is shortened in the middle: both ends stay readable
        line = status(app)
        assert len(line) <= SIZE[0] and "waiting for /" in line
        assert line.rstrip().endswith(f"{path.name} to appear")
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT)
        try:
            dash = await run_until(pilot, lambda d: d.history.count >= 5, timeout=30)
            seen = dash.history.count
            dash = await run_until(pilot, lambda d: d.history.count >= seen + 5, timeout=30)
            assert dash.history.layer_names == ["a", "b"]
            # every step the writer has flushed so far is shown, in order
            on_disk = read_stream(path).events
            assert dash.view.last("step") <= on_disk[-1]["step"]
            assert dash.history.series("loss").last[-1] == pytest.approx(
                1.0 / dash.view.last("step")
            )
            line = status(app)  # the path shortened in the middle, the file name kept
            assert "following /" in line and f"{path.name}: " in line
        finally:
            writer.terminate()
            writer.wait()
