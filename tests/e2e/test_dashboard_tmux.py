"""The installed ``bp-tui`` in a real terminal (tmux): it trains, obeys keys and leaves
nothing behind however it is ended (q, Ctrl+C, SIGHUP, SIGTERM, the terminal closing).
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from tests.e2e.conftest import TmuxPane, process_alive, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

# A run long enough never to finish during a test.
SCENARIO = "healthy --steps 1000000"
SHUTDOWN_DEADLINE = 2.0  # seconds: the design's promise for SIGHUP / SIGTERM


def start(pane: TmuxPane, bp_tui: str) -> int:
    """Launch the dashboard, wait until it shows a trained step; its pid."""
    pane.type_line(f"{bp_tui} {SCENARIO}")
    pid = pane.bp_tui_pid()
    wait_for("a first training step on screen", lambda: (pane.step() or 0) >= 1, timeout=20)
    return pid


def assert_counter_advances(pane: TmuxPane) -> None:
    first = pane.step()
    assert first is not None
    wait_for(f"the step counter to move past {first}", lambda: (pane.step() or 0) > first)


def assert_everything_gone(pane: TmuxPane, timeout: float) -> None:
    """bp-tui, its trainer child and any helper of theirs end within ``timeout``."""
    deadline = time.monotonic() + timeout
    while left := pane.processes():
        assert time.monotonic() < deadline, f"still running after {timeout} s: {left}"
        time.sleep(0.05)


def assert_terminal_restored(pane: TmuxPane, prompts_before: int) -> None:
    wait_for("the shell prompt back", lambda: pane.prompts() > prompts_before)
    # The app left the alternate screen, stopped mouse reporting and showed the cursor.
    assert pane.flag("alternate_on") == "0"
    for flag in ("mouse_any_flag", "mouse_button_flag", "mouse_sgr_flag"):
        assert pane.flag(flag) == "0", flag
    assert pane.flag("cursor_flag") == "1"
    # Line discipline: bash keeps the modes a job leaves behind on a normal exit, so a
    # raw-mode leftover would show here.
    pane.type_line("clear; stty -a")
    modes = wait_for(
        "stty output",
        lambda: " ".join(pane.lines()).split() if "icanon" in " ".join(pane.lines()) else None,
    )
    assert "icanon" in modes and "-icanon" not in modes  # type: ignore[operator]
    assert "echo" in modes and "-echo" not in modes  # type: ignore[operator]


def quit_with(pane: TmuxPane, key: str, prompts_before: int) -> None:
    """Press ``key``: everything ends and the terminal is as the shell left it."""
    pane.keys(key)
    assert_everything_gone(pane, timeout=5)
    assert_terminal_restored(pane, prompts_before)


def test_trains_pauses_on_space_and_quits_on_q(pane: Any, bp_tui: str) -> None:
    p = pane(120, 40)
    prompts = p.prompts()
    start(p, bp_tui)
    assert_counter_advances(p)

    p.keys("Space")
    wait_for("the paused state", lambda: (p.status() or ("",))[0] == "paused")
    time.sleep(0.3)  # let the last batch sent before the pause land on screen
    before = p.step()
    time.sleep(1.0)
    assert p.step() == before, "the step counter moved while paused"

    p.keys("Space")
    assert_counter_advances(p)

    quit_with(p, "q", prompts)


def test_status_line_fits_an_80x24_terminal(pane: Any, bp_tui: str) -> None:
    p = pane(80, 24)
    prompts = p.prompts()
    start(p, bp_tui)
    assert_counter_advances(p)
    state, _step, total, line = p.status()
    assert (state, total) == ("running", 1_000_000)
    # Nothing cut off: the line ends with its last field (the clip mode) in full.
    assert line.rstrip().endswith("clip none"), f"status line cut at 80 columns: {line!r}"
    quit_with(p, "q", prompts)


def test_ctrl_c_quits_and_restores_the_terminal(pane: Any, bp_tui: str) -> None:
    p = pane(120, 40)
    prompts = p.prompts()
    start(p, bp_tui)
    quit_with(p, "C-c", prompts)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_signal_ends_app_and_trainer_within_two_seconds(
    pane: Any, bp_tui: str, signum: signal.Signals
) -> None:
    p = pane(120, 40)
    prompts = p.prompts()
    pid = start(p, bp_tui)
    children = set(p.processes()) - {pid}
    assert children, "no trainer child process found"
    os.kill(pid, signum)
    assert_everything_gone(p, timeout=SHUTDOWN_DEADLINE)
    wait_for("the shell prompt back", lambda: p.prompts() > prompts)
    assert p.flag("alternate_on") == "0"


def test_closing_the_terminal_ends_app_and_trainer(pane: Any, bp_tui: str) -> None:
    p = pane(120, 40)
    pid = start(p, bp_tui)
    everything = set(p.processes())
    assert len(everything) >= 2, everything  # bp-tui and its trainer at least
    p.kill_server()  # the pty goes away: what a dropped SSH connection does
    deadline = time.monotonic() + SHUTDOWN_DEADLINE
    while left := [q for q in everything if process_alive(q)]:
        assert time.monotonic() < deadline, f"still running after the hangup: {left}"
        time.sleep(0.05)
    assert not process_alive(pid)


@pytest.mark.parametrize(
    "env",
    [{"NO_COLOR": "1"}, {}, {"COLORTERM": "truecolor"}],
    ids=["NO_COLOR", "256-colours", "truecolor"],
)
def test_starts_and_trains_in_every_colour_setting(
    pane: Any, bp_tui: str, env: dict[str, str]
) -> None:
    p = pane(120, 40, **env)
    prompts = p.prompts()
    start(p, bp_tui)
    assert_counter_advances(p)
    quit_with(p, "q", prompts)
