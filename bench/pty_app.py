"""Run a command in a pseudo-terminal and record what it writes, with timestamps.

The terminal is what an SSH user has: ``TERM=xterm-256color``, no ``COLORTERM`` (so 256
colours, not truecolor), a fixed size set with ``TIOCSWINSZ`` before the program starts.
Everything the program writes is kept as ``(time, bytes)`` chunks, so one run yields the
bytes per second over any window, the time of the first frame that shows data, and the
step counter of the status line over time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from dataclasses import dataclass, field

# CSI / OSC / other escape sequences, stripped to find the text the app drew.
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(data: bytes) -> str:
    """The printable text of a terminal stream (escape sequences removed)."""
    return _ANSI.sub(b"", data).decode("utf-8", "replace")


def pty_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an SSH session with a 256-colour terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    env.pop("TEXTUAL", None)  # no devtools
    env.update(extra or {})
    return env


@dataclass
class PtyApp:
    """A program running on the slave side of a pty; we hold the master."""

    argv: list[str]
    cols: int = 120
    rows: int = 40
    env: dict[str, str] = field(default_factory=pty_env)
    pid: int = -1
    fd: int = -1
    started: float = 0.0
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    closed: bool = False

    def start(self) -> PtyApp:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child: size the terminal before the program can ask for it
            try:
                winsize = struct.pack("HHHH", self.rows, self.cols, 0, 0)
                fcntl.ioctl(1, termios.TIOCSWINSZ, winsize)
                os.execvpe(self.argv[0], self.argv, self.env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        return self

    def pump(self, seconds: float) -> bytes:
        """Read whatever the program writes for ``seconds``; returns it (also logged)."""
        deadline = time.perf_counter() + seconds
        got = []
        while not self.closed:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:  # EIO: the program exited and closed the slave
                data = b""
            if not data:
                self.closed = True
                break
            self.chunks.append((time.perf_counter(), data))
            got.append(data)
        return b"".join(got)

    def pump_until(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str] | None:
        """Read until the screen text written since start matches ``pattern``."""
        deadline = time.perf_counter() + timeout
        text = ""
        while time.perf_counter() < deadline and not self.closed:
            text += strip_ansi(self.pump(0.02))
            m = pattern.search(text)
            if m:
                return m
        return None

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def bytes_between(self, t0: float, t1: float) -> int:
        return sum(len(d) for t, d in self.chunks if t0 <= t < t1)

    def text_between(self, t0: float, t1: float) -> str:
        return strip_ansi(b"".join(d for t, d in self.chunks if t0 <= t < t1))

    def first_time(self, pattern: re.Pattern[str]) -> float | None:
        """Seconds from start to the first chunk after which ``pattern`` is on screen."""
        acc = b""
        for t, d in self.chunks:
            acc += d
            if pattern.search(strip_ansi(acc)):
                return t - self.started
        return None

    def stop(self, quit_keys: bytes = b"q", grace: float = 5.0) -> None:
        """Ask the app to quit with ``quit_keys``; SIGTERM, then SIGKILL, if it will not.

        Also ends any process the app left behind (its trainer child), by pid.
        """
        if self.pid <= 0:
            return
        children = child_pids(self.pid)
        with contextlib.suppress(OSError):
            self.send(quit_keys)
        if not _wait(self.pid, grace, self):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, sig)
                if _wait(self.pid, 2.0, self):
                    break
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.pid = -1


def _wait(pid: int, seconds: float, app: PtyApp) -> bool:
    """Wait for ``pid`` to exit (reading its output so it never blocks on a full pty)."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
        app.pump(0.05)
    return False


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after "pid (comm)": state is field 3, utime 14, stime 15 (1-based) -> 11, 12 here
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
