"""Hostile input and signals in a real terminal (tmux): an escape sequence in a file is
shown, never obeyed, and two quick SIGINTs leave the terminal as the shell had it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PROMPT, TmuxPane, wait_for
from tests.e2e.test_dashboard_tmux import (
    SCENARIO,
    assert_everything_gone,
    assert_terminal_restored,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

INJECTED = "\u001b]2;INJ\u0007"  # OSC 2: set the window (pane) title to INJ
SHOWN = "^[]2;INJ^G"


def exit_status(pane: TmuxPane) -> int:
    line = wait_for(
        "the exit status line",
        lambda: next((ln for ln in pane.lines() if ln.startswith("EXIT=")), None),
        timeout=15,
    )
    return int(str(line).removeprefix("EXIT="))


def wait_prompt(pane: TmuxPane) -> None:
    def idle() -> bool:
        shown = [ln.rstrip() for ln in pane.lines() if ln.strip()]
        return bool(shown) and shown[-1] == PROMPT

    wait_for("the shell prompt back", idle, timeout=15)


def assert_title_untouched(pane: TmuxPane, title: str) -> None:
    assert pane.flag("pane_title") == title
    assert not any("INJ" in line and SHOWN not in line for line in pane.lines())


def test_injected_title_is_shown_not_obeyed(pane: Any, bp_tui: str, tmp_path: Path) -> None:
    scenario = tmp_path / "evil.toml"
    scenario.write_text('title = "\\u001b]2;INJ\\u0007"\nsteps = 3\n')
    recording = tmp_path / "evil.jsonl"
    run = {"type": "run", "version": 1, "title": INJECTED, "layers": [{"name": "L1"}]}
    recording.write_text(json.dumps(run) + "\n" + '{"type": "step", "step": 1, "loss": 0.5}\n')

    p = pane(120, 40)
    title = p.flag("pane_title")
    assert "INJ" not in title

    # the headless summary
    p.type_line(f"clear; {bp_tui} run {scenario}; echo EXIT=$?")
    assert exit_status(p) == 0
    assert any(SHOWN in line for line in p.lines()), p.lines()
    assert_title_untouched(p, title)

    # the dashboard (its lesson pane opens with the title)
    p.type_line(f"clear; {bp_tui} {scenario} --steps 1000000")
    wait_for("the title on the dashboard", lambda: any(SHOWN in ln for ln in p.lines()), 20)
    assert_title_untouched(p, title)
    p.keys("q")
    wait_prompt(p)

    # replay and watch of a recording whose run event carries it
    for command in ("replay", "watch"):
        p.type_line(f"clear; {bp_tui} {command} {recording}")
        wait_for(f"the {command} on screen", lambda: any(SHOWN in ln for ln in p.lines()), 20)
        assert_title_untouched(p, title)
        p.keys("q")
        wait_prompt(p)

    # Control: the same bytes written raw do retitle the pane, so the checks above
    # would have seen an injection.
    p.type_line("printf '\\033]2;INJ\\007'")
    wait_for("the raw escape to retitle the pane", lambda: p.flag("pane_title") == "INJ")


def test_two_quick_sigints_exit_130_and_restore_the_terminal(pane: Any, bp_tui: str) -> None:
    p = pane(120, 40)
    prompts = p.prompts()
    p.type_line(f"{bp_tui} {SCENARIO}; echo EXIT=$?")
    pid = start_waiting(p)
    sent = time.monotonic()
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGINT)
    assert time.monotonic() - sent < 0.05
    assert_everything_gone(p, timeout=5)
    assert exit_status(p) == 130
    assert_terminal_restored(p, prompts)


@pytest.mark.parametrize(
    ("how", "status"),
    [("SIGINT", 130), ("C-c", 130), ("q", 0), ("SIGTERM", 143), ("SIGHUP", 129)],
)
def test_exit_status_says_how_the_dashboard_ended(
    pane: Any, bp_tui: str, how: str, status: int
) -> None:
    p = pane(120, 40)
    prompts = p.prompts()
    p.type_line(f"{bp_tui} {SCENARIO}; echo EXIT=$?")
    pid = start_waiting(p)
    if how.startswith("SIG"):
        os.kill(pid, getattr(signal, how))
    else:
        p.keys(how)
    assert_everything_gone(p, timeout=5)
    assert exit_status(p) == status
    assert_terminal_restored(p, prompts)


def start_waiting(p: TmuxPane) -> int:
    pid = p.bp_tui_pid()
    wait_for("a first training step on screen", lambda: (p.step() or 0) >= 1, timeout=20)
    return pid


def test_held_lr_key_stops_at_the_bound_and_the_status_line_says_so(pane: Any, bp_tui: str) -> None:
    p = pane(160, 40)  # wide: the status line has room for the source's detail
    p.type_line(f"{bp_tui} {SCENARIO}; echo EXIT=$?")
    pid = start_waiting(p)
    p.keys(*["["] * 25)  # 0.05 / 2**25 is far below the 1e-06 bound
    wait_for(
        "the status line to say the rate is held",
        lambda: "lr held at 1e-06" in " ".join(p.lines()),
        timeout=20,
    )
    assert pid in p.processes(), "the dashboard ended"
    p.keys("q")
    assert exit_status(p) == 0
