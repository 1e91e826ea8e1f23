"""``bp-tui serve``: the dashboard in a web browser, through textual-serve.

Every browser tab that opens the page starts its own ``bp-tui ARGS...`` process (the
dashboard, a replay, a watch) and drives it over a websocket. The server listens on
127.0.0.1 unless ``--host`` says otherwise: anyone who can reach the address can drive
the dashboard, with no password, so another host is a choice the user makes explicitly
and is warned about. Over SSH, forward the port instead (README: ``ssh -L``).

The socket is bound before the URL is printed, so ``--port 0`` (a free port) prints the
port it got, and a port in use is one line ``bp-tui: error: ...``, exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import ipaddress
import os
import shlex
import signal
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

from bp_tui.tui.commands.args import CliParser
from bp_tui.tui.errors import EXIT_USAGE, PROG, CliError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Ctrl+C with a browser tab open: how long open sessions get to close before the
# server stops anyway (aiohttp waits 60 s by default; the tabs' apps end with it).
SHUTDOWN_SECONDS = 3.0
# What each browser tab runs: this interpreter and this bp_tui, whatever PATH says.
_ENTRY = "import sys; from bp_tui.tui.commands.cli import main; sys.exit(main())"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"found {text!r}, allowed 0-65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"found {port}, allowed 0-65535")
    return port


def _parse(argv: list[str]) -> argparse.Namespace:
    p = CliParser(
        prog=f"{PROG} serve",
        description="Serve the dashboard to a web browser (textual-serve). "
        f"Listens on {DEFAULT_HOST} only, unless --host is given. "
        f"Example: {PROG} serve -- vanishing --fix",
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}); any other is reachable "
        "by others, who can then drive the dashboard",
    )
    p.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: a free one"
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use to reach this server, when it is not http://HOST:PORT "
        "(a proxy, or --host 0.0.0.0)",
    )
    p.add_argument(
        "args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="what each browser tab runs, as after bp-tui (default: the scenario picker); "
        "put -- before it",
    )
    return p.parse_args(argv)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        problem = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise CliError(None, "--host/--port", problem) from None
    return sock


def run_serve(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The ``bp-tui serve`` command; returns the exit status (0 after Ctrl+C)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parse(argv)
    if importlib.util.find_spec("textual_serve") is None:
        print(f"{PROG}: error: serve needs textual-serve: pip install 'bp-tui[serve]'", file=err)
        return EXIT_USAGE
    dash_args = args.args[1:] if args.args[:1] == ["--"] else args.args
    if not is_loopback(args.host):
        print(
            f"{PROG} serve: warning: listening on {args.host}: anyone who can reach this "
            "address and port can drive the dashboard (there is no password)",
            file=err,
        )
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = args.public_url or f"http://{shown_host}:{port}"
    command = shlex.join([sys.executable, "-c", _ENTRY, *dash_args])
    print(f"{PROG} serve: open {url} in a browser (Ctrl+C to stop)", file=out, flush=True)
    server = _make_server(
        sock, command, host=args.host, port=port, title="bp-tui", public_url=url.rstrip("/")
    )
    try:
        server.serve()
    finally:
        sock.close()
    return 0


def children(pid: int | None = None) -> list[int]:
    """Process ids whose parent is ``pid`` (default: this process), from /proc; empty
    where there is no /proc (then aiohttp's shutdown timeout is all there is)."""
    parent = os.getpid() if pid is None else pid
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat") if Path("/proc/self").exists() else ():
        try:
            stat = entry.read_text()
        except OSError:  # the process ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(entry.parent.name))
    return found


def signal_children(signum: int) -> None:
    """Send ``signum`` to each tab's app: the shell textual-serve starts and the bp-tui
    under it (a shell that did not exec its command)."""
    for pid in children():
        for target in (*children(pid), pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signum)


def _socket_server_class() -> Any:
    from aiohttp import web
    from textual_serve.server import Server

    class SocketServer(Server):
        """textual-serve's Server on a socket bound beforehand (so the URL printed is
        the one served, also for port 0)."""

        def __init__(self, sock: socket.socket, command: str, **kwargs: Any) -> None:
            super().__init__(command, **kwargs)
            self._sock = sock

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: run_serve printed the URL (the default prints a logo and the
            command line each tab runs)."""

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl+C with tabs open: end each tab's app now (the dashboard exits
            cleanly on SIGTERM), so its websocket handler returns instead of waiting for
            a browser that keeps answering pings."""
            signal_children(signal.SIGTERM)

        def serve(self, debug: bool = False) -> None:
            # Server.serve with sock= instead of host/port; the SIGINT/SIGTERM handlers
            # it installs belong to this command's own event loop, which ends with it.
            import asyncio

            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            try:
                web.run_app(
                    self._make_app(),
                    sock=self._sock,
                    shutdown_timeout=SHUTDOWN_SECONDS,
                    handle_signals=False,
                    loop=loop,
                    print=lambda *_: None,
                )
            finally:
                loop.close()
                signal_children(signal.SIGKILL)  # an app that did not end in time

    return SocketServer


def _make_server(sock: socket.socket, command: str, **kwargs: Any) -> Any:
    """A ``SocketServer`` (textual-serve is imported only here, once it is known to be
    installed)."""
    return _socket_server_class()(sock, command, **kwargs)
