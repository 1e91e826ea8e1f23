"""End-to-end fixtures: the installed ``bp-tui`` in a detached tmux pane.

Each test gets its own tmux server (``-L`` with a unique socket name, ``-f /dev/null``
so no user configuration is read), which is killed afterwards: a user's own tmux is
never touched. The pane runs a bare ``bash`` whose environment carries a unique
marker, so the test can find every process the run left behind (bp-tui, its trainer
child, multiprocessing's helper) by scanning ``/proc/*/environ``.

Without tmux the tests skip with a loud reason, or fail when ``BP_TUI_REQUIRE_E2E=1``
(CI sets it, so a missing tmux can never turn the suite green by skipping).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROMPT = "READY$"  # PS1 of the pane's shell, so "the prompt came back" is unambiguous
MARKER_VAR = "BP_TUI_E2E_MARK"
STATUS_RE = re.compile(r"^\s*(?P<state>\S.*?)\s{2}.*?\bstep (?P<step>\d+|–)/(?P<total>\d+)")


def bp_tui_executable() -> str:
    """The installed console script: the one beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "bp-tui"
    if beside.exists():
        return str(beside)
    found = shutil.which("bp-tui")
    if found is None:
        pytest.fail("bp-tui is not installed: pip install -e . in this environment")
    return found


def require_tmux() -> str:
    tmux = shutil.which("tmux")
    if tmux is None:
        reason = "tmux not installed: apt-get install tmux"
        if os.environ.get("BP_TUI_REQUIRE_E2E") == "1":
            pytest.fail(f"{reason} (BP_TUI_REQUIRE_E2E=1 requires the e2e tests to run)")
        pytest.skip(reason)
    return tmux


def wait_for(what: str, check: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll ``check`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(0.05)


def process_alive(pid: int) -> bool:
    """True unless the process is gone or only a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def marked_processes(marker: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment holds ``marker``."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if process_alive(int(entry.name)):
            found[int(entry.name)] = cmdline
    return found


def tmux_dir() -> str:
    """Where tmux keeps its sockets: $TMUX_TMPDIR (or /tmp)/tmux-UID."""
    return os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}")


class TmuxPane:
    """One detached tmux server with one pane running a marked bare bash."""

    def __init__(self, tmux: str, width: int, height: int, env: dict[str, str]) -> None:
        self.tmux = tmux
        self.socket = f"bp-tui-e2e-{uuid.uuid4().hex[:12]}"
        self.marker = uuid.uuid4().hex
        self.width, self.height = width, height
        pane_env = {
            "TERM": "xterm-256color",
            "PS1": f"{PROMPT} ",
            "PROMPT_COMMAND": "",
            MARKER_VAR: self.marker,
            **env,
        }
        # Start from the test's environment minus anything that changes colours.
        unset = ["-u", "COLORTERM", "-u", "NO_COLOR", "-u", "FORCE_COLOR", "-u", "TMUX"]
        assigns = [f"{k}={v}" for k, v in pane_env.items()]
        shell = ["env", *unset, *assigns, "bash", "--norc", "--noprofile", "-i"]
        self.run(
            "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "e2e",
            shlex.join(shell),
        )  # fmt: skip
        self.run("set-option", "-g", "status", "off")  # the pane gets every line
        self.shell_pid = int(self.run("display-message", "-p", "-t", "e2e", "#{pane_pid}"))
        wait_for("the shell prompt", lambda: self.prompts() >= 1)

    def run(self, *args: str) -> str:
        out = subprocess.run(
            [self.tmux, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def kill_server(self) -> None:
        socket_path = self.run("display-message", "-p", "#{socket_path}") if self.alive() else ""
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=10
        )
        # tmux leaves the socket file of a server that ended with its last pane; one per
        # test would pile up in /tmp/tmux-UID
        for path in (socket_path, os.path.join(tmux_dir(), self.socket)):
            if path:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def alive(self) -> bool:
        probe = [self.tmux, "-L", self.socket, "has-session"]
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0

    # -- the screen -------------------------------------------------------------
    def lines(self) -> list[str]:
        return self.run("capture-pane", "-p", "-t", "e2e").splitlines()

    def flag(self, name: str) -> str:
        return self.run("display-message", "-p", "-t", "e2e", f"#{{{name}}}")

    def prompts(self) -> int:
        """Shell prompt lines on screen (with or without a command typed after them)."""
        return sum(1 for line in self.lines() if line.startswith(PROMPT))

    def status(self) -> tuple[str, int | None, int, str] | None:
        """(state, step, total, the whole line) parsed from the dashboard's status line."""
        for line in self.lines():
            m = STATUS_RE.match(line)
            if m:
                step = None if m["step"] == "–" else int(m["step"])
                return m["state"].strip(), step, int(m["total"]), line.rstrip()
        return None

    def step(self) -> int | None:
        status = self.status()
        return status[1] if status else None

    # -- input ------------------------------------------------------------------
    def type_line(self, text: str) -> None:
        self.run("send-keys", "-t", "e2e", "-l", text)
        self.run("send-keys", "-t", "e2e", "Enter")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    # -- processes --------------------------------------------------------------
    def processes(self) -> dict[int, str]:
        """Every live process of this test except the pane's shell."""
        found = marked_processes(self.marker)
        found.pop(self.shell_pid, None)
        return found

    def bp_tui_pid(self) -> int:
        def find() -> int | None:
            for pid, cmd in self.processes().items():
                if "bp-tui" in cmd and "multiprocessing" not in cmd:
                    return pid
            return None

        return int(wait_for("the bp-tui process", find))  # type: ignore[arg-type]


@pytest.fixture
def pane() -> Iterator[Callable[..., TmuxPane]]:
    """Factory: ``pane(width=120, height=40, **env)``; every server is killed afterwards."""
    tmux = require_tmux()
    made: list[TmuxPane] = []

    def make(width: int = 120, height: int = 40, **env: str) -> TmuxPane:
        p = TmuxPane(tmux, width, height, env)
        made.append(p)
        return p

    yield make
    for p in made:
        p.kill_server()
        # Nothing of ours may outlive the test, whatever happened in it.
        for pid in marked_processes(p.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


@pytest.fixture
def bp_tui() -> str:
    return bp_tui_executable()
