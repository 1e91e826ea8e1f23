"""Hostile input (issue 9): each case once gave a traceback, a hang or raw terminal
output; each now loads, or is one error of the project's own type, and every string
from a file reaches the terminal with its control characters made visible."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from bp_tui.core.events import EventDecodeError, decode
from bp_tui.core.safe_text import is_safe, json_depth, safe_strings, safe_text
from bp_tui.core.stream import EventWriter, read_stream
from bp_tui.scenarios import ScenarioError, list_builtin, load
from bp_tui.scenarios.loader import (
    MAX_LESSON,
    MAX_MEMORY_BYTES,
    flops_estimate,
    memory_estimate,
    scenario_from_config,
)
from bp_tui.tui.commands.replay import recorded_scenario
from bp_tui.tui.history import History
from bp_tui.tui.sources.replay_index import index_stream

OSC_TITLE = "\u001b]2;INJ\u0007"  # sets the terminal window's title
CLEAR = "\u001b[2J"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(ref: str | Path, **kw: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(ref, **kw)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    return info.value


# ---------------------------------------------------------------- safe_text


def test_safe_text_shows_controls_like_less() -> None:
    assert safe_text(OSC_TITLE + CLEAR) == "^[]2;INJ^G^[[2J"
    assert safe_text("a\x7fb\x00") == "a^?b^@"
    assert safe_text("\x9b31m") == "<U+009B>31m"  # C1 CSI, one byte in Latin-1 terminals
    assert safe_text("abc\u202edef") == "abc<U+202E>def"  # bidi override
    assert safe_text("x\ud800") == "x<U+D800>"  # a lone surrogate cannot be encoded
    assert safe_text("one\nline\ttab") == "one^Jline^Itab"
    assert safe_text("para\n\n\tindent\r", prose=True) == "para\n\n\tindent^M"
    assert safe_text("naïve — ∂L/∂w ✓") == "naïve — ∂L/∂w ✓"  # printable Unicode untouched
    assert safe_text("x" * 10, max_len=4) == "xxx…"


@pytest.mark.parametrize("code", [*range(0x20), *range(0x7F, 0xA0)])
def test_no_control_character_survives(code: int) -> None:
    shown = safe_text(f"a{chr(code)}b")
    assert is_safe(shown) and shown.encode("utf-8")
    kept = safe_text(f"a{chr(code)}b", prose=True)
    assert all(ord(c) >= 0x20 or c in "\n\t" for c in kept)


def test_safe_strings_and_depth() -> None:
    data = {"title": OSC_TITLE, "config": {"lesson": "a\nb" + CLEAR, "x": [CLEAR]}}
    got = safe_strings(data, prose_keys=frozenset({"lesson"}))
    assert got == {"title": "^[]2;INJ^G", "config": {"lesson": "a\nb^[[2J", "x": ["^[[2J"]}}
    deep: list = []
    for _ in range(5000):  # iterative: no RecursionError
        deep = [deep]
    assert json_depth(deep, 10) == 11
    assert json_depth({"a": [1, {"b": 2}]}, 10) == 3


# ---------------------------------------------------------------- the loader


def test_title_summary_lesson_and_fix_are_made_safe(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'title = "\\u001b]2;INJ\\u0007"\n'
        'summary = "s\\u001b[2J"\n'
        'lesson = """\nline one\n\tline \\u0007two\n"""\n'
        'steps = 3\n[fix]\nsummary = "f\\u001b]0;x\\u0007"\n',
    )
    s = load(path)
    assert s.title == "^[]2;INJ^G"
    assert s.summary == "s^[[2J"
    assert s.lesson == "line one\n\tline ^Gtwo\n"
    assert s.fix_summary == "f^[]0;x^G"


def test_a_file_name_with_an_escape_is_a_safe_scenario_name(tmp_path: Path) -> None:
    path = write(tmp_path, "steps = 3\n", name="a\x1b]2;X\x07.toml")
    assert load(path).name == "a^[]2;X^G"


@pytest.mark.parametrize("depth", [9, 300, 1000, 5000])
def test_nested_toml_is_one_error(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, "[model]\nhidden = " + "[" * depth + "1" + "]" * depth + "\n")
    err = error_of(path)
    assert err.key == "syntax" and "nested too deeply" in str(err)


def test_a_long_nested_value_is_shown_shortly(tmp_path: Path) -> None:
    path = write(tmp_path, "[model]\nhidden = [[[[1]]], " + "2, " * 50_000 + "]\n")
    err = error_of(path)
    assert err.key == "model.hidden" and len(str(err)) < 300


def test_empty_name_fifo_and_symlink_loop_are_named_truthfully(tmp_path: Path) -> None:
    assert "empty name" in str(error_of(""))
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert "found a FIFO" in str(error_of(fifo))  # and it returns: never opened
    loop = tmp_path / "loop.toml"
    os.symlink(tmp_path / "other.toml", loop)
    os.symlink(loop, tmp_path / "other.toml")
    assert "loop of symbolic links" in str(error_of(loop))
    assert "not found" in str(error_of(tmp_path / "missing.toml"))
    assert "found a directory" in str(error_of(tmp_path))


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbftitle = "t"\nsteps = 3\n')
    assert load(path).title == "t"


def test_semantic_errors_name_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'title = "t"\n\n[train]\n# rate\nlr = "x"\n[model]\nhidden = [0]\n')
    err = error_of(path)
    assert err.key == "train.lr" and err.line == 5 and str(err).endswith("(line 5)")
    path = write(tmp_path, 'title = "t"\n[fix]\nsummary = "s"\n[fix.train]\nlr = -1\n')
    assert error_of(path).line == 5
    path = write(tmp_path, "model = { hidden = [0] }\n")  # inline table: no line to name
    assert error_of(path).line is None


def test_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "# " + "x" * 2_000_000 + "\n")
    assert "bytes" in str(error_of(path))


def test_lesson_length_limit(tmp_path: Path) -> None:
    ok = write(tmp_path, f'lesson = "{"a" * MAX_LESSON}"\n')
    assert len(load(ok).lesson) == MAX_LESSON
    err = error_of(write(tmp_path, f'lesson = "{"a" * (MAX_LESSON + 1)}"\n'))
    assert err.key == "lesson" and "at most 20,000" in str(err)


def test_memory_estimate_counts_every_layer_and_the_probe(tmp_path: Path) -> None:
    # the case: the widest-layer check passed it, it needs tens of GB
    path = write(tmp_path, "[data]\nsamples = 100000\n[model]\nhidden = [500, 500, 500, 500]\n")
    err = error_of(path)
    assert err.key == "data.samples" and "GiB of memory" in str(err)
    scenario = load(write(tmp_path, "[data]\nsamples = 1000\n[model]\nhidden = [64, 32]\n"))
    # by hand: a minibatch row writes Z, A, dZ (fan_out) and dX (fan_in) per hidden layer,
    # Z and dX for the linear output; a probe row writes Z and A, Z for the output
    batch = 64 * ((3 * 64 + 2) + (3 * 32 + 64) + (1 + 32))
    probe = 1000 * (2 * 64 + 2 * 32 + 1)
    params = 3 * 64 + 65 * 32 + 33 * 1
    data = 1000 * 4
    assert memory_estimate(scenario) == 8 * (4 * params + batch + probe + data)
    assert memory_estimate(scenario) < MAX_MEMORY_BYTES


def test_time_estimate_refuses_a_run_of_days(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "steps = 10000000\n[model]\nhidden = [1000, 1000]\n"))
    assert err.key == "steps" and "floating-point operations" in str(err)
    small = load(write(tmp_path, "steps = 100\n[model]\nhidden = [10]\n"))
    weights = 2 * 10 + 10 * 1
    assert flops_estimate(small) == pytest.approx(100 * (6 * 64 * weights + 2 * 512 * weights / 50))
    path = write(tmp_path, "[model]\nhidden = [1000, 1000]\n")
    assert error_of(path, steps=10_000_000).key == "--steps"


# ---------------------------------------------------------------- decode and the reader


def test_decode_refuses_deep_nesting_and_huge_integers() -> None:
    with pytest.raises(EventDecodeError, match="nested too deeply"):
        decode("[" * 100_000 + "]" * 100_000)
    with pytest.raises(EventDecodeError, match="float64"):
        decode('{"type": "step", "step": 1, "loss": 1' + "0" * 400 + "}")
    assert decode('{"type": "step", "step": 1, "loss": 1' + "0" * 300 + "}")["loss"] == 10**300


def lines(path: Path, *events: object) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


RUN = {"type": "run", "version": 1, "title": "t", "layers": [{"name": "L1"}]}


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"type": "step", "step": 2, "loss": 1' + "0" * 400 + "}", "float64"),
        ('{"type": "step", "step": 2, "loss": 1e400}', "beyond float64"),
        ('{"type": "step", "step": 2, "loss": 1, "grad_norm": [1e999]}', "grad_norm"),
        (
            '{"type": "step", "step": 2, "loss": 1, "grad_norm": ' + "[" * 900 + "]" * 900 + "}",
            "nested",
        ),
        ('{"type": "end", "step": 2, "reason": 5}', "reason"),
        ('{"type": "end", "step": 2, "x": ' + "[" * 900 + "]" * 900 + "}", "nested"),
        ('{"type": "step", "step": 2, "grad_norm": [' + "1," * 100_000 + "1]}", "at most 256"),
    ],
)
def test_a_bad_later_line_is_a_fault_not_a_traceback(tmp_path: Path, bad: str, words: str) -> None:
    path = lines(tmp_path / "r.jsonl", RUN, {"type": "step", "step": 1, "loss": 0.5}, bad)
    for got in (read_stream(path), index_stream(path)):
        assert got.error is not None and got.error.line == 3 and words in str(got.error)
        assert "\n" not in str(got.error)
    assert len(read_stream(path).events) == 1


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ({**RUN, "title": 5}, "title"),
        ({**RUN, "layers": [{"name": ["x"]}]}, "layers[0].name"),
        ({**RUN, "layers": [{"name": "a", "fan_in": "2"}]}, "layers[0].fan_in"),
        ({**RUN, "config": json.loads("[" * 40 + "]" * 40)}, "nested"),
        ({**RUN, "layers": [{"name": "x"}] * 100_000}, "at most 256"),
    ],
)
def test_run_event_fields_are_checked(tmp_path: Path, run: dict, words: str) -> None:
    err = read_stream(lines(tmp_path / "r.jsonl", run)).error
    assert err is not None and err.line == 1 and words in str(err)


def test_run_and_end_text_from_a_stream_is_made_safe(tmp_path: Path) -> None:
    run = {**RUN, "title": OSC_TITLE, "scenario": CLEAR, "layers": [{"name": "L\x1b[31m"}]}
    end = {"type": "end", "step": 1, "reason": "done\x07"}
    path = lines(tmp_path / "r.jsonl", run, {"type": "step", "step": 1, "loss": 1}, end)
    got = read_stream(path)
    assert got.run is not None and got.end is not None
    assert got.run["title"] == "^[]2;INJ^G" and got.run["scenario"] == "^[[2J"
    assert got.run["layers"][0]["name"] == "L^[[31m" and got.end["reason"] == "done^G"
    assert index_stream(path).run == got.run


def test_run_text_from_a_stream_is_cut_to_a_bounded_length(tmp_path: Path) -> None:
    run = {**RUN, "title": "t" * 5_000_000, "layers": [{"name": "n" * 10**6}] * 4}
    run["config"] = {"lesson": "l\n" * 100_000}
    got = read_stream(lines(tmp_path / "r.jsonl", run))
    assert got.error is None and got.run is not None
    assert len(got.run["title"]) == 1000 and got.run["title"].endswith("…")
    assert {len(layer["name"]) for layer in got.run["layers"]} == {1000}
    assert len(got.run["config"]["lesson"]) == 20_000 and "\n" in got.run["config"]["lesson"]


def test_blank_lines_only_is_no_events(tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n" * 1_000_000)
    for got in (read_stream(path), index_stream(path)):
        assert got.error is not None and "no events in 1,000,000 lines" in str(got.error)
    path.write_text('{"type": "future"}\n')
    assert "no events" in str(read_stream(path).error)


@pytest.mark.parametrize(
    "config",
    [
        {"steps": "5000"},
        {"lesson": 5},
        {"title": ["x"]},
        {"model": {"hidden": "3"}},
        {"model": {"hidden": [10**400 // 10**390]}},
        {"data": "x"},
        {"unknown": 1},
        [1, 2],
        "config",
    ],
)
def test_recorded_config_of_wrong_types_falls_back_to_the_title(config: object) -> None:
    if isinstance(config, dict):  # one wrong key in the config a real run writes
        full = load("healthy").to_dict()
        for key, value in config.items():
            both = isinstance(value, dict) and isinstance(full.get(key), dict)
            full[key] = {**full[key], **value} if both else value
        config = full
    run = {**RUN, "title": "from the run", "config": config}
    scenario = recorded_scenario("r.jsonl", run, 7, "Replay of")
    assert scenario.title == "from the run" and scenario.steps == 7


def test_recorded_config_of_a_real_run_is_kept_and_checked() -> None:
    config = load("healthy").to_dict()
    scenario = scenario_from_config(config, "r.jsonl")
    assert scenario.model == load("healthy").model and scenario.lesson == load("healthy").lesson
    with pytest.raises(ScenarioError, match=r"config\.train\.lr"):
        scenario_from_config({**config, "train": {**config["train"], "lr": -1}}, "r.jsonl")


def test_history_takes_an_integer_beyond_float64() -> None:
    h = History(capacity=8)
    h.push({"type": "step", "step": 1, "loss": 10**400})
    h.push({"type": "step", "step": 2, "loss": 1.0})
    series = h.series("loss")
    assert series.nonfinite[0] and series.hi[-1] == 1.0


# ---------------------------------------------------------------- EventWriter


def test_writer_converts_what_a_training_loop_passes(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    with EventWriter(path, layers=["a", "b"], title=OSC_TITLE, seed=np.int64(3)) as w:
        w.step(1, 0.8, clipped=1, finite=np.bool_(True))
        w.step(np.int64(2), np.float32(0.5), clipped=0, grad_norm=np.array([1.0, 2.0]))
        w.step(np.array(3), np.array(0.25), clipped=np.bool_(False), dead=[np.int32(1), None])
        w.step(4, float("nan"), grad_norm=[np.float64("inf"), 1.0])
    got = read_stream(path)
    assert got.error is None and [e["step"] for e in got.events] == [1, 2, 3, 4]
    assert [e["clipped"] for e in got.events[:3]] == [True, False, False]
    assert got.events[1]["grad_norm"] == [1.0, 2.0] and got.events[2]["dead"] == [1, None]
    assert got.events[3]["finite"] is False and got.events[3]["grad_norm"] == [None, 1.0]
    assert got.run is not None and got.run["title"] == "^[]2;INJ^G" and got.run["seed"] == 3


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda w: w.step(2, 0.8, clipped=2), "clipped"),
        (lambda w: w.step(2, 0.8, finite="yes"), "finite"),
        (lambda w: w.step(2, "0.8"), "loss"),
        (lambda w: w.step(2.5, 0.8), "step"),
        (lambda w: w.step(True, 0.8), "found true"),
        (lambda w: w.step(2, 0.8, accuracy=10**400), "float64"),
        (lambda w: w.step(2, 0.8, grad_norm=[[1.0], [2.0]]), "grad_norm"),
        (lambda w: w.step(1, 0.8), "must increase"),
    ],
)
def test_writer_refuses_what_the_reader_would_at_the_call(tmp_path: Path, call, field: str) -> None:
    path = tmp_path / "w.jsonl"
    w = EventWriter(path, layers=["a", "b"])
    w.step(1, 1.0)
    with pytest.raises(ValueError, match=field):
        call(w)
    w.step(3, 0.5)  # the refused call left nothing behind
    w.close()
    got = read_stream(path)
    assert got.error is None and [e["step"] for e in got.events] == [1, 3]


def test_writer_refuses_a_bad_run_event_before_creating_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    with pytest.raises(ValueError, match="layers"):
        EventWriter(path, layers=[{"name": "a", "fan_in": "two"}])
    with pytest.raises(ValueError, match="JSON"):
        EventWriter(path, config={"x": object()})
    assert not path.exists()
    # a config this bp-tui did not write is fine: replay shows the run by its title
    with EventWriter(path, config={"steps": "5000", "lesson": 5}) as w:
        w.step(1, 0.5)
    assert recorded_scenario(str(path), read_stream(path).run, 1, "Replay of").steps == 1


def test_every_builtin_config_reads_back_from_its_run_event() -> None:
    """What `bp-tui run` records (schedules, input scaling, claims included) is a config
    the reader's checks accept: replaying our own recordings never falls back to title."""
    for info in list_builtin():
        for fix in (False, True) if load(info.name).has_fix else (False,):
            s = load(info.name, fix=fix)
            back = scenario_from_config(s.to_dict(), "r.jsonl")
            assert (back.data, back.model, back.train) == (s.data, s.model, s.train), info.name
