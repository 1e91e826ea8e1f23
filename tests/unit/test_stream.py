"""core.stream: the EventWriter API and the robust reader (every valid event up to a fault)."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bp_tui.core.events import EVENT_VERSION, encode
from bp_tui.core.stream import EventWriter, StreamParser, read_stream

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write_stream(path: Path, steps: int) -> list[str]:
    """A valid stream of ``steps`` steps written by hand (not by EventWriter): its lines."""
    run = {"type": "run", "version": EVENT_VERSION, "layers": [{"name": "a"}, {"name": "b"}]}
    lines = [encode(run)]
    for i in range(1, steps + 1):
        lines.append(encode({"type": "step", "step": i, "loss": 1.0 / i, "grad_norm": [i, 2 * i]}))
    path.write_text("".join(line + "\n" for line in lines))
    return lines


def test_writer_round_trip_gives_back_every_value(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    layers = [("fc1", 2, 8, "relu"), ("fc2", 8, 1)]
    with EventWriter(path, layers=layers, title="demo", config={"lr": 0.1}, seed=3) as w:
        w.step(step=1, loss=0.7, grad_norm=np.array([0.5, 0.25]), dead=[2, None])
        w.step(step=2, loss=np.float32(0.5), clipped=True, global_grad_norm=1.5)
    raw = _lines(path)
    assert [e["type"] for e in raw] == ["run", "step", "step", "end"]
    assert raw[0]["version"] == EVENT_VERSION
    assert raw[0]["layers"] == [
        {"name": "fc1", "fan_in": 2, "fan_out": 8, "activation": "relu"},
        {"name": "fc2", "fan_in": 8, "fan_out": 1},
    ]
    assert raw[0]["title"] == "demo" and raw[0]["config"] == {"lr": 0.1} and raw[0]["seed"] == 3
    assert raw[1]["grad_norm"] == [0.5, 0.25] and raw[1]["dead"] == [2, None]
    assert raw[1]["finite"] is True
    assert raw[2]["loss"] == 0.5 and raw[2]["clipped"] is True
    assert raw[3] == {"type": "end", "step": 2, "reason": "completed"}

    got = read_stream(path)
    assert got.error is None
    assert got.run == raw[0] and got.end == raw[3] and got.events == raw[1:3]
    assert got.all_events() == raw


def test_names_only_and_non_finite_values(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with EventWriter(path, layers=["a", "b"]) as w:
        w.step(step=1, loss=float("nan"), grad_norm=[1.0, math.inf])
    run, step, _end = _lines(path)
    assert run["layers"] == [{"name": "a"}, {"name": "b"}]
    assert run["title"] == "run"  # the file stem when no title is given
    assert step["loss"] is None and step["grad_norm"] == [1.0, None]
    assert step["finite"] is False


class Scalar:
    """Stands in for a 0-d torch tensor: a value behind ``tolist()``."""

    def __init__(self, v: float) -> None:
        self.v = v

    def tolist(self) -> float:
        return self.v


def test_tensors_inside_lists_are_written_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with EventWriter(path, layers=["a", "b"]) as w:
        w.step(step=1, loss=Scalar(0.5), grad_norm=[Scalar(1.5), np.float32(2.0)])
        with pytest.raises(TypeError, match="grad_norm is per layer: a list, not float"):
            w.step(step=2, loss=1.0, grad_norm=3.0)
    step = _lines(path)[1]
    assert step["loss"] == 0.5 and step["grad_norm"] == [1.5, 2.0]


def test_exception_in_block_ends_stopped_and_propagates(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with pytest.raises(RuntimeError, match="boom"), EventWriter(path) as w:
        w.step(step=1, loss=1.0)
        raise RuntimeError("boom")
    assert _lines(path)[-1] == {"type": "end", "step": 1, "reason": "stopped"}


def test_writer_rejects_misuse_with_a_clear_message(tmp_path: Path) -> None:
    with EventWriter(tmp_path / "run.jsonl", layers=["a", "b"]) as w:
        with pytest.raises(TypeError, match="unknown step field 'gradnorm'"):
            w.step(step=1, loss=1.0, gradnorm=[1, 2])
        with pytest.raises(ValueError, match="grad_norm has 3 entries, the stream has 2 layers"):
            w.step(step=1, loss=1.0, grad_norm=[1, 2, 3])
        w.step(step=5, loss=1.0)
        with pytest.raises(ValueError, match="step 5 after step 5"):
            w.step(step=5, loss=1.0)
    # none of the rejected steps reached the file
    assert [e["type"] for e in _lines(tmp_path / "run.jsonl")] == ["run", "step", "end"]


def test_killed_writer_leaves_a_file_valid_up_to_its_last_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    code = (
        "import sys, time\n"
        "from bp_tui.core.stream import EventWriter\n"
        "w = EventWriter(sys.argv[1], layers=['a'])\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        "    w.step(step=i, loss=1.0 / i, grad_norm=[float(i)])\n"
        "    time.sleep(0.005)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().count("\n") >= 20:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    got = read_stream(path)
    assert got.error is None and got.end is None
    steps = [e["step"] for e in got.events]
    assert len(steps) >= 19 and steps == list(range(1, len(steps) + 1))


@pytest.mark.parametrize(
    ("content", "line", "message", "steps"),
    [
        # a writer killed mid-line: every complete step before it is kept
        (lambda lines: "".join(x + "\n" for x in lines[:4]) + lines[4][:20], 5, "truncated", 3),
        # a garbage line in the middle
        (
            lambda lines: "".join(x + "\n" for x in [*lines[:3], "hello", *lines[3:]]),
            4,
            "not valid JSON",
            2,
        ),
        # a value of the wrong type
        (
            lambda lines: (
                "".join(x + "\n" for x in lines[:3]) + '{"type":"step","step":3,"loss":"low"}\n'
            ),
            4,
            'loss: found "low", allowed a number or null',
            2,
        ),
        # steps that go backwards
        (
            lambda lines: "".join(x + "\n" for x in lines[:4]) + lines[1] + "\n",
            5,
            "step: found 1 after step 3",
            3,
        ),
        # a newer version: nothing can be read
        (
            lambda lines: (
                lines[0].replace(f'"version":{EVENT_VERSION}', '"version":99')
                + "\n"
                + "".join(x + "\n" for x in lines[1:])
            ),
            1,
            f"version: found 99, allowed {EVENT_VERSION} or older",
            0,
        ),
        # NaN literals are not strict JSON
        (
            lambda lines: (
                "".join(x + "\n" for x in lines[:2]) + '{"type":"step","step":2,"loss":NaN}\n'
            ),
            3,
            "NaN is not valid JSON",
            1,
        ),
        # events after the end
        (
            lambda lines: (
                "".join(x + "\n" for x in lines[:2])
                + '{"type":"end","step":1,"reason":"completed"}\n'
                + lines[2]
                + "\n"
            ),
            4,
            "a step event after the end event",
            1,
        ),
    ],
    ids=["truncated", "garbage", "wrong-type", "backwards", "newer-version", "nan", "after-end"],
)
def test_faults_keep_every_valid_step_before_them(
    tmp_path: Path, content, line: int, message: str, steps: int
) -> None:
    path = tmp_path / "run.jsonl"
    lines = _write_stream(path, 6)
    path.write_text(content(lines))
    got = read_stream(path)
    assert got.error is not None
    assert got.error.line == line
    assert message in str(got.error)
    assert str(got.error).startswith(f"{path}: line {line}: ")
    assert "\n" not in str(got.error)
    assert [e["step"] for e in got.events] == list(range(1, steps + 1))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    got = read_stream(empty)
    assert (
        got.events == []
        and str(got.error) == f"{empty}: empty file, allowed one JSON event per line"
    )
    missing = tmp_path / "nope.jsonl"
    got = read_stream(missing)
    assert got.events == [] and got.error is not None and got.error.line is None
    assert str(got.error) == f"{missing}: cannot read: no such file or directory"
    got = read_stream(tmp_path)  # a directory
    assert got.error is not None and str(got.error).startswith(f"{tmp_path}: cannot read: ")


def test_lenient_where_nothing_is_lost(tmp_path: Path) -> None:
    """Blank lines, unknown event types, a missing run event and a missing final newline
    are all read without a fault."""
    path = tmp_path / "run.jsonl"
    path.write_text(
        '{"type":"step","step":1,"loss":1}\n'
        "\n"
        '{"type":"marker","note":"from a newer writer"}\n'
        '{"type":"step","step":2}'
    )
    got = read_stream(path)
    assert got.error is None and got.run is None
    assert [e["step"] for e in got.events] == [1, 2]


def test_parser_fed_byte_by_byte_matches_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    _write_stream(path, 5)
    data = path.read_bytes() + b'{"type":"step","step":6,"lo'
    whole = read_stream(path)
    parser = StreamParser(path)
    events: list[dict] = []
    for i in range(len(data)):
        events.extend(parser.feed(data[i : i + 1]))
    assert events == whole.all_events()
    assert parser.error is None and parser.pending == len(b'{"type":"step","step":6,"lo')
    assert parser.finish() == [] and parser.error is not None and parser.error.line == 7


def test_parser_stops_buffering_a_line_without_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("bp_tui.core.stream.MAX_LINE_BYTES", 100)
    parser = StreamParser("x.jsonl")
    assert parser.feed(b"a" * 101) == []
    assert parser.error is not None and "longer than 100 bytes" in str(parser.error)
    assert parser.pending == 0 and parser.feed(b'{"type":"step","step":1}\n') == []


@pytest.mark.parametrize("version", [1, 2])
def test_both_stream_versions_read_and_v1_lacks_only_the_error_signal(
    tmp_path: Path, version: int
) -> None:
    """Version 2 added error_signal and fprime_mean; a version-1 recording still reads."""
    path = tmp_path / "run.jsonl"
    run = {"type": "run", "version": version, "layers": [{"name": "a"}, {"name": "b"}]}
    step = {"type": "step", "step": 1, "loss": 0.5, "grad_norm": [1.0, 2.0]}
    if version == 2:
        step |= {"error_signal": [0.5, 0.25], "fprime_mean": [0.4, None]}
    path.write_text(encode(run) + "\n" + encode(step) + "\n")
    contents = read_stream(path)
    assert contents.error is None and contents.run == run
    assert contents.events == [step]
