"""Opening and seeking a long recording in ``bp-tui replay`` (stream version 2).

Figures
- ``replay/open``: seconds from nothing to the first batch of events of a replay
  (``index_stream`` + ``ReplaySource.start`` + the first poll) of a recording of
  ``cfg.replay_steps`` steps (10^6 in a full or quick run).
- ``replay/seek``: the slowest of three seeks, each timed from the command until every
  event it needs has been polled and pushed into a ``History`` (what the dashboard does
  with them): from the end back to the middle, from the end back to 10 steps before it
  (the whole file is skimmed again), and from the start forward to the middle. Polls run
  back to back: the dashboard polls every 20 ms, so add that per poll (the note says how
  many polls each took). Cut at ``SEEK_CAP`` seconds (then the row says so; not met).

The recording is made quickly: the step lines of a real ``bp-tui run healthy --out``
(``SOURCE_STEPS`` of them) repeated with new step numbers, as the run writes them
(stream version 2, every key on every line), then the end event.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from typing import TYPE_CHECKING

from bench.config import BenchConfig
from bench.report import Row

if TYPE_CHECKING:
    from bp_tui.tui.history import History
    from bp_tui.tui.sources.replay import ReplaySource

OPEN_TARGET = 3.0
SEEK_TARGET = 0.5
SEEK_CAP = 30.0
SOURCE_STEPS = 800  # the healthy scenario's own length
_STEP_NUMBER = re.compile(rb'^\{"type":"step","step":\d+,')


def _record(path: str, steps: int) -> None:
    from bp_tui import scenarios
    from bp_tui.tui.commands.headless import StopRequest, run

    out = io.StringIO()
    sc = scenarios.load("healthy").with_(steps=steps)
    run(sc, jsonl=False, out=path, stdout=out, stderr=out, stop=StopRequest())


def long_recording(folder: str, steps: int) -> str:
    """A recording of ``steps`` steps: a real run's step lines, renumbered, repeated."""
    source = os.path.join(folder, "source.jsonl")
    _record(source, min(steps, SOURCE_STEPS))
    with open(source, "rb") as f:
        head, *body, _end = f.read().splitlines(keepends=True)  # end: written anew
    # the text after each line's step number: the numbers are all that changes
    tails = [_STEP_NUMBER.sub(b"", line) for line in body]
    path = os.path.join(folder, "long.jsonl")
    with open(path, "wb") as f:
        f.write(head)
        for first in range(0, steps, 10_000):
            f.write(
                b"".join(
                    b'{"type":"step","step":%d,%s' % (i + 1, tails[i % len(tails)])
                    for i in range(first, min(first + 10_000, steps))
                )
            )
        f.write(b'{"type":"end","step":%d,"reason":"completed"}\n' % steps)
    os.unlink(source)
    return path


def _seek(source: ReplaySource, history: History, target: int) -> tuple[float, int]:
    """Seconds and polls until a seek to position ``target`` has been played."""
    polls = 0
    t0 = time.perf_counter()
    source.command("seek", target)  # recorded step k is at position k
    while (polls == 0 or source.position != target) and time.perf_counter() - t0 < SEEK_CAP:
        events = source.poll()
        if any(e["type"] == "reset" for e in events):
            history.clear()
        history.extend(e for e in events if e["type"] == "step")
        polls += 1
    return time.perf_counter() - t0, polls


def replay_rows(folder: str, steps: int) -> list[Row]:
    from bp_tui.tui.history import History
    from bp_tui.tui.sources.replay import ReplaySource
    from bp_tui.tui.sources.replay_index import index_stream

    t0 = time.perf_counter()
    path = long_recording(folder, steps)
    made = time.perf_counter() - t0
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    source = ReplaySource(path, speed=0, index=index_stream(path))
    source.start()
    first = source.poll()
    opened = time.perf_counter() - t0
    assert any(e["type"] == "step" for e in first), "the replay showed nothing"
    assert source.total == steps and source.fault is None

    history = History()
    source.command("pause")
    source.command("end")
    while source.position < source.total:
        source.poll()
    seeks = []
    for label, target in (
        ("end -> middle", steps // 2),
        ("middle -> end - 10", steps - 10),  # forward
        ("end - 10 -> 10 before it", steps - 20),  # back: reset, the whole file skimmed
    ):
        seconds, polls = _seek(source, history, target)
        seeks.append((seconds, f"{label} {seconds:.2f} s in {polls} polls"))
        if source.position != target:
            seeks[-1] = (SEEK_CAP, f"{label}: cut at {SEEK_CAP:g} s")
    source.close()
    what = f"{steps} steps, {size / 1e6:.0f} MB (v2, made in {made:.1f} s from a real run)"
    return [
        Row(
            "replay/open",
            "replay: open a long recording",
            "s",
            "<=",
            OPEN_TARGET,
            value=opened,
            note=f"{what}: index, start, first poll",
        ),
        Row(
            "replay/seek",
            "replay: seek to any step of it",
            "s",
            "<=",
            SEEK_TARGET,
            value=max(s for s, _ in seeks),
            absolute="; ".join(text for _, text in seeks),
            note=f"{what}; polls back to back, into a History",
        ),
    ]


def run(cfg: BenchConfig) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bp-bench-") as folder:
        return replay_rows(folder, cfg.replay_steps)
