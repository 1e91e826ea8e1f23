"""``bp-tui serve`` end to end: the installed command on an ephemeral port answers on
127.0.0.1 with the app's page, its websocket drives the real dashboard, nothing listens
on another address, and Ctrl+C (SIGINT) stops it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import selectors
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bp_tui.tui.commands.serve import children, is_loopback
from tests.e2e.conftest import bp_tui_executable

pytestmark = pytest.mark.e2e

URL_RE = re.compile(r"open (http://(\S+):(\d+)) in a browser")


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line the server prints on stdout (fails after ``timeout`` seconds)."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"no URL printed within {timeout} s: {buf!r}"
        if sel.select(left):
            chunk = proc.stdout.read1(4096)  # type: ignore[attr-defined]
            assert chunk, f"the server exited: {proc.wait()}"
            buf += chunk
    return buf.decode().splitlines()[0]


def listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the LISTEN sockets on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            addr, hexport = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hexport, 16) == port:
                found.append(addr)
    return found


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses that are not loopback (may be none): the host
    name's, and the one a route out would use (a UDP connect sends nothing)."""
    found = set()
    with contextlib.suppress(OSError):
        found |= {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, never sent to
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in found if not is_loopback(a))


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    proc = subprocess.Popen(
        [bp_tui_executable(), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = read_line(proc, 60)
        match = URL_RE.search(line)
        assert match, line
        assert match.group(2) == "127.0.0.1"
        yield proc, int(match.group(3))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


async def open_tab_then_ctrl_c(proc: subprocess.Popen[bytes], port: int) -> dict:
    """A browser tab's session: read what its dashboard draws until the picker shows,
    check the listening sockets, then press Ctrl+C (SIGINT) on the server with the tab
    still open. Returns what was seen."""
    import aiohttp  # textual-serve's own dependency

    seen: dict = {"screen": b""}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws,
    ):
        async with asyncio.timeout(90):
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen["screen"] += msg.data
                if b"pick a scenario" in seen["screen"]:
                    break
        seen["listening"] = listening(port)
        seen["apps"] = children(proc.pid)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        seen["status"] = await asyncio.to_thread(proc.wait, 60)
        seen["seconds"] = time.monotonic() - t0
    return seen


def test_serve_answers_on_loopback_only_and_stops_on_ctrl_c(server) -> None:
    proc, port = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as resp:
        assert resp.status == 200
        page = resp.read().decode()
    assert "textual.js" in page and f"ws://127.0.0.1:{port}/ws" in page
    assert "<div>bp-tui</div>" in page  # the application's name, shown before it connects
    for addr in other_addresses():
        with pytest.raises(OSError), socket.create_connection((addr, port), timeout=5):
            pass

    seen = asyncio.run(open_tab_then_ctrl_c(proc, port))
    assert b"pick a scenario" in seen["screen"]  # the tab drives a real dashboard
    assert seen["listening"] == ["0100007F"]  # 127.0.0.1, and nothing on any other address
    assert len(seen["apps"]) == 1  # the tab's app
    assert seen["status"] == 0 and seen["seconds"] < 20
    assert listening(port) == []
    time.sleep(0.5)
    assert not [pid for pid in seen["apps"] if Path(f"/proc/{pid}").exists()]


def test_another_host_needs_saying_and_is_warned_about() -> None:
    proc = subprocess.Popen(
        [bp_tui_executable(), "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = read_line(proc, 60)
        assert "http://0.0.0.0:" in line
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "warning: listening on 0.0.0.0: anyone who can reach" in err


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [bp_tui_executable(), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.startswith("bp-tui: error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
