"""``LiveSource``: a ``core.trainer.Trainer`` running in a child process.

The trainer runs in a ``multiprocessing`` spawn-context child, never in a thread of
the UI process: on two cores a trainer thread runs many times slower because of the
GIL. The child (``child.py``) sends batches of encoded events about every 50 ms and
reads commands between steps on the same duplex pipe.

Nothing here blocks the UI: ``poll`` only reads what is already there (bounded work per
call), ``command`` sends a few bytes, and if the child's commands buffer were ever full
(the child blocked sending to us while we were not reading), ``command`` first drains
the incoming batches so the child can move on: neither side can wait on the other.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import select
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bp_tui.core.config import CLIP_MODES, Scenario
from bp_tui.core.events import decode
from bp_tui.tui.sources.base import COMMANDS
from bp_tui.tui.sources.child import child_main

MAX_MESSAGES_PER_POLL = 64  # batches read by one poll(); each holds up to ~50 ms of steps
POLL_BUDGET = 0.02  # seconds of work one poll() may do before returning
SEND_DEADLINE = 2.0  # seconds command() waits for a stuck child before giving up
JOIN_TIMEOUT = 0.5  # seconds close() waits at each escalation (stop, SIGTERM, SIGKILL)


class LiveSource:
    """Train ``scenario`` in a child process and stream its events.

    ``speed``: steps per second, ``None`` or ``0`` for as fast as the machine allows.
    ``status``: ``"running"``, ``"paused"``, ``"ended"`` or ``"error: <message>"``.
    """

    def __init__(self, scenario: Scenario, speed: float | None = None) -> None:
        self.scenario = scenario
        self.speed = _check_speed(speed)
        self.status = "running"
        self.pid: int | None = None  # the child's pid once started
        self._conn: Connection | None = None
        self._proc: BaseProcess | None = None
        self._inbox: list[dict[str, Any]] = []  # decoded while draining inside command()
        self._seq = 0  # last command sent
        self._ack = 0  # last command the child reported handled
        self._child_step = 0
        self._stop_sent = False
        self._closed = False

    # -- EventSource ------------------------------------------------------------
    def start(self) -> None:
        if self._proc is not None:
            return
        ctx = multiprocessing.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=child_main,
            args=(child_conn, self.scenario, self.speed, os.getpid()),
            name="bp-tui-trainer",
            daemon=True,  # multiprocessing's atexit hook ends it if close() is skipped
        )
        with _real_stderr():
            proc.start()
        # Drop our copy of the child's end: when the child dies, we read EOF.
        child_conn.close()
        self._conn, self._proc, self.pid = parent_conn, proc, proc.pid

    def poll(self) -> list[dict[str, Any]]:
        events, self._inbox = self._inbox, []
        self._drain(events, MAX_MESSAGES_PER_POLL, time.monotonic() + POLL_BUDGET)
        return events

    def command(self, name: str, value: float | str | None = None) -> None:
        """Send a command (see ``tui.sources.base.COMMANDS``); bad values raise ValueError."""
        message = (self._seq + 1, name, _check_command(name, value))
        # A finished run's network can still be checked (the child waits for "stop").
        ended = self.status.startswith("ended") and name != "gradcheck"
        if self._conn is None or self._closed or self.status.startswith("error") or ended:
            return  # no child left to obey it, or a finished run: nothing to change
        if self._send(message):
            self._seq += 1
            self._stop_sent = self._stop_sent or name == "stop"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn, proc = self._conn, self._proc
        if conn is not None and proc is not None and proc.is_alive():
            try:
                self._drain([], 1 << 30, time.monotonic() + 0.1)  # free a blocked child
                if _writable(conn, 0.1):
                    conn.send((self._seq + 1, "stop", None))
            except (OSError, EOFError):
                pass
        if conn is not None:
            conn.close()  # a child still sending now gets EPIPE and exits
        if proc is not None:
            _end_process(proc)
        if not self.status.startswith("error"):
            self.status = "ended"

    # -- beyond the protocol ----------------------------------------------------
    @property
    def alive(self) -> bool:
        """Whether the child process is running."""
        return self._proc is not None and self._proc.is_alive()

    @property
    def child_step(self) -> int:
        """The trainer's step count as of the child's latest message."""
        return self._child_step

    def wait_acked(self, timeout: float = 10.0) -> bool:
        """Block until the child has handled every command sent so far (for tests/tools).

        Events that arrive meanwhile are kept for the next ``poll``. Returns False on
        timeout or when the child is gone.
        """
        deadline = time.monotonic() + timeout
        while self._ack < self._seq and self._conn is not None and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.status.startswith("error"):
                return False
            if self._conn.poll(min(remaining, 0.1)):
                self._drain(self._inbox, 1, deadline)
        return self._ack >= self._seq

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------
    def _drain(self, out: list[dict[str, Any]], max_messages: int, deadline: float) -> None:
        """Read up to ``max_messages`` waiting batches into ``out`` without blocking."""
        conn = self._conn
        if conn is None or self._closed:
            return
        for _ in range(max_messages):
            try:
                if not conn.poll(0):
                    return
                lines, state = conn.recv()
            except (EOFError, OSError):
                self._child_gone(out)
                return
            for line in lines:
                out.append(self._take(decode(line)))
            self._ack = max(self._ack, state["ack"])
            self._child_step = state["step"]
            if not self.status.startswith(("error", "ended")):
                self.status = "paused" if state["paused"] else "running"
            if time.monotonic() > deadline:
                return

    def _take(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.get("type")
        if kind == "end":
            self.status = "ended"
        elif kind == "error":
            self.status = f"error: {event.get('message', 'unknown error')}"
        return event

    def _child_gone(self, out: list[dict[str, Any]]) -> None:
        """EOF on the pipe: fine after ``stop``, a crash report otherwise."""
        assert self._conn is not None and self._proc is not None
        self._conn.close()
        self._conn = None
        self._proc.join(JOIN_TIMEOUT)
        if self._stop_sent or self.status.startswith(("error", "ended")):
            if not self.status.startswith("error"):
                self.status = "ended"
            return
        message = f"trainer process died unexpectedly ({_describe_exit(self._proc.exitcode)})"
        out.append(self._take({"type": "error", "message": message}))

    def _send(self, message: tuple[int, str, Any]) -> bool:
        """Send without ever waiting on a child that waits on us; False if impossible."""
        assert self._conn is not None
        deadline = time.monotonic() + SEND_DEADLINE
        while time.monotonic() < deadline:
            if _writable(self._conn, 0):
                try:
                    self._conn.send(message)
                except OSError:  # the child is gone; the next poll reports it
                    return False
                return True
            # The child has not read our earlier commands: it is probably blocked
            # sending to us. Take what it sent so it can get back to reading.
            self._drain(self._inbox, MAX_MESSAGES_PER_POLL, deadline)
            if self._conn is None:
                return False
            _writable(self._conn, 0.05)
        return False


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """Put the process's real stderr back in ``sys.stderr`` for a moment.

    A running Textual app replaces ``sys.stderr`` with a capture object whose
    ``fileno()`` is -1, and the first spawn-context start hands
    ``sys.stderr.fileno()`` to multiprocessing's resource tracker, which then fails
    with "bad value(s) in fds_to_keep".
    """
    saved = sys.stderr
    try:
        if _fileno(saved) < 0 and _fileno(sys.__stderr__) >= 0:
            sys.stderr = sys.__stderr__
        yield
    finally:
        sys.stderr = saved


def _fileno(stream: object) -> int:
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return -1


def _writable(conn: Connection, timeout: float) -> bool:
    # A Unix socket is reported writable only while most of its buffer is free, so a
    # command of a few dozen bytes never blocks once this says yes.
    _, writable, _ = select.select([], [conn.fileno()], [], timeout)
    return bool(writable)


def _end_process(proc: BaseProcess) -> None:
    """Wait briefly for ``proc`` to exit, then SIGTERM, then SIGKILL."""
    proc.join(JOIN_TIMEOUT)
    if proc.is_alive():
        proc.terminate()
        proc.join(JOIN_TIMEOUT)
    if proc.is_alive():
        proc.kill()
        proc.join(JOIN_TIMEOUT)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        import signal

        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _check_speed(speed: float | None) -> float | None:
    if speed is None:
        return None
    speed = float(speed)
    if not math.isfinite(speed) or speed < 0:
        raise ValueError(f"speed must be >= 0 steps/s (0 = unlimited), got {speed}")
    return speed or None


def _check_command(name: str, value: float | str | None) -> float | str | None:
    """The value the child will get, validated here so a bad value never crashes it."""
    if name not in COMMANDS:
        raise ValueError(f"unknown command {name!r}; allowed: {', '.join(COMMANDS)}")
    if name == "speed":
        return _check_speed(value if value is None else float(value))
    if name in ("lr", "clip_threshold"):
        number = float(value) if value is not None else math.nan
        if not (math.isfinite(number) and number > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
        return number
    if name == "clip":
        if value not in CLIP_MODES:
            raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {value!r}")
        return value
    return None
