"""``--record`` into a FIFO in a real terminal (tmux): the dashboard never waits for the
reader. It once hung on a blank screen before its first frame, deaf to q and Ctrl+C."""

from __future__ import annotations

import os
import shlex
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import wait_for
from tests.e2e.test_dashboard_tmux import quit_with

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.mark.parametrize("key", ["q", "C-c"])
def test_record_into_a_fifo_without_a_reader_trains_and_quits(
    pane: Any, bp_tui: str, tmp_path: Path, key: str
) -> None:
    fifo = tmp_path / "run.fifo"
    os.mkfifo(fifo)
    p = pane(160, 40)
    prompts = p.prompts()
    p.type_line(f"cd {shlex.quote(str(tmp_path))}")
    p.type_line(f"{shlex.quote(bp_tui)} healthy --steps 1000000 --record run.fifo")
    wait_for("training steps on screen", lambda: (p.step() or 0) >= 5, timeout=30)
    assert "recording waits for a reader of run.fifo" in p.status()[3]
    # a reader comes: it gets the stream from the run event on, and the note goes away
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    wait_for("the reader noticed", lambda: "recording" not in p.status()[3], timeout=10)
    quit_with(p, key, prompts + 1)  # `cd` gave one prompt more
    reader.join(timeout=10)
    lines = got[0].decode().splitlines()
    assert lines[0].startswith('{"type":"run"') and '"reason":"stopped"' in lines[-1]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
