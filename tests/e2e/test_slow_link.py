"""The dashboard on a slow link stays responsive: a pty whose reader drains 20 KB/s.

Before the dashboard paced its output (tui/screens/backpressure.py), Textual queued
whole frames for the slow terminal: the status line showed a step seconds old and `q`
was answered only after every queued frame was written (over 30 s at 20 KB/s). The
timeouts here are generous (the machine is shared); the bench's ``link`` group
measures the figures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest

from bench.pty_app import PtyApp, child_pids
from bench.throttled_link import TICK, ThrottledReader
from bench.ui_pty import bp_tui_exe
from bench.vt_screen import VtScreen

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(150)]

RATE = 20_000.0  # bytes/s
QUIT_WITHIN = 15.0  # s; about 1 s when paced, over 30 s when frames queue


def test_q_is_answered_and_the_step_moves_on_a_20_kb_per_s_link() -> None:
    exe = bp_tui_exe()
    assert exe is not None, "bp-tui is not installed: pip install -e . in this environment"
    argv = [exe, "healthy", "--speed", "max", "--steps", "10000000"]
    app = PtyApp(argv).start()
    reader = ThrottledReader(app.fd, RATE, VtScreen(app.cols, app.rows))
    children: list[int] = []

    def drain(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not reader.closed:
            reader.read_once()
            time.sleep(TICK)

    try:
        deadline = time.perf_counter() + 60
        while reader.step is None and time.perf_counter() < deadline and not reader.closed:
            drain(0.1)
        assert reader.step is not None, "no step on the screen within 60 s"
        children = child_pids(app.pid)
        drain(6.0)  # the slow link's start-up backlog drains, pacing settles
        before = reader.step
        drain(3.0)
        assert reader.step > before, "the status line's step did not move in 3 s"
        app.send(b"q")
        t_q = time.perf_counter()
        exited = False
        while not exited and time.perf_counter() - t_q < QUIT_WITHIN:
            drain(0.05)
            exited = os.waitpid(app.pid, os.WNOHANG)[0] != 0
        assert exited, f"q not answered within {QUIT_WITHIN} s on a 20 KB/s link"
        app.pid = -1  # reaped
    finally:
        app.stop(grace=2.0)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
