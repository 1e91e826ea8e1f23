"""Hostile input on the command line and at the keyboard (issue 9): option values out of
range, a learning rate driven to 0 or inf, a misspelt command, a gradient check that
would run for hours. Each is one line, exit 2 (or 130 when interrupted), no traceback."""

from __future__ import annotations

import io
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bp_tui.core.gradcheck import numerical_grads
from bp_tui.core.losses import targets_for
from bp_tui.core.mlp import MLP
from bp_tui.scenarios import load
from bp_tui.tui.commands import headless
from bp_tui.tui.commands.cli import main
from bp_tui.tui.sources.live import MAX_LR, MIN_LR, LiveSource, clamp_lr


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    err = capsys.readouterr().err
    return status, err


@pytest.mark.parametrize("speed", ["inf", "1e400", "1e-9", "nan", "-1", "0", "fast"])
def test_dashboard_speed_out_of_range_is_one_line(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run_cli(["healthy", "--speed", speed], capsys)
    assert status == 2 and err.count("\n") == 1 and "--speed" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["healthy"], ["replay", "r.jsonl"], ["watch", "r.jsonl"]])
@pytest.mark.parametrize("fps", ["inf", "0", "1e-9", "nan", "100"])
def test_fps_out_of_range_is_one_line(
    argv: list[str], fps: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run_cli([*argv, "--fps", fps], capsys)
    assert status == 2 and err.count("\n") == 1 and "--fps" in err and "0.1 to 60" in err


@pytest.mark.parametrize("speed", ["inf", "1e400", "1e-9", "nan", "-1"])
def test_replay_speed_out_of_range_is_one_line(
    speed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"type": "step", "step": 1, "loss": 1}\n')
    status, err = run_cli(["replay", str(path), "--speed", speed], capsys)
    assert status == 2 and err.count("\n") == 1 and "--speed" in err and "0 (no limit)" in err


def test_live_source_refuses_a_speed_it_cannot_keep() -> None:
    for speed in (math.inf, 1e-9, math.nan):
        with pytest.raises(ValueError, match="speed"):
            LiveSource(load("healthy"), speed=speed)
    assert LiveSource(load("healthy"), speed=0.1).speed == 0.1


def test_lr_is_held_within_its_range_and_the_status_says_so() -> None:
    assert clamp_lr(0.0) == MIN_LR and clamp_lr(math.inf) == MAX_LR and clamp_lr(0.5) == 0.5
    source = LiveSource(load("healthy"))  # not started: command() checks, then drops it
    source.command("lr", 0.0)
    assert f"lr held at {MIN_LR:g}" in source.detail
    source.command("lr", math.inf)
    assert f"lr held at {MAX_LR:g}" in source.detail
    source.command("lr", 0.01)
    assert source.detail == ""
    source.command("lr", MIN_LR)  # the dashboard clamps first: at the bound says so too
    assert f"lr held at {MIN_LR:g}" in source.detail


def test_holding_the_lr_keys_stops_at_the_bounds() -> None:
    # the dashboard's halving and doubling, as held keys drive them (~1075 presses to 0)
    lr = 0.05
    for _ in range(1100):
        lr = clamp_lr(lr / 2)
    assert lr == MIN_LR
    for _ in range(1100):
        lr = clamp_lr(lr * 2)
    assert lr == MAX_LR


@pytest.mark.parametrize(("typo", "command"), [("rnu", "run"), ("lsit", "list"), ("wach", "watch")])
def test_misspelt_command_suggests_the_command(
    typo: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run_cli([typo], capsys)
    assert status == 2 and f'did you mean "{command}"' in err and err.count("\n") == 1


def test_a_file_named_like_a_typo_is_still_a_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rnu").write_text("steps = -1\n")
    status, err = run_cli(["rnu"], capsys)  # loaded as the scenario file it names
    assert status == 2 and "rnu: steps: found -1" in err


# ---------------------------------------------------------------- gradcheck


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def test_check_progress_shows_count_and_time_left() -> None:
    out = FakeTty()
    progress = headless.CheckProgress(out, clock=Clock())
    progress.start("at init")
    progress(10, 1000)  # 10 parameters in 0.5 s: 990 left take 49.5 s
    assert out.getvalue() == "\rgradient check, at init: 10/1,000 parameters, about 50 s left\x1b[K"
    log = io.StringIO()
    quiet = headless.CheckProgress(log, clock=Clock())
    quiet(1, 10)
    assert log.getvalue() == ""  # not a terminal: a line every LOG_EVERY seconds only


def test_gradcheck_shows_progress_and_ctrl_c_stops_it_with_one_line() -> None:
    scenario = load("healthy").with_(steps=10)

    class Interrupting(FakeTty):
        interrupted = False

        def write(self, text: str) -> int:
            if "parameters" in text and not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt  # Ctrl+C while the progress line is drawn
            return super().write(text)

    err, out = Interrupting(), io.StringIO()
    assert headless.gradcheck(scenario, stdout=out, stderr=err) == 130
    lines = err.getvalue().replace("\r\x1b[K", "").splitlines()
    assert len(lines) == 1 and lines[0].startswith("bp-tui: gradient check interrupted (")
    assert out.getvalue() == ""


def test_gradcheck_progress_counts_every_parameter() -> None:
    scenario = load("healthy").with_(steps=10)
    err = FakeTty()
    assert headless.gradcheck(scenario, stdout=io.StringIO(), stderr=err) == 0
    total = sum(p.size for p in MLP([2, *scenario.model.hidden, 1]).params())
    shown = re.findall(r"(\d[\d,]*)/([\d,]+) parameters", err.getvalue())
    assert shown and {t for _, t in shown} == {f"{total:,}"}  # redrawn at most 10/s
    assert err.getvalue().endswith("\r\x1b[K")  # the line is cleared for the table


def test_numerical_grads_restores_the_parameter_when_interrupted() -> None:
    net = MLP([2, 3, 1], seed=1)
    before = [p.copy() for p in net.params()]
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = targets_for("bce", np.arange(8) % 2, 2)

    def stop(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        numerical_grads(net, X, Y, "bce", progress=stop)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params(), strict=True))


@pytest.mark.timeout(120)
def test_sigint_stops_a_long_gradcheck_process(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("[model]\nhidden = [300, 300]\n")  # ~90k parameters: many minutes
    bp_tui = Path(sys.executable).parent / "bp-tui"
    proc = subprocess.Popen(
        [str(bp_tui), "gradcheck", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3.0)  # past start-up, inside the finite differences
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == "" and err.count("\n") == 1 and "gradient check interrupted" in err


def test_replay_of_only_blank_lines_is_no_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n" * 1_000_000)
    status, err = run_cli(["replay", str(path)], capsys)
    assert status == 2 and err.count("\n") == 1 and "no events in 1,000,000 lines" in err


def test_replay_of_a_fifo_is_one_line_not_a_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """replay reads its file twice and seeks in it: a FIFO is refused without opening it
    for a blocking read. (watch follows a FIFO as a stream: test_replay_follow.py.)"""
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    status, err = run_cli(["replay", str(fifo)], capsys)  # opening it would block for ever
    assert status == 2 and "found a pipe or FIFO" in err and err.count("\n") == 1
