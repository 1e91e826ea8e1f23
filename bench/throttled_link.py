"""The dashboard on a slow link: a pty whose reader drains only 20 KB/s.

A 1 Mbit/s SSH link carries 125 KB/s and a poor one much less; when the terminal takes
bytes slower than the dashboard writes them, frames queue (in Textual's writer queue and
in the tty), and what the user sees falls behind the run, and `q` waits for the queue.

``bp-tui SCENARIO --speed max --record FILE`` runs in a 120x40 pty (``TERM=xterm-256color``)
whose master we read at ``link_rate`` bytes/s: every few ms at most the bytes the rate
allows since the start, in small reads. At the same time we poll FILE, where the dashboard
writes every step it receives in whole flushed lines: the time each step first appears
there is when the trainer's step reached the dashboard. What the drained bytes show is
fed to ``VtScreen``, and the status line's step is read off its top row.

Figures
- ``link/step_lag``: over a window that starts ``link_warmup`` s after the first frame
  with a step, every ``TICK``, the time since
  the step the screen shows then first appeared in FILE (0 while it is the newest
  step); the row is the largest of these, the note gives the median. Target: at most
  1 s.
- ``link/quit``: seconds from writing ``q`` (after the window) to the process exiting,
  the reader still draining at the same rate (the app writes what it queued before it
  exits). Target: at most 1 s. A process still running after ``quit_timeout`` s counts
  as that many seconds (and is then killed).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import select
import signal
import tempfile
import time
from dataclasses import dataclass, field

from bench.config import BenchConfig
from bench.pty_app import PtyApp, child_pids
from bench.report import Row, unavailable
from bench.timing import median
from bench.ui_pty import LONG_RUN, SCENARIO, STATUS_STEP, app_available, bp_tui_exe
from bench.vt_screen import VtScreen

FIRST_FRAME_TIMEOUT = 60.0  # s: no step on the screen by then is a row without a value
TICK = 0.005  # s between reads of the pty and polls of the recording
BURST = 0.05  # s of the link's rate an idle link saves up (a read is at most this much)
STATUS_ROWS = 2  # the status line is the top row; a wrapped one would take the next
# A step line of the recording: the event's type, then its step (the stream's order).
RECORD_STEP = re.compile(rb'"type": ?"step", ?"step": ?(\d+)')


@dataclass
class StepLog:
    """(time, step) each time a step number grows: when it was first seen."""

    times: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    def note(self, t: float, step: int) -> None:
        if not self.steps or step > self.steps[-1]:
            self.times.append(t)
            self.steps.append(step)

    def step_at(self, t: float) -> int:
        """The newest step seen by time ``t`` (0: none yet)."""
        i = bisect.bisect_right(self.times, t)
        return self.steps[i - 1] if i else 0

    def first_time(self, step: int) -> float | None:
        """When a step >= ``step`` was first seen (None: not yet)."""
        i = bisect.bisect_left(self.steps, step)
        return self.times[i] if i < len(self.steps) else None


def lags(screen: list[tuple[float, int]], trainer: StepLog) -> list[float]:
    """At each (time, step the screen shows), how long ago the trainer reached that step."""
    out = []
    for t, step in screen:
        first = trainer.first_time(step)
        if first is not None:
            out.append(max(0.0, t - first))
    return out


class RecordTail:
    """Follows a growing JSONL recording; notes the time each new last step appears."""

    def __init__(self, path: str, log: StepLog) -> None:
        self.path, self.log = path, log
        self._fd: int | None = None
        self._tail = b""

    def poll(self, now: float) -> None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return
        while True:
            data = os.read(self._fd, 1 << 20)
            if not data:
                return
            buf = self._tail + data
            end = buf.rfind(b"\n")
            if end < 0:
                self._tail = buf
                continue
            steps = RECORD_STEP.findall(buf, 0, end)  # the last is the newest
            if steps:
                self.log.note(now, int(steps[-1]))
            self._tail = buf[end + 1 :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class LinkRun:
    lags: list[float]  # s, one per read in the window
    quit_s: float  # s from q to exit (quit_timeout if it did not)
    exited: bool
    trainer_steps_per_s: float
    drained_bytes_per_s: float


class ThrottledReader:
    """Drains a pty master at ``rate`` bytes/s into a ``VtScreen``; logs its status step."""

    def __init__(self, fd: int, rate: float, screen: VtScreen) -> None:
        self.fd, self.rate, self.screen = fd, rate, screen
        self.drained = 0
        self.closed = False
        self.step: int | None = None  # the step the status line shows now
        # A token bucket: the link carries `rate` bytes/s and saves up at most BURST s
        # of it while the app writes nothing.
        self._tokens = 0.0
        self._at = time.perf_counter()

    def read_once(self) -> None:
        """Read what the rate allows by now (nothing if the app wrote nothing)."""
        now = time.perf_counter()
        self._tokens = min(self._tokens + self.rate * (now - self._at), self.rate * BURST)
        self._at = now
        allowed = int(self._tokens)
        if allowed <= 0 or self.closed:
            return
        ready, _, _ = select.select([self.fd], [], [], 0)
        if not ready:
            return
        try:
            data = os.read(self.fd, min(allowed, 4096))
        except OSError:  # EIO: the app exited and closed the slave
            data = b""
        if not data:
            self.closed = True
            return
        self.drained += len(data)
        self._tokens -= len(data)
        self.screen.feed(data)
        for row in range(STATUS_ROWS):
            m = STATUS_STEP.search(self.screen.line(row))
            if m:
                self.step = int(m.group(1))
                break


def run_link(cfg: BenchConfig, quit_timeout: float) -> LinkRun:
    """One run: warm-up, a window of lags, then `q` and the time to exit."""
    exe = bp_tui_exe()
    assert exe is not None
    trainer = StepLog()
    with tempfile.TemporaryDirectory(prefix="bench-link-") as tmp:
        record = os.path.join(tmp, "run.jsonl")
        argv = [exe, SCENARIO, "--steps", str(LONG_RUN), "--speed", "max", "--record", record]
        app = PtyApp(argv).start()
        tail = RecordTail(record, trainer)
        reader = ThrottledReader(app.fd, cfg.link_rate, VtScreen(app.cols, app.rows))
        children: list[int] = []
        try:
            t_start = time.perf_counter()

            def pump() -> float:
                reader.read_once()
                now = time.perf_counter()
                tail.poll(now)
                time.sleep(TICK)
                return now

            # the warm-up counts from the first frame with a step (start-up is not timed)
            while reader.step is None and not reader.closed:
                if pump() - t_start > FIRST_FRAME_TIMEOUT:
                    break
            children = child_pids(app.pid)  # the trainer, started by now
            w0 = time.perf_counter() + cfg.link_warmup
            w1 = w0 + cfg.link_window
            shown: list[tuple[float, int]] = []  # (time, step on screen), every tick
            while time.perf_counter() < w1 and not reader.closed and reader.step is not None:
                now = pump()
                if now >= w0:
                    shown.append((now, reader.step))
            d0 = reader.drained
            t_q = time.perf_counter()
            app.send(b"q")
            exited = False
            while time.perf_counter() - t_q < quit_timeout:
                done, _ = os.waitpid(app.pid, os.WNOHANG)
                if done:
                    exited = True
                    break
                reader.read_once()
                time.sleep(TICK)
            quit_s = time.perf_counter() - t_q
            if exited:
                app.pid = -1  # reaped: stop() must not wait for it again
            speed = (trainer.step_at(w1) - trainer.step_at(w0)) / cfg.link_window
            return LinkRun(
                lags=lags(shown, trainer),
                quit_s=quit_s,
                exited=exited,
                trainer_steps_per_s=speed,
                drained_bytes_per_s=d0 / (t_q - t_start),
            )
        finally:
            tail.close()
            app.stop(grace=2.0)
            for pid in children:  # the trainer, if the app was killed before it could end it
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def run(cfg: BenchConfig) -> list[Row]:
    kb = cfg.link_rate / 1000
    specs = [
        (
            "link/step_lag",
            f"link draining {kb:.0f} KB/s: screen's step behind the trainer's",
            "s",
            "<=",
            1.0,
        ),
        ("link/quit", f"link draining {kb:.0f} KB/s: q to exit", "s", "<=", 1.0),
    ]
    why = app_available()
    if why:
        return [unavailable(*spec, why) for spec in specs]
    quit_timeout = 30.0
    got = run_link(cfg, quit_timeout)
    ctx = f"{SCENARIO}, --speed max, 120x40, 256 colours"
    if not got.lags:
        why = f"no step on the screen within {FIRST_FRAME_TIMEOUT:.0f} s"
        lag_row = unavailable(*specs[0], why)
    else:
        lag_row = Row(
            *specs[0],
            value=max(got.lags),
            samples=[median(got.lags)],
            absolute=f"median {median(got.lags):.2f} s over {len(got.lags)} samples; "
            f"trainer {got.trainer_steps_per_s:.0f} steps/s, "
            f"drained {got.drained_bytes_per_s / 1000:.1f} KB/s",
            note=f"{cfg.link_window:.0f} s window after {cfg.link_warmup:.0f} s; {ctx}",
        )
    quit_row = Row(
        *specs[1],
        value=got.quit_s,
        samples=[got.quit_s],
        absolute="" if got.exited else f"still running after {quit_timeout:.0f} s: killed",
        note=ctx,
    )
    return [lag_row, quit_row]
