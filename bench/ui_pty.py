"""The real dashboard in a pseudo-terminal: bytes, UI CPU, trainer speed, first frame.

``bp-tui SCENARIO --speed max`` runs at default fps and full speed in a 120x40 pty with
``TERM=xterm-256color`` and no ``COLORTERM``; we read everything it writes.

Figures
- ``ui/steps_ratio``: trainer steps/s with the dashboard open (the status line's step
  counter, read from the pty, over a window) over ``bp-tui run SCENARIO --jsonl`` steps/s
  (its stdout, over a window of the same length after the same warm-up). The two runs
  alternate, ``ui_rounds`` times each. Target: at least 0.95 (issue 15).
- ``ui/cpu``: utime+stime of the UI process (/proc/<pid>/stat) over the window, as a
  share of one core. Target: at most 50%.
- ``ui/bytes``: bytes written to the terminal per second over the window. Target: at
  most 30 KB/s (issue 15). ``ui/bytes_paused``: the same after pressing space (pause). About 0.
- ``ui/first_frame``: seconds from starting ``bp-tui SCENARIO`` to the first write after
  which the status line shows a step number. Target: at most 0.6 s (issue 15). bp-tui's
  bytecode is compiled before the launches (``compile_package``), as a user's first
  launch leaves it: an editable install under ``PYTHONDONTWRITEBYTECODE=1`` (this
  machine sets it) would recompile its 60 modules at every launch, about 0.07 s.

Issue 15's slow-link row (a reader draining 20 KB/s) is the ``link`` group
(``throttled_link.py``).
"""

from __future__ import annotations

import compileall
import importlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.config import BenchConfig
from bench.pty_app import PtyApp, cpu_seconds, strip_ansi
from bench.report import Row, unavailable
from bench.timing import median

SCENARIO = "healthy"
LONG_RUN = 10**7  # steps (the most --steps allows): the run never ends during a window
PAUSE_SETTLE = 1.0  # s after pressing pause (the pipe's backlog drains) before the paused window
STATUS_STEP = re.compile(r"step (\d+)/")
JSONL_STEP = re.compile(rb'"step": ?(\d+)')


def bp_tui_exe() -> str | None:
    """The installed ``bp-tui`` next to this Python, else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "bp-tui")
    return here if os.access(here, os.X_OK) else shutil.which("bp-tui")


def app_available() -> str:
    """ "" if the dashboard can run here, else why not."""
    if bp_tui_exe() is None:
        return "bp-tui not installed"
    try:
        importlib.import_module("bp_tui.tui.commands.dashboard")
    except ImportError as exc:
        return f"dashboard not available: {exc}"
    return ""


@dataclass
class DashboardWindow:
    first_frame: float | None  # s from start to the first frame with a step number
    steps_per_s: float
    cpu_share: float  # of one core, UI process only
    bytes_per_s: float
    paused_bytes_per_s: float


def steps_in(app: PtyApp, t0: float, t1: float) -> list[tuple[float, int]]:
    """(time, step) of every status-line step number written between t0 and t1."""
    out = []
    for t, data in app.chunks:
        if t0 <= t < t1:
            for m in STATUS_STEP.finditer(strip_ansi(data)):
                out.append((t, int(m.group(1))))
    return out


def rate(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
        return float("nan")
    (ta, sa), (tb, sb) = samples[0], samples[-1]
    return (sb - sa) / (tb - ta)


def run_dashboard(window: float, warmup: float, *, paused_window: float = 0.0) -> DashboardWindow:
    """One dashboard run: first frame, then a window at full speed, then one paused."""
    exe = bp_tui_exe()
    assert exe is not None
    # --speed max: a scenario's own pace (healthy: 30 steps/s, to be watched) is not
    # the full speed this group measures
    argv = [exe, SCENARIO, "--steps", str(LONG_RUN), "--speed", "max"]
    app = PtyApp(argv).start()
    try:
        if app.pump_until(STATUS_STEP, timeout=30.0) is None:
            tail = app.text_between(0, float("inf"))[-300:]
            raise RuntimeError(f"no step on screen within 30 s; screen ends {tail!r}")
        first = app.first_time(STATUS_STEP)
        app.pump(warmup)
        t0, c0 = time.perf_counter(), cpu_seconds(app.pid)
        app.pump(window)
        t1, c1 = time.perf_counter(), cpu_seconds(app.pid)
        steps = rate(steps_in(app, t0, t1))
        paused = float("nan")
        if paused_window > 0:
            app.send(b" ")
            app.pump(PAUSE_SETTLE)
            p0 = time.perf_counter()
            app.pump(paused_window)
            p1 = time.perf_counter()
            paused = app.bytes_between(p0, p1) / (p1 - p0)
        return DashboardWindow(
            first_frame=first,
            steps_per_s=steps,
            cpu_share=(c1 - c0) / (t1 - t0),
            bytes_per_s=app.bytes_between(t0, t1) / (t1 - t0),
            paused_bytes_per_s=paused,
        )
    finally:
        app.stop()


def run_headless(window: float, warmup: float) -> float:
    """Steps/s of ``bp-tui run SCENARIO --jsonl`` over ``window`` s after ``warmup`` s."""
    exe = bp_tui_exe()
    assert exe is not None
    proc = subprocess.Popen(
        [exe, "run", SCENARIO, "--steps", str(LONG_RUN), "--jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    start = time.perf_counter()
    samples: list[tuple[float, int]] = []
    tail = b""
    try:
        while True:
            now = time.perf_counter()
            if now - start > warmup + window:
                break
            data = os.read(fd, 1 << 16)
            if not data:
                break
            if now - start >= warmup:
                # the step of the last complete line of this chunk
                buf = tail + data
                end = buf.rfind(b"\n")
                m = None
                if end > 0:
                    line_start = buf.rfind(b"\n", 0, end) + 1
                    m = JSONL_STEP.search(buf, line_start, end)
                if m:
                    samples.append((now, int(m.group(1))))
                tail = buf[end + 1 :] if end >= 0 else buf
    finally:
        proc.kill()
        proc.wait()
    return rate(samples)


def run(cfg: BenchConfig) -> list[Row]:
    why = app_available()
    # issue 15's targets for the figures it names (steps ratio, bytes, first frame)
    specs = [
        ("ui/steps_ratio", "trainer steps/s, dashboard open / headless", "x", ">=", 0.95),
        ("ui/cpu", "UI process CPU, training at full speed", "%", "<=", 50.0),
        ("ui/bytes", "bytes to the terminal, training at full speed", "KB/s", "<=", 30.0),
        ("ui/bytes_paused", "bytes to the terminal, paused", "KB/s", "<=", 0.1),
        ("ui/first_frame", "start to first frame with data", "s", "<=", 0.6),
    ]
    if why:
        return [unavailable(*spec, why) for spec in specs]
    compiled = compile_package()
    window = cfg.ui_seconds
    dash: list[DashboardWindow] = []
    head: list[float] = []
    for r in range(cfg.ui_rounds):
        # alternate which side goes first, so drifting load hits both alike
        order = ("dash", "head") if r % 2 == 0 else ("head", "dash")
        for side in order:
            if side == "dash":
                dash.append(run_dashboard(window, cfg.ui_warmup, paused_window=min(window, 3.0)))
            else:
                # the dashboard's warm-up starts after ~1 s of start-up; so does this one
                head.append(run_headless(window, warmup=cfg.ui_warmup + 1.0))
    ratios = [d.steps_per_s / h for d, h in zip(dash, head, strict=True) if h > 0]
    firsts = [d.first_frame for d in dash if d.first_frame is not None]
    # further launches only for the first-frame time (cheap: no window)
    for _ in range(max(0, cfg.startup_rounds - len(firsts))):
        firsts.append(first_frame_only())
    ctx = f"{SCENARIO}, 120x40, 256 colours, default fps, full speed, {len(dash)} runs"
    rows = [
        Row(
            *specs[0],
            value=median(ratios),
            samples=ratios,
            absolute=f"dashboard {median([d.steps_per_s for d in dash]):.0f} steps/s, "
            f"headless {median(head):.0f} steps/s",
            note=f"{window:.0f} s windows; {ctx}",
        ),
        Row(
            *specs[1],
            value=100 * median([d.cpu_share for d in dash]),
            samples=[100 * d.cpu_share for d in dash],
            note=ctx,
        ),
        Row(
            *specs[2],
            value=median([d.bytes_per_s for d in dash]) / 1000,
            samples=[d.bytes_per_s / 1000 for d in dash],
            note=ctx,
        ),
        Row(
            *specs[3],
            value=median([d.paused_bytes_per_s for d in dash]) / 1000,
            samples=[d.paused_bytes_per_s / 1000 for d in dash],
            note="after pressing space",
        ),
        Row(
            *specs[4],
            value=median(firsts),
            samples=firsts,
            note=f"status line shows a step; {len(firsts)} launches; {compiled}",
        ),
    ]
    return rows


def compile_package() -> str:
    """Write the bytecode of bp-tui's own modules, as its first launch would; says so.

    Python writes it at a module's first import unless ``PYTHONDONTWRITEBYTECODE`` is
    set; pip writes it at install for a wheel, but not for an editable install.
    """
    import bp_tui
    import bp_tui.core
    import bp_tui.scenarios
    import bp_tui.tui

    dirs = [d for pkg in (bp_tui, bp_tui.core, bp_tui.scenarios, bp_tui.tui) for d in pkg.__path__]
    ok = all(compileall.compile_dir(d, quiet=1) for d in dirs)
    env = (
        " (PYTHONDONTWRITEBYTECODE is set here)"
        if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else ""
    )
    return f"bytecode compiled first{env}" if ok else "bytecode not compiled (compileall failed)"


def first_frame_only() -> float:
    """Seconds to the first frame with data, in a launch that quits at once after."""
    exe = bp_tui_exe()
    assert exe is not None
    app = PtyApp([exe, SCENARIO, "--steps", str(LONG_RUN)]).start()
    try:
        app.pump_until(STATUS_STEP, timeout=30.0)
        first = app.first_time(STATUS_STEP)
        return first if first is not None else float("nan")
    finally:
        app.stop()
