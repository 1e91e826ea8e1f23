"""bp_tui.tui.signals: SIGHUP / SIGTERM end an app gracefully, or by the watchdog if it hangs.

Each case runs in its own interpreter (signals must not reach pytest) with a stand-in
app: an asyncio loop whose ``exit`` either stops the loop (a healthy app) or does
nothing (an app stuck in shutdown). The e2e tests cover the real dashboard.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
from pathlib import Path
from bp_tui.tui.signals import install_signal_handlers

hangs = sys.argv[1] == "hangs"
log = Path(sys.argv[2])

class App:
    return_code = None
    def exit(self, result=None, return_code=0, message=None):
        log.write_text(log.read_text() + f"exit {return_code}\\n")
        self.return_code = return_code
        if not hangs:
            self.stop.set()

async def run(app):
    app.stop = asyncio.Event()
    print("ready", flush=True)
    await app.stop.wait()

app = App()
restore = install_signal_handlers(
    app, cleanup=[lambda: log.write_text(log.read_text() + "cleanup\\n")], grace=0.5
)
asyncio.run(run(app))
restore()
log.write_text(log.read_text() + "returned\\n")
sys.exit(app.return_code)
"""


def run_and_signal(mode: str, tmp_path: Path, *signums: int) -> tuple[int, list[str]]:
    """(exit status, the log's words) of the stand-in app sent ``signums``."""
    log = tmp_path / "log.txt"
    log.write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), mode, str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for i, signum in enumerate(signums):
        if i:  # a repeat: only once the first one has been handled (no coalescing)
            deadline = time.monotonic() + 10
            while "exit" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.01)
        os.kill(proc.pid, signum)
    status = proc.wait(timeout=20)
    return status, log.read_text().split()


@pytest.mark.parametrize(
    "signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT], ids=["SIGHUP", "SIGTERM", "SIGINT"]
)
def test_signal_asks_the_app_to_exit_with_128_plus_signum(tmp_path: Path, signum: int) -> None:
    status, log = run_and_signal("exits", tmp_path, signum)
    assert status == 128 + signum
    assert log == ["exit", str(128 + signum), "returned"]  # no watchdog, no cleanup


def test_a_repeated_hangup_does_not_cut_the_graceful_exit_short(tmp_path: Path) -> None:
    status, log = run_and_signal("exits", tmp_path, signal.SIGHUP, signal.SIGHUP)
    assert status == 129
    assert log == ["exit", "129", "returned"]


def test_two_sigints_back_to_back_are_one_graceful_exit(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), "exits", str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGINT)  # no wait between them: within microseconds
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=20) == 130
    assert log.read_text().split() == ["exit", "130", "returned"]  # no KeyboardInterrupt


def test_watchdog_ends_an_app_stuck_in_shutdown(tmp_path: Path) -> None:
    status, log = run_and_signal("hangs", tmp_path, signal.SIGTERM)
    assert status == 143
    assert log == ["exit", "143", "cleanup"]  # the loop never returned
