"""The installed ``bp-tui`` command, run as a user runs it: in a subprocess.

Bad input must give one line on stderr (``bp-tui: error: FILE: KEY: ...``), exit
status 2, no traceback and no file left behind; ``run --jsonl`` must be a strict,
reproducible event stream, and ``--out`` the same bytes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bp_tui.core import mlp as core_mlp
from bp_tui.core.config import ACTIVATIONS
from bp_tui.scenarios import list_builtin, load
from bp_tui.tui.commands import cli

BP_TUI = Path(sys.executable).with_name("bp-tui")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # tiny nets: one thread is fastest


def bp_tui(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert BP_TUI.exists(), f"bp-tui is not installed beside {sys.executable}"
    return subprocess.run(
        [str(BP_TUI), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=ENV
    )


def strict_events(text: str) -> list[dict]:
    """Parse a JSONL stream, rejecting NaN/Infinity literals as strict JSON does."""

    def reject(name: str) -> None:
        raise ValueError(f"{name} is not strict JSON")

    assert text.endswith("\n")
    return [json.loads(line, parse_constant=reject) for line in text.splitlines()]


# ------------------------------------------------------------------ errors

BASE = 'title = "t"\n'


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[train]\nlr = = 0.1\n", "syntax", ["line 3"]),  # BASE is line 1
        ('[model]\nactivaton = "relu"\n', "model.activaton", ['did you mean "activation"']),
        ('[train]\nlr = "fast"\n', "train.lr", ['found "fast" (a string)']),
        ("steps = true\n", "steps", ["(a boolean)", "integer"]),
        ("[train]\nlr = 0\n", "train.lr", ["found 0", "> 0"]),
        ("[train]\nlr = -1\n", "train.lr", ["found -1", "> 0"]),
        ("[model]\nhidden = [16, 0, 16]\n", "model.hidden", ["layer 2 of 3", "found 0"]),
        ("[data]\nsamples = 50\n[train]\nbatch_size = 64\n", "train.batch_size", ["64", "50"]),
        ("[model]\nhidden = [" + "4, " * 500 + "]\n", "model.hidden", ["500 hidden layers"]),
        ('[model]\nactivation = "swish"\n', "model.activation", list(ACTIVATIONS)),
    ],
)
def test_bad_scenario_file_is_one_line_exit_2_and_leaves_no_file(
    tmp_path: Path, text: str, key: str, words: list[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(BASE + text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = bp_tui("run", str(scenario), "--jsonl", "--out", str(out))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"bp-tui: error: {scenario}: {key}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


@pytest.mark.parametrize(
    ("args", "start", "words"),
    [
        (["run", "missing.toml"], "missing.toml: file: not found", []),
        (["run", "explodng"], "explodng: scenario: unknown built-in", ['"exploding"', "healthy"]),
        (["gradcheck", "nope"], "nope: scenario: unknown built-in", ["vanishing"]),
        (["run", "healthy", "--steps", "0"], "healthy: --steps: found 0", ["1 to"]),
        (["run", "healthy", "--steps", "ten"], "bp-tui run: argument --steps", ["'ten'"]),
        (["run", "healthy", "--out", "no/such/dir/x.jsonl"], "no/such/dir/x.jsonl: --out:", []),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    tmp_path: Path, args: list[str], start: str, words: list[str]
) -> None:
    result = bp_tui(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"bp-tui: error: {start}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ run --jsonl


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = bp_tui("run", "healthy", "--steps", "30", "--jsonl")
    again = bp_tui("run", "healthy", "--steps", "30", "--jsonl")
    other = bp_tui("run", "healthy", "--steps", "30", "--jsonl", "--seed", "1")
    assert first.returncode == again.returncode == other.returncode == 0
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    events = strict_events(first.stdout)
    assert [e["type"] for e in events] == ["run"] + ["step"] * 30 + ["end"]
    assert [e["step"] for e in events[1:-1]] == list(range(1, 31))
    assert events[0]["seed"] == 0 and strict_events(other.stdout)[0]["seed"] == 1
    assert events[-1] == {"type": "end", "step": 30, "reason": "completed"}


def test_diverging_run_is_a_result_exit_0_strict_json_ending_diverged(tmp_path: Path) -> None:
    result = bp_tui("run", "exploding", "--jsonl")
    assert result.returncode == 0, result.stderr
    events = strict_events(result.stdout)  # no NaN / Infinity literals anywhere
    steps = [e for e in events if e["type"] == "step"]
    assert events[-1] == {"type": "end", "step": steps[-1]["step"], "reason": "diverged"}
    assert steps[-1]["finite"] is False and all(s["finite"] for s in steps[:-1])
    assert steps[-1]["step"] < load("exploding").steps


def test_out_file_holds_exactly_the_jsonl_stream(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    result = bp_tui("run", "vanishing", "--fix", "--steps", "25", "--jsonl", "--out", str(out))
    assert result.returncode == 0
    assert out.read_bytes() == result.stdout.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["rec.jsonl"]  # no temporary left
    assert strict_events(result.stdout)[0]["fix"] is True


def test_summary_reports_the_stream_numbers(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    result = bp_tui("run", "dead-at-init", "--steps", "40", "--out", str(out))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    events = strict_events(out.read_text())
    first, last = events[1], events[-2]
    text = result.stdout
    assert "ended:        completed at step 40 of 40" in text
    assert f"accuracy:     {last['accuracy']:.3f}" in text
    dead = sum(d for d in last["dead"] if d is not None)
    assert f"dead units:   {dead} of 128" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line[:1] == "L"}
    assert sorted(rows) == ["L1", "L2", "L3"]
    for i, name in enumerate(["L1", "L2", "L3"]):
        assert float(rows[name][3]) == pytest.approx(first["grad_norm"][i], rel=1e-3)
        assert float(rows[name][4]) == pytest.approx(last["grad_norm"][i], rel=1e-3)


def test_ctrl_c_ends_the_stream_with_stopped_and_keeps_the_recording(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    proc = subprocess.Popen(
        [str(BP_TUI), "run", "vanishing", "--steps", "10000000", "--jsonl", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    head = [proc.stdout.readline() for _ in range(5)]  # the run is under way
    proc.send_signal(signal.SIGINT)
    # read on through the same buffered file: communicate() would read the pipe's fd
    # directly and lose what readline() has already buffered
    rest = proc.stdout.read()
    err = proc.stderr.read() if proc.stderr else ""
    proc.wait(timeout=60)
    assert proc.returncode == 130, err
    stream = "".join(head) + rest
    events = strict_events(stream)
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "stopped"
    assert events[-1]["step"] == events[-2]["step"] < 10_000_000
    assert out.read_text() == stream
    assert "Traceback" not in err


# ------------------------------------------------------------------ list, gradcheck


def test_list_shows_every_builtin_with_its_title_healthy_first() -> None:
    result = bp_tui("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    infos = list_builtin()
    assert len(lines) == 1 + len(infos)
    for line, info in zip(lines[1:], infos, strict=True):
        assert line.split()[0] == info.name and info.title in line and info.summary in line
    assert lines[1].startswith("healthy")


def test_gradcheck_passes_on_a_correct_backward() -> None:
    result = bp_tui("gradcheck", "healthy")
    assert result.returncode == 0, result.stdout
    assert "passed" in result.stdout and "FAIL" not in result.stdout


def test_gradcheck_fails_when_backward_is_wrong(monkeypatch, capsys) -> None:
    """A 1% error in one layer's weight gradient must be caught and exit 1."""
    original = core_mlp.MLP.backward

    def off_by_one_percent(self, dlogits, *args, **kwargs):
        result = original(self, dlogits, *args, **kwargs)
        self.layers[1].dW *= 1.01
        return result

    monkeypatch.setattr(core_mlp.MLP, "backward", off_by_one_percent)
    assert cli.main(["gradcheck", "healthy"]) == 1
    rows = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if ln[:1] == "L"}
    assert "FAIL" in rows["L2"] and "FAIL" not in rows["L1"] and "FAIL" not in rows["L3"]


def test_headless_commands_do_not_load_textual() -> None:
    code = (
        "import sys; from bp_tui.tui.commands.cli import main; "
        "assert main(['run', 'healthy', '--steps', '3', '--jsonl']) == 0; "
        "assert main(['list']) == 0; "
        "bad = [m for m in ('textual', 'rich', 'plotext') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr


def test_summary_of_a_run_whose_first_step_is_already_non_finite():
    # a run can diverge at step 1 (no finite step at all): the summary says so, no crash
    from bp_tui.core.trainer import Trainer
    from bp_tui.scenarios import load
    from bp_tui.tui.commands.headless import summary

    scenario = load("exploding", steps=3)
    trainer = Trainer(scenario)
    step = trainer.step().to_dict()
    step.update(loss=float("nan"), finite=False)
    text = summary(
        scenario, trainer.run_event(), step, step, None, {"step": 1, "reason": "diverged"}
    )
    assert "diverged at step 1" in text
    assert "final loss:   nan" in text and "last finite" not in text
