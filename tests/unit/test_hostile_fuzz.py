"""Random and adversarial scenario files and event streams (issue 9, must-hold 2).

Whatever the input (nesting depth, size, wrong types, numbers at float64's limits,
control characters, bytes that are not UTF-8), the loader either returns a Scenario or
raises ``ScenarioError``, and the stream reader returns the valid events plus at most
one ``StreamError``; never another exception, within a time and a memory bound. What
comes back is safe to print: no control character in any string shown.

Hypothesis runs derandomized (the same examples on every run, so a failure reproduces);
the table-driven cases below it are the adversarial extremes a generator rarely hits.
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bp_tui.core.safe_text import is_safe
from bp_tui.core.stream import StreamError, read_stream
from bp_tui.scenarios import ScenarioError, load
from bp_tui.scenarios.loader import _TABLES, _TOP
from bp_tui.tui.commands.replay import recorded_scenario
from bp_tui.tui.history import History
from bp_tui.tui.sources.replay import ReplaySource
from bp_tui.tui.sources.replay_index import StreamIndex, index_stream

TIME_BOUND = 5.0  # seconds per input, on a loaded 2-core machine
# bytes allocated per input (tracemalloc peak, NumPy's arrays included): History at 256
# layers, the reader's limit, holds 88 MB
MEMORY_BOUND = 128 * 1024 * 1024

FUZZ = settings(
    max_examples=60,
    deadline=None,  # the bound is asserted below, with a message that says which input
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---------------------------------------------------------------- value strategies

EDGE_FLOATS = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e-300]
EDGE_INTS = [0, -1, 2**31, 2**32 - 1, 2**53 + 1, 2**63, -(2**63) - 1, 10**308, 10**309]
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # TOML/UTF-8 cannot hold them
    max_size=40,
) | st.sampled_from(["\x1b]2;INJ\x07", "\x1b[2J", "\x9b31m", "a\u202eb", "\r\n\t\x00", "x" * 300])
SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.sampled_from(EDGE_INTS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(EDGE_FLOATS)
    | TEXT
)


def values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=max_leaves,
    )


# ---------------------------------------------------------------- TOML text


def toml_key(key: str) -> str:
    return (
        key
        if key and all(c.isalnum() or c in "_-" for c in key) and key.isascii()
        else toml_value(key)
    )


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # escapes controls as \u00XX, as TOML does
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


KNOWN_KEYS = {
    **{k: None for k in _TOP},
    **{f"{t}.{k}": None for t, keys in _TABLES.items() for k in keys},
}


@st.composite
def scenario_texts(draw: st.DrawFn) -> str:
    """A TOML file: known keys (and a few unknown) with values of any type."""
    keys = draw(st.lists(st.sampled_from(sorted(KNOWN_KEYS)) | TEXT, max_size=8, unique=True))
    top, tables = [], {}
    for key in keys:
        value = toml_value(draw(values()))
        if "." in key and key.split(".")[0] in _TABLES:
            table, sub = key.split(".", 1)
            tables.setdefault(table, []).append(f"{sub} = {value}")
        else:
            top.append(f"{toml_key(key)} = {value}")
    if draw(st.booleans()):
        tables.setdefault("fix", []).append(f"summary = {toml_value(draw(TEXT))}")
    body = "\n".join(top) + "\n"
    for table, lines in tables.items():
        body += f"[{table}]\n" + "\n".join(lines) + "\n"
    return body


# ---------------------------------------------------------------- the bounds


def bounded(what: str, fn: Callable[[], Any]) -> None:
    """Run ``fn()`` twice: timed (at most TIME_BOUND s), then under tracemalloc (which
    slows Python several times, so it is not timed) for its peak (MEMORY_BOUND)."""
    start = time.monotonic()
    fn()
    took = time.monotonic() - start
    assert took < TIME_BOUND, f"{what}: took {took:.1f} s"
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{what}: peak {peak / 1e6:.0f} MB"


def check_scenario_file(path: Path) -> None:
    def attempt() -> None:
        try:
            scenario = load(path)
        except ScenarioError as exc:
            assert "\n" not in str(exc)
            assert is_safe(str(exc).replace(str(path), ""))  # the file's own text, escaped
            return
        for text in (scenario.title, scenario.summary, scenario.fix_summary, scenario.name):
            assert is_safe(text)
        assert is_safe(scenario.lesson, prose=True)

    bounded(str(path), attempt)


def check_stream_file(path: Path) -> None:
    def attempt() -> None:
        got = read_stream(path)
        assert got.error is None or isinstance(got.error, StreamError)
        if got.error is not None:
            assert "\n" not in str(got.error) and is_safe(str(got.error).replace(str(path), ""))
        index = index_stream(path)
        assert index.run == got.run
        played, fault = replayed(path, index)  # step lines are checked as they play
        assert played == got.events and str(fault) == str(got.error)
        if got.run is not None:
            assert all(is_safe(s) for s in strings(got.run, skip="lesson"))
        history = History(capacity=2048)  # the dashboard's: its memory is in the bound
        history.set_run(got.run or {})
        history.extend(got.events)
        for key in ("loss", "accuracy"):
            history.series(key, width=8)
        scenario = recorded_scenario(str(path), got.run, history.last_step or 0, "Replay of")
        assert is_safe(scenario.title) and is_safe(scenario.lesson, prose=True)

    bounded(str(path), attempt)


def replayed(path: Path, index: StreamIndex) -> tuple[list[dict[str, Any]], Any]:
    """The steps a replay of ``path`` shows, played to its end, and its fault."""
    source = ReplaySource(path, speed=0, index=index, max_batch=3)
    source.start()
    steps: list[dict[str, Any]] = []
    for _ in range(1000):
        steps += [e for e in source.poll() if e["type"] == "step"]
        if source.status != "running":
            break
    source.close()
    return steps, source.fault


def strings(value: Any, skip: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != skip for s in [k, *strings(v, skip)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v, skip)]
    return []


# ---------------------------------------------------------------- properties


@FUZZ
@given(text=scenario_texts())
def test_random_scenarios_load_or_raise_scenario_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    check_scenario_file(path)


@FUZZ
@given(data=st.binary(max_size=400))
@pytest.mark.parametrize("suffix", ["toml", "jsonl"])
def test_random_bytes(tmp_path: Path, suffix: str, data: bytes) -> None:
    path = tmp_path / f"b.{suffix}"
    path.write_bytes(data)
    CHECKS[suffix](path)


STEP_KEYS = ["step", "loss", "accuracy", "lr", "grad_norm", "dead", "clipped", "finite"]


@st.composite
def event_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["run", "step", "end", "other", "raw"]))
    if kind == "raw":
        return draw(st.text(max_size=60))
    event: dict[str, Any] = {"type": kind if kind != "other" else draw(TEXT)}
    if kind == "run":
        event["version"] = draw(st.sampled_from([1, 0, 2, "1"]))
        event["title"] = draw(TEXT | values(4))
        event["layers"] = draw(
            st.lists(st.dictionaries(st.sampled_from(["name", "fan_in"]), values(3)), max_size=3)
        )
        event["config"] = draw(values(8))
    keys = draw(st.lists(st.sampled_from(STEP_KEYS), max_size=6, unique=True))
    for key in keys:
        event[key] = draw(values(6))
    if kind == "step":
        event.setdefault("step", draw(st.integers(min_value=0, max_value=50)))
        if draw(st.booleans()):  # "step" right after "type", as bp-tui writes it
            event = {"type": "step", "step": event.pop("step"), **event}
    # bp-tui's own spacing too: the replay index reads those step lines' numbers unparsed
    separators = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    try:  # strict JSON where the event allows it, else NaN / Infinity literals
        return json.dumps(event, allow_nan=False, separators=separators)
    except ValueError:
        return json.dumps(event, separators=separators)


@FUZZ
@given(lines=st.lists(event_lines(), max_size=12), newline=st.booleans())
def test_random_streams_read_to_the_first_fault(
    tmp_path: Path, lines: list[str], newline: bool
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(lines) + ("\n" if newline else ""), encoding="utf-8", errors="surrogatepass"
    )
    check_stream_file(path)


# ---------------------------------------------------------------- the extremes


RUN = '{"type": "run", "version": 1, "title": "t"}'
RUN_EVENT = json.loads(RUN)


# (id, the file's text): the extremes a generator rarely reaches
EXTREMES = [
    ("toml-depth-1e5", "hidden = " + "[" * 100_000 + "]" * 100_000),
    ("toml-depth-999", "[model]\nhidden = " + "[" * 999 + "]" * 999),
    ("toml-inline-depth", "a = " + "{b = " * 500 + "1" + "}" * 500),
    ("toml-dotted-2000", "[" + ".".join(["t"] * 2000) + "]\n"),
    ("toml-size", "lesson = '" + "x" * 900_000 + "'"),
    ("toml-digits", "steps = " + "9" * 5000),
    ("toml-float-limits", "steps = 1e309\n[train]\nlr = 1e-400"),
    ("toml-controls", "title = '\u001b]2;INJ\u0007'\nsummary = \"\\u001b[2J\\u0000\""),
    ("toml-blank-lines", "\n" * 500_000),
    ("toml-long-array", "x = [" + "1, " * 200_000 + "]"),
    ("jsonl-depth-2e5", RUN + "\n" + "[" * 200_000 + "]" * 200_000),
    (
        "jsonl-depth-990",
        RUN + '\n{"type": "step", "step": 1, "loss": ' + "[" * 990 + "]" * 990 + "}",
    ),
    (
        "jsonl-config-depth",
        '{"type": "run", "version": 1, "config": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}",
    ),
    ("jsonl-digits", '{"type": "step", "step": 1, "loss": 1' + "0" * 4000 + "}"),
    ("jsonl-inf-literals", '{"type": "step", "step": 1, "loss": 1e400, "lr": -1e400}'),
    ("jsonl-step-beyond-int64", '{"type": "step", "step": 99999999999999999999999, "loss": 1}'),
    (
        "jsonl-float-limits",
        '{"type": "step", "step": 1, "loss": 5e-324, "accuracy": 1.7976931348623157e308}',
    ),
    ("jsonl-controls", '{"type": "run", "version": 1, "title": "\\u001b]2;INJ\\u0007\\ud800"}'),
    ("jsonl-end-controls", '{"type": "end", "reason": "\\u001b[2J"}'),
    ("jsonl-blank-lines", "\n" * 1_000_000),
    (
        "jsonl-wide",
        '{"type": "step", "step": 1, "loss": 1, "grad_norm": [' + "1, " * 100_000 + "1]}",
    ),
    ("jsonl-no-newline", "x" * (17 * 1024 * 1024)),
]
CHECKS = {"toml": check_scenario_file, "jsonl": check_stream_file}


@pytest.mark.parametrize("text", [text for _, text in EXTREMES], ids=[i for i, _ in EXTREMES])
def test_adversarial_files(tmp_path: Path, request: pytest.FixtureRequest, text: str) -> None:
    suffix = request.node.callspec.id.split("-")[0]
    path = tmp_path / f"a.{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    CHECKS[suffix](path)


def test_the_widest_stream_the_reader_accepts_fits_the_memory_bound(tmp_path: Path) -> None:
    from bp_tui.core.stream import MAX_LAYERS

    path = tmp_path / "wide.jsonl"
    layers = [{"name": f"L{i}"} for i in range(MAX_LAYERS)]
    step = {"type": "step", "step": 1, "loss": 1.0, "grad_norm": [1.0] * MAX_LAYERS}
    path.write_text(json.dumps({**RUN_EVENT, "layers": layers}) + "\n" + json.dumps(step) + "\n")
    assert read_stream(path).error is None
    check_stream_file(path)
