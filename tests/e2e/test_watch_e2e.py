"""``bp-tui watch`` in a real terminal (tmux), following a writer process as over SSH:

python writer.py --out run.jsonl &
bp-tui watch run.jsonl
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from bp_tui.core.stream import read_stream
from tests.e2e.conftest import TmuxPane, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

# A training loop of any program: EventWriter, one step every 50 ms, then the end event.
WRITER = """\
import sys, time
from bp_tui.core.stream import EventWriter
steps = int(sys.argv[2])
with EventWriter(sys.argv[1], layers=[("fc1", 2, 8), ("fc2", 8, 1)], title="writer") as w:
    for i in range(1, steps + 1):
        w.step(step=i, loss=1.0 / i, grad_norm=[0.1, 0.2], dead=[i % 3, None])
        time.sleep(0.05)
"""


def last_step_on_disk(path: Path) -> int:
    events = read_stream(path).events
    return events[-1]["step"] if events else 0


def test_watch_follows_a_writer_and_sees_it_end(pane, bp_tui: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    run = tmp_path / "run.jsonl"
    p: TmuxPane = pane(width=120, height=40)
    # relative names keep the status line short; the writer starts in the background and
    # watch at once, before the file exists (as when the writer is still importing torch)
    p.type_line(f"cd {shlex.quote(str(tmp_path))}")
    python, exe = shlex.quote(sys.executable), shlex.quote(bp_tui)
    p.type_line(f"{python} writer.py run.jsonl 160 & {exe} watch run.jsonl")
    wait_for("the first steps on screen", lambda: (p.step() or 0) >= 3, timeout=30)
    for _ in range(3):
        # a step the writer has flushed by now is on screen within a second
        target = last_step_on_disk(run)
        wait_for(f"step {target} on screen", lambda t=target: (p.step() or 0) >= t, timeout=1.0)
    state, _step, _total, line = p.status()  # type: ignore[misc]
    assert state == "running" and "following run.jsonl" in line
    wait_for("the end of the run", lambda: (p.status() or ("",))[0] == "completed", timeout=30)
    assert p.step() == 160
    assert "run ended" in p.status()[3]  # type: ignore[index]
    prompts = p.prompts()
    p.keys("q")
    wait_for("the shell prompt back", lambda: p.prompts() > prompts)
    assert p.flag("alternate_on") == "0"


def test_replay_of_a_bad_file_is_one_line(pane, bp_tui: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type":"run","version":1}\nnot json\n')
    p: TmuxPane = pane(width=120, height=10)
    p.type_line(f"cd {shlex.quote(str(tmp_path))}")
    p.type_line(f"{shlex.quote(bp_tui)} replay bad.jsonl; echo rc=$?")
    wait_for("the exit status", lambda: any(line.startswith("rc=") for line in p.lines()))
    lines = [line for line in p.lines() if line.strip()]
    i = next(k for k, line in enumerate(lines) if line.startswith("rc="))
    assert lines[i] == "rc=2"
    assert lines[i - 1] == (
        "bp-tui: error: bad.jsonl: line 2: not valid JSON: Expecting value at column 1; "
        "allowed one JSON object per line"
    ), lines
    assert "Traceback" not in "\n".join(lines)


def test_watch_of_a_process_substitution_shows_the_whole_run(
    pane, bp_tui: str, tmp_path: Path
) -> None:
    """``bp-tui watch <(cmd)``: the first MiB was consumed for the title, the pipe's size
    0 then taken for a truncation (``seek`` failed: not seekable), plots began mid-run."""
    p: TmuxPane = pane(width=120, height=40)
    p.type_line(f"cd {shlex.quote(str(tmp_path))}")
    exe = shlex.quote(bp_tui)
    p.type_line(f"{exe} watch <({exe} run healthy --steps 300 --jsonl)")
    wait_for("the end of the run", lambda: (p.status() or ("",))[0] == "completed", timeout=60)
    assert p.step() == 300
    line = p.status()[3]  # type: ignore[index]
    assert "300 steps" in line and "run ended" in line and "error" not in line
    prompts = p.prompts()
    p.keys("q")
    wait_for("the shell prompt back", lambda: p.prompts() > prompts)
