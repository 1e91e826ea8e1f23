"""ReplaySource and FollowSource, driven with a fake clock (no sleeping, no UI).

A tiny model of the app (``Shown``) applies polled events the way the dashboard does:
``reset`` clears, ``step`` appends. Every assertion compares what it shows with the
steps of the file, read independently with ``json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bp_tui.core.events import EVENT_VERSION, encode
from bp_tui.core.stream import read_stream
from bp_tui.tui.sources.follow import FollowSource
from bp_tui.tui.sources.replay import ReplaySource
from bp_tui.tui.sources.replay_index import StepReader, index_stream

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Shown:
    """What the app would show: the run, the steps since the last reset, the end."""

    def __init__(self) -> None:
        self.run: dict[str, Any] | None = None
        self.steps: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self.resets = 0

    def apply(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e["type"] == "reset":
                self.resets += 1
                self.run, self.steps, self.end = None, [], None
            elif e["type"] == "run":
                self.run = e
            elif e["type"] == "step":
                self.steps.append(e)
            elif e["type"] == "end":
                self.end = e

    @property
    def numbers(self) -> list[int]:
        return [e["step"] for e in self.steps]


def _lines(n: int, *, every: int = 1, end: bool = True) -> list[str]:
    run = {"type": "run", "version": EVENT_VERSION, "title": "t", "layers": [{"name": "a"}]}
    out = [encode(run)]
    for i in range(1, n + 1):
        out.append(encode({"type": "step", "step": i * every, "loss": 1.0 / i, "grad_norm": [i]}))
    if end:
        out.append(encode({"type": "end", "step": n * every, "reason": "completed"}))
    return [x + "\n" for x in out]


def _steps_of(path: Path) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["type"] == "step"]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "run.jsonl"
    path.write_text("".join(_lines(100, every=10)))  # steps 10, 20, ..., 1000
    return path


def _replay(path: Path, **kw: Any) -> tuple[ReplaySource, Clock, Shown]:
    clock = Clock()
    src = ReplaySource(path, clock=clock, **kw)
    src.start()
    return src, clock, Shown()


def test_replay_plays_at_its_speed_in_training_steps(recording: Path) -> None:
    src, clock, shown = _replay(recording, speed=200)  # the file logs every 10th step
    shown.apply(src.poll())
    assert shown.run is not None and shown.steps == []
    clock.t += 1.0
    shown.apply(src.poll())
    assert shown.steps == _steps_of(recording)[:20]
    assert src.status == "running" and src.detail == "replay 20/100 recorded steps"
    clock.t += 1 / 32  # 6.25 training steps: not yet the next recorded one
    assert src.poll() == []
    clock.t += 1 / 32
    shown.apply(src.poll())
    assert shown.numbers[-1] == 210
    clock.t += 10.0
    shown.apply(src.poll())
    assert shown.steps == _steps_of(recording) and shown.end is not None
    assert src.status == "ended"
    clock.t += 10.0
    assert src.poll() == []  # the end is delivered once


def test_pause_single_step_and_speed(recording: Path) -> None:
    src, clock, shown = _replay(recording, speed=100)
    src.command("pause")
    clock.t += 5.0
    shown.apply(src.poll())
    assert shown.steps == [] and src.status == "paused"
    src.command("step")
    src.command("step")
    shown.apply(src.poll())
    shown.apply(src.poll())
    shown.apply(src.poll())
    assert shown.numbers == [10, 20]
    src.command("speed", 0)  # unlimited
    src.command("resume")
    shown.apply(src.poll())
    assert shown.numbers == [s["step"] for s in _steps_of(recording)]


def test_seeking_back_starts_again_and_replays_up_to_the_target(recording: Path) -> None:
    src, _clock, shown = _replay(recording, speed=0)
    shown.apply(src.poll())
    assert len(shown.steps) == 100
    src.command("seek", 255)  # between steps: the last step <= 255
    shown.apply(src.poll())
    assert shown.resets == 1 and shown.run is not None and shown.end is None
    assert shown.steps == _steps_of(recording)[:25]
    assert src.status == "paused"  # reached the end, so it stays put after the seek


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        ([("seek_rel", -1)], 99),
        ([("seek_frac", -0.1)], 90),
        ([("seek_frac", -0.1), ("seek_frac", -0.1)], 80),  # counts from the pending target
        ([("home", None)], 0),
        ([("home", None), ("seek_rel", 3)], 3),
        ([("home", None), ("end", None)], 100),
        ([("seek_rel", -1000)], 0),
        ([("seek", 10_000)], 100),
    ],
)
def test_seek_commands_land_on_the_right_step(
    recording: Path, commands: list[tuple[str, Any]], expected: int
) -> None:
    src, _clock, shown = _replay(recording, speed=0)
    shown.apply(src.poll())
    for name, value in commands:
        src.command(name, value)
    shown.apply(src.poll())
    assert shown.steps == _steps_of(recording)[:expected]
    assert src.position == expected
    assert (shown.end is not None) == (expected == 100)


def test_long_catch_up_is_spread_over_polls(recording: Path) -> None:
    src, _clock, shown = _replay(recording, speed=1, max_batch=30)
    src.command("seek", 1000)
    sizes = []
    for _ in range(5):
        events = src.poll()
        sizes.append(sum(e["type"] == "step" for e in events))
        shown.apply(events)
    assert sizes == [30, 30, 30, 10, 0]
    assert shown.steps == _steps_of(recording)


def test_damaged_recording_replays_up_to_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    lines = _lines(10)
    path.write_text("".join([*lines[:6], "{oops\n", *lines[6:]]))
    src, _clock, shown = _replay(path, speed=0)
    assert src.status == "running" and src.fault is not None
    shown.apply(src.poll())
    assert shown.numbers == [1, 2, 3, 4, 5]
    assert src.status.startswith(f"error: {path}: line 7: not valid JSON")


@pytest.mark.parametrize(
    "text",
    [
        "".join(_lines(12)),
        "".join(_lines(12))[:-3],  # the end line cut short: a truncated last line
        "".join(_lines(12))[:-1],  # a sound last line without its newline
        "".join(_lines(5)[:4]) + "\n\n" + '{"type":"note"}\n' + "".join(_lines(5)[4:]),
        "".join([*_lines(9)[:5], "{oops\n", *_lines(9)[5:]]),
        "".join(_lines(3)[:2]) + encode({"type": "step", "step": 2**70, "loss": 1}) + "\n",
        "",
    ],
    ids=["sound", "cut", "no-final-newline", "blank-and-unknown", "damaged", "huge-step", "empty"],
)
def test_index_reads_back_what_read_stream_reads(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(text)
    expected = read_stream(path)
    index = index_stream(path)
    assert (index.run, index.end) == (expected.run, expected.end)
    if "2**63" in str(index.error):  # read_stream has no such limit: the index stops there
        assert str(index.error).endswith(
            "line 3: step: found 1180591620717411303424, allowed an integer below 2**63"
        )
        expected.events = expected.events[:1]
    else:
        assert str(index.error) == str(expected.error)
    # read back through a window smaller than one line: one step per read, in order
    reader = StepReader(index, max_bytes=10)
    got: list[dict[str, Any]] = []
    while len(got) < len(index):
        n = reader.fit(len(got), 1000)
        assert n == 1
        got += reader.read(len(got), n)
    reader.close()
    assert got == expected.events
    assert index.steps.tolist() == [e["step"] for e in expected.events]


def test_replay_stops_with_an_error_when_the_file_changes_under_it(recording: Path) -> None:
    src, _clock, shown = _replay(recording, speed=0, max_batch=40)
    shown.apply(src.poll())
    assert shown.numbers[-1] == 400
    recording.write_text("".join(_lines(100, every=3)))  # re-recorded while replaying
    shown.apply(src.poll())
    assert shown.numbers[-1] == 400 and shown.end is None  # nothing that was not validated
    assert src.status == f"error: {recording}: changed while replaying: replay it again to see it"
    assert src.poll() == []


def _poll_until_done(src: ReplaySource, shown: Shown, polls: int = 2000) -> None:
    for _ in range(polls):
        shown.apply(src.poll())
        if src.status != "running" and not src._skim and src._target is None:
            return
    raise AssertionError(f"still {src.status} after {polls} polls")


# Step lines that begin as bp-tui writes them, so the index takes their numbers unparsed:
# each fault is found when the line is played, in read_stream's words.
BAD_STEP_LINES = [
    '{"type":"step","step":7,"loss":0.5',  # cut short
    '{"type":"step","step":7,"loss":"low"}',
    '{"type":"step","step":7,"loss":1,"grad_norm":[1e999]}',
    '{"type":"step","step":7,"loss":1,"clipped":3}',
]


@pytest.mark.parametrize("bad", BAD_STEP_LINES)
def test_a_faulty_step_line_is_found_when_played_in_the_reader_s_words(
    tmp_path: Path, bad: str
) -> None:
    path = tmp_path / "run.jsonl"
    lines = _lines(12)  # run, steps 1..12, end
    path.write_text("".join([*lines[:7], bad + "\n", *lines[8:]]))
    expected = read_stream(path)
    assert expected.error is not None and expected.error.line == 8
    assert index_stream(path).error is None  # not parsed when the file was opened
    src, _clock, shown = _replay(path, speed=0, max_batch=4)
    _poll_until_done(src, shown)
    assert shown.steps == expected.events and shown.numbers == [1, 2, 3, 4, 5, 6]
    assert src.status == f"error: {expected.error}" and shown.end is None
    assert src.total == 6 and src.poll() == []


@pytest.mark.parametrize(
    "bad",
    [
        '{"type":"step","step":7,"loss":1,"step":9}',
        '{"type":"step","step":7,"loss":1,"type":"end"}',
        '{"type":"step","step":7,"loss":1,"type":"note"}',
    ],
)
def test_a_step_line_that_gives_type_or_step_twice_stops_the_replay_there(
    tmp_path: Path, bad: str
) -> None:
    """The index reads a step line's start only; JSON's last duplicate key wins, so such
    a line is another event than its start says: the replay stops there, saying so."""
    path = tmp_path / "run.jsonl"
    lines = _lines(12)
    path.write_text("".join([*lines[:7], bad + "\n", *lines[8:]]))
    src, _clock, shown = _replay(path, speed=0)
    _poll_until_done(src, shown)
    assert shown.numbers == [1, 2, 3, 4, 5, 6] and shown.end is None
    assert src.status == (
        f'error: {path}: line 8: found "type" or "step" given twice in a step line, '
        "allowed each key once"
    )


def _long_recording(path: Path, n: int, bad_at: int | None = None) -> list[dict[str, Any]]:
    """Steps 1..n as bp-tui writes them (line k + 1 holds step k), step ``bad_at``'s line
    damaged; returns the steps read_stream reads."""
    lines = _lines(n)
    if bad_at is not None:
        lines[bad_at] = BAD_STEP_LINES[1].replace('"step":7', f'"step":{bad_at}') + "\n"
    path.write_text("".join(lines))
    return read_stream(path).events


def test_a_far_seek_skims_then_reads_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Far from the target one step in SKIM_EVERY is read; the last SKIM_TAIL steps before
    it are all read, and playback goes on from there."""
    from bp_tui.tui.sources import replay

    monkeypatch.setattr(replay, "SKIM_EVERY", 10)
    monkeypatch.setattr(replay, "SKIM_TAIL", 20)
    path = tmp_path / "run.jsonl"
    steps = _long_recording(path, 200)
    src, _clock, shown = _replay(path, speed=0, max_batch=7)
    src.command("pause")
    src.command("seek", 155)
    _poll_until_done(src, shown)
    skimmed = [1, *range(11, 130, 10)]  # positions 0, 10, ..., 120
    assert shown.numbers == [*skimmed, *range(131, 156)]
    assert shown.steps == [steps[k - 1] for k in shown.numbers]  # as written, checked
    assert src.position == 155 and src.status == "paused"
    src.command("step")
    shown.apply(src.poll())
    assert shown.steps[-1] == steps[155]


def test_a_fault_a_seek_skimmed_over_ends_the_replay_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lines a skim jumps over are checked behind it: a fault among them ends the
    replay there as if it had been played (shown again from the start up to it)."""
    from bp_tui.tui.sources import replay

    monkeypatch.setattr(replay, "SKIM_EVERY", 10)
    monkeypatch.setattr(replay, "SKIM_TAIL", 20)
    path = tmp_path / "run.jsonl"
    steps = _long_recording(path, 200, bad_at=57)  # line 58; no skim reads step 57
    expected = read_stream(path)
    assert len(steps) == 56 and expected.error is not None and expected.error.line == 58
    src, _clock, shown = _replay(path, speed=0, max_batch=7, max_bytes=1000)
    src.command("pause")
    src.command("seek", 155)
    _poll_until_done(src, shown)
    assert shown.numbers[-1] == 155  # the seek arrives first; the check runs behind it
    for _ in range(200):
        shown.apply(src.poll())
        if src.status.startswith("error"):
            break
    assert shown.resets == 1 and shown.run is not None and shown.end is None
    assert shown.numbers == [1, 11, 21, *range(31, 57)]  # skimmed again, up to the fault
    assert shown.steps == [steps[k - 1] for k in shown.numbers]
    assert src.status == f"error: {expected.error}" and src.total == 56


# A bp-tui step line of a 3-layer network as the trainer writes it (~570 bytes).
WIDE_STEP = {
    "loss": 0.587271787755852,
    "accuracy": 0.755859375,
    "lr": 0.1,
    "grad_norm": [0.24643164335706708, 1.3129522656199106, 1.096316053617936],
    "bias_grad_norm": [0.13203682939795788, 0.13944999525785173, 0.09660559484267837],
    "weight_norm": [10.777527470257292, 11.293557722111217, 1.53528021980546],
    "update_ratio": [0.0022866205658655884, 0.011626863862242307, 0.07172971758492978],
    "dead": [0, 10, None],
    "saturated": [None, None, None],
    "global_grad_norm": 1.7414631097196158,
    "clip_threshold": None,
    "clipped": False,
    "clip_steps": 0,
    "clipped_values": [0, 0, 0],
    "finite": True,
}

MEASURE = """
import json, resource, sys
from bp_tui.tui.sources.replay import ReplaySource

def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

path, n = sys.argv[1], int(sys.argv[2])
before = peak_kb()
src = ReplaySource(path, speed=0, clock=lambda: 0.0)
src.start()
seen, picks = 0, {}
while src.status != "ended":  # everything, as fast as it goes, the events then dropped
    for e in src.poll():
        if e["type"] == "step":
            seen += 1
            if seen in (1, n // 3, n):
                picks[seen] = e
src.command("seek", n // 2)  # back: reset, then the steps up to there from the file again
again = []
while src._target is not None:
    again = [e for e in src.poll() if e["type"] == "step"] or again
print(json.dumps({"grew_kb": peak_kb() - before, "seen": seen, "picks": picks,
                  "again": again[-1], "position": src.position}))
"""


@pytest.mark.slow
def test_replay_memory_grows_far_less_than_the_recording(tmp_path: Path) -> None:
    n = 200_000
    path = tmp_path / "big.jsonl"
    run = {"type": "run", "version": EVENT_VERSION, "layers": [{"name": x} for x in "abc"]}
    with open(path, "w") as f:
        f.write(encode(run) + "\n")
        for start in range(1, n + 1, 10_000):
            block = [
                {"type": "step", "step": i, **WIDE_STEP, "loss": 1.0 / i}
                for i in range(start, start + 10_000)
            ]
            f.write("".join(encode(e) + "\n" for e in block))
        f.write(encode({"type": "end", "step": n, "reason": "completed"}) + "\n")
    size = path.stat().st_size
    # a fresh interpreter, so that its peak RSS is the replay's and nothing else's
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(n)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    got = json.loads(done.stdout)
    lines = path.read_text().splitlines()
    assert got["seen"] == n and got["position"] == n // 2
    for k, event in got["picks"].items():
        assert event == json.loads(lines[int(k)])  # step k is line k + 1 (after the run)
    assert got["again"] == json.loads(lines[n // 2])
    # Holding the events (as the first version did) costs ~5x the file; the index
    # costs 24 bytes per step (4 % of this file), plus one poll's batch of events.
    assert got["grew_kb"] * 1024 < 0.10 * size, (got["grew_kb"], size)


def test_follow_waits_then_reads_appended_steps_and_partial_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    clock = Clock()
    src = FollowSource(path, clock=clock)
    src.start()
    shown = Shown()
    shown.apply(src.poll())
    assert src.detail == f"waiting for {path} to appear" and src.status == "running"
    lines = _lines(5, end=False)
    with open(path, "w") as f:
        f.write("".join(lines[:3]) + lines[3][:10])  # the writer is mid-line
        f.flush()
        shown.apply(src.poll())
        assert shown.run is not None and shown.numbers == [1, 2]
        f.write(lines[3][10:] + lines[4])
        f.flush()
        shown.apply(src.poll())
        assert shown.numbers == [1, 2, 3, 4]
        assert src.detail == f"following {path}: 4 steps"
        clock.t += 12.0
        assert src.detail.endswith("writer silent for 12 s")
        f.write(encode({"type": "end", "step": 4, "reason": "stopped"}) + "\n")
    shown.apply(src.poll())
    assert shown.end is not None and src.status == "ended"
    clock.t += 60.0
    assert src.detail.endswith("run ended (stopped)")


def _following(tmp_path: Path, n: int) -> tuple[Path, FollowSource, Shown]:
    """A complete run of ``n`` steps in a file, followed and shown once."""
    path = tmp_path / "run.jsonl"
    path.write_text("".join(_lines(n)))
    src = FollowSource(path, clock=Clock())
    src.start()
    shown = Shown()
    shown.apply(src.poll())
    assert shown.numbers == list(range(1, n + 1)) and src.status == "ended"
    return path, src, shown


@pytest.mark.parametrize("how", ["truncate", "replace"])
def test_follow_starts_again_when_the_file_is_truncated_or_replaced(
    tmp_path: Path, how: str
) -> None:
    path, src, shown = _following(tmp_path, 8)
    new = "".join(_lines(3, end=False))
    if how == "truncate":
        with open(path, "r+") as f:
            f.truncate(0)
            f.write(new)
    else:
        tmp = tmp_path / "new.jsonl"
        tmp.write_text(new)
        os.replace(tmp, path)
    shown.apply(src.poll())
    assert shown.resets == 1 and shown.numbers == [1, 2, 3] and shown.end is None
    assert src.status == "running"


def test_follow_reads_a_replaced_file_to_its_end_before_switching(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    old = _lines(6, end=False)
    with open(path, "w") as writer:
        writer.write("".join(old[:3]))
        writer.flush()
        src = FollowSource(path, clock=Clock(), max_read=100)  # several polls per file
        src.start()
        shown = Shown()
        for _ in range(10):
            shown.apply(src.poll())
        assert shown.numbers == [1, 2]
        # the writer's last lines land in the old file just as a new run replaces it
        writer.write("".join(old[3:]))
    tmp = tmp_path / "new.jsonl"
    tmp.write_text("".join(_lines(2, end=False)))
    os.replace(tmp, path)
    before_reset: list[int] = []
    for _ in range(30):
        events = src.poll()
        if shown.resets == 0:
            cut = next((i for i, e in enumerate(events) if e["type"] == "reset"), len(events))
            before_reset += [e["step"] for e in events[:cut] if e["type"] == "step"]
        shown.apply(events)
    assert before_reset == [3, 4, 5, 6]  # the old file's tail, read before the switch
    assert shown.resets == 1 and shown.numbers == [1, 2] and src.status == "running"


def test_follow_notices_a_rewrite_that_grew_past_the_read_position(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("".join(_lines(5, end=False)))
    src = FollowSource(path, clock=Clock())
    src.start()
    shown = Shown()
    shown.apply(src.poll())
    assert shown.numbers == [1, 2, 3, 4, 5]
    inode = os.stat(path).st_ino
    # between two polls: truncated, and a new run (other losses) written past the old end
    new = "".join(_lines(9, every=7, end=False))
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(new)
    assert os.stat(path).st_ino == inode and len(new) > src._offset
    shown.apply(src.poll())
    assert shown.resets == 1
    assert shown.steps == _steps_of(path)  # the new run, every step, from its start
    shown.apply(src.poll())
    assert shown.resets == 1  # and it keeps following the new run without starting again


def test_follow_reports_a_fault_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    lines = _lines(4, end=False)
    path.write_text("".join([*lines[:3], "garbage\n", lines[3]]))
    src = FollowSource(path, clock=Clock())
    src.start()
    shown = Shown()
    shown.apply(src.poll())
    assert shown.numbers == [1, 2]
    assert src.status.startswith(f"error: {path}: line 4: not valid JSON")


def test_follow_pause_holds_reading(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("".join(_lines(3, end=False)))
    src = FollowSource(path, clock=Clock())
    src.start()
    src.command("pause")
    assert src.poll() == [] and src.status == "paused"
    src.command("resume")
    shown = Shown()
    shown.apply(src.poll())
    assert shown.numbers == [1, 2, 3] and src.status == "running"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{path}: cannot read: no such file or directory"),
        ("", "{path}: empty file, allowed one JSON event per line"),
        (
            '{"type":"run","version":3}\n',
            "{path}: line 1: version: found 3, allowed 2 or older "
            "(the stream was written by a newer bp-tui: upgrade to read it)",
        ),
        ("\x00\x01garbage\n", "{path}: line 1: not valid JSON"),
    ],
    ids=["missing", "empty", "newer-version", "garbage"],
)
def test_replay_cli_reports_a_file_it_cannot_show_in_one_line(
    tmp_path: Path, capsys, content: str | None, message: str
) -> None:
    from bp_tui.tui.commands.cli import main

    path = tmp_path / "run.jsonl"
    if content is not None:
        path.write_text(content)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bp-tui: error: " + message.format(path=path))
    assert err.count("\n") == 1 and "Traceback" not in err
    if content:  # watch refuses the same file (a missing one it waits for)
        assert main(["watch", str(path)]) == 2
        assert capsys.readouterr().err.startswith("bp-tui: error: " + message.format(path=path))


class _Inner:
    """A minimal source: hands out scripted batches, one per poll."""

    status = "running"

    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self.batches, self.closed = batches, False

    def start(self) -> None: ...

    def poll(self) -> list[dict[str, Any]]:
        return self.batches.pop(0) if self.batches else []

    def command(self, name: str, value: Any = None) -> None: ...

    def close(self) -> None:
        self.closed = True


def test_recording_tees_each_batch_and_ends_a_cut_run_as_stopped(tmp_path: Path) -> None:
    from bp_tui.tui.sources.record import RecordingSource

    events = [json.loads(x) for x in _lines(6, end=False)]
    batches = [events[:3], [{"type": "error", "message": "not a stream event"}], events[3:]]
    path = tmp_path / "rec.jsonl"
    src = RecordingSource(_Inner(batches), path)
    src.start()
    seen = src.poll()
    assert seen == events[:3]
    assert [json.loads(x) for x in path.read_text().splitlines()] == events[:3]  # flushed
    assert src.poll()[0]["type"] == "error"  # passed on to the UI, not recorded
    src.poll()
    src.close()
    assert src.inner.closed
    written = [json.loads(x) for x in path.read_text().splitlines()]
    assert written == [*events, {"type": "end", "step": 6, "reason": "stopped"}]
    src.close()  # idempotent
    assert path.read_text().count("\n") == 8


def test_follow_rereads_a_rewritten_file_not_stale_buffered_bytes(tmp_path: Path) -> None:
    """With small reads, a buffered reader's seek(0) stayed inside its read-ahead buffer
    and handed back the old bytes after a rewrite: resets repeated forever."""
    path = tmp_path / "run.jsonl"
    path.write_text("".join(_lines(40, end=False)))
    src = FollowSource(path, clock=Clock(), max_read=64)
    src.start()
    shown = Shown()
    for _ in range(5):  # part of the file read: the rest sits in any read-ahead buffer
        shown.apply(src.poll())
    new = "".join(_lines(40, every=3, end=False))  # same length per line or longer
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(new)
    for _ in range(400):
        shown.apply(src.poll())
    assert shown.resets == 1
    assert shown.steps == _steps_of(path)


def test_follow_reads_a_fifo_as_a_stream_without_blocking(tmp_path: Path) -> None:
    """``bp-tui watch FIFO`` hung before a writer came, and a pipe's size 0 was taken for
    a truncation (``seek`` failed: "not seekable"). A FIFO is now read as it comes."""
    import time

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    src = FollowSource(fifo, clock=Clock())
    src.start()
    shown = Shown()
    t0 = time.monotonic()
    shown.apply(src.poll())  # no writer yet: returns at once
    assert time.monotonic() - t0 < 1.0 and shown.steps == []
    assert src.detail == f"waiting for a writer of {fifo}"
    lines = _lines(30, end=False)
    fd = os.open(fifo, os.O_WRONLY)
    try:
        os.write(fd, "".join(lines[:10]).encode())
        for _ in range(5):
            shown.apply(src.poll())
        assert shown.numbers == list(range(1, 10)) and shown.resets == 0
        os.write(fd, "".join(lines[10:]).encode())
        for _ in range(5):
            shown.apply(src.poll())
    finally:
        os.close(fd)
    shown.apply(src.poll())
    assert shown.numbers == list(range(1, 31)) and shown.resets == 0
    assert shown.run is not None and src.status == "running"
    # a new writer (the FIFO opened again): a new stream, from its start
    fd = os.open(fifo, os.O_WRONLY)
    try:
        os.write(fd, "".join(_lines(3)).encode())
    finally:
        os.close(fd)
    for _ in range(3):
        shown.apply(src.poll())
    assert shown.resets == 1 and shown.numbers == [1, 2, 3] and src.status == "ended"
    # the next writer opens before this side saw EOF: the ended run is followed directly
    # by the next one's run event (a recording dashboard's `r`), still a new run
    fd = os.open(fifo, os.O_WRONLY)
    try:
        os.write(fd, "".join(_lines(2)).encode())
        shown.apply(src.poll())
        os.write(fd, "".join(_lines(4, every=2)).encode())
        for _ in range(3):
            shown.apply(src.poll())
    finally:
        os.close(fd)
    assert shown.resets == 3 and shown.numbers == [2, 4, 6, 8] and src.status == "ended"
    src.close()


def test_follow_reads_an_anonymous_pipe_from_its_first_byte(tmp_path: Path) -> None:
    """``bp-tui watch <(cmd)``: /dev/fd/N of a pipe; nothing may be read before the
    source (the title was taken from the first MiB, which was then lost)."""
    from bp_tui.tui.commands.replay import _head

    read_end, write_end = os.pipe()
    try:
        os.write(write_end, "".join(_lines(5)).encode())
        os.close(write_end)
        path = f"/proc/self/fd/{read_end}"
        assert _head(path).lines == 0  # the pipe is left to the source
        src = FollowSource(path, clock=Clock())
        src.start()
        shown = Shown()
        for _ in range(3):
            shown.apply(src.poll())
        assert shown.run is not None and shown.numbers == [1, 2, 3, 4, 5]
        assert shown.resets == 0 and src.status == "ended"
        src.close()
    finally:
        os.close(read_end)


def test_replay_refuses_a_fifo_in_one_line_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("bp-tui")), "replay", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # opening the FIFO would wait for a writer forever
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"bp-tui: error: {fifo}: found a pipe or FIFO, which cannot be sought, "
        "allowed a regular file (bp-tui watch FILE follows a stream)\n"
    )


def test_follow_a_file_replaced_by_a_fifo_never_blocks(tmp_path: Path) -> None:
    """The watched path replaced by a FIFO hung the dashboard in open()."""
    import time

    path, src, shown = _following(tmp_path, 4)
    path.unlink()
    os.mkfifo(path)
    t0 = time.monotonic()
    for _ in range(3):
        shown.apply(src.poll())
    assert time.monotonic() - t0 < 1.0
    assert shown.resets == 1 and shown.steps == []
    assert src.detail == f"waiting for a writer of {path}"
    src.close()
