"""End the dashboard cleanly on SIGHUP (dropped SSH connection), SIGTERM and SIGINT.

Python's default for both signals kills the process on the spot: Textual never leaves
application mode (a terminal that is still there stays in raw mode on the alternate
screen) and the app's sources are never closed. Instead we ask the app to exit, from
its own event loop, which restores the terminal and lets the app close its source
(whose trainer child is then stopped). If the app has not finished within ``grace``
seconds after the signal (a hung-up terminal can make it stall on output), a watchdog
runs the registered cleanups, puts the terminal back (the line discipline saved before
the app started, the main screen, the cursor) and ends the process; a trainer child
notices its parent is gone on its own as well (EOF on its pipe). Repeated signals are
ignored: the first one's exit is under way and the watchdog bounds it. This is what
makes two Ctrl+C (SIGINT from ``kill -INT`` or a job-control shell: the app's raw mode
turns the key itself into a key press) within 50 ms safe: Python's default handler
raised KeyboardInterrupt in the middle of Textual's own terminal restore.

Exit statuses: ``q`` 0; Ctrl+C (the key, or SIGINT) 130; SIGTERM 143; SIGHUP 129.

Usage, around ``app.run()``::

    restore = install_signal_handlers(app, cleanup=[source.close])
    try:
        app.run()
    finally:
        restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, Protocol

HANDLED_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
# What a forced exit writes to the terminal: leave the alternate screen, show the
# cursor, and stop mouse, focus and bracketed-paste reporting and the kitty keyboard
# protocol, as Textual's own exit does.
RESET_SEQUENCE = (
    b"\x1b[<u\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    b"\x1b[?1004l\x1b[?2004l\x1b[?1049l\x1b[?25h"
)
GRACE = 1.5  # seconds the app gets to exit before the watchdog ends the process


class ExitableApp(Protocol):
    """What we need of a ``textual.app.App``."""

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None: ...


def exit_status(signum: int) -> int:
    """The shell convention for "ended by signal N": 128 + N (129 for SIGHUP)."""
    return 128 + signum


def install_signal_handlers(
    app: ExitableApp,
    cleanup: Iterable[Callable[[], None]] = (),
    grace: float = GRACE,
) -> Callable[[], None]:
    """Make SIGHUP and SIGTERM exit ``app`` gracefully; returns a function undoing it.

    ``cleanup``: callables (e.g. ``source.close``) run by the watchdog before a forced
    exit; the graceful path leaves closing to the app. The app exits with return code
    ``128 + signum``. Call the returned function after ``app.run()`` returns: it puts
    the previous handlers back, or after a signal ignores repeats while the caller
    cleans up (a watchdog already started stays armed).
    """
    cleanups = list(cleanup)
    received: list[int] = []
    terminal = _TerminalState.save()

    def force_exit(signum: int) -> None:
        # Runs in the watchdog thread while the main thread is stuck: best effort only.
        for fn in cleanups:
            with contextlib.suppress(Exception):
                fn()
        terminal.restore()
        os._exit(exit_status(signum))

    def handler(signum: int, frame: FrameType | None) -> None:
        # A hangup usually arrives twice (the kernel signals the terminal's foreground
        # group, the shell forwards its own SIGHUP): one graceful exit is enough, and
        # the watchdog already bounds how long it may take.
        if received:
            return
        received.append(signum)
        watchdog = threading.Timer(grace, force_exit, args=(signum,))
        watchdog.daemon = True  # a process that ends in time does not wait for it
        watchdog.start()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the app is not running (yet or any more)
            raise SystemExit(exit_status(signum)) from None
        loop.call_soon_threadsafe(lambda: app.exit(return_code=exit_status(signum)))

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED_SIGNALS}

    def restore() -> None:
        # After a signal, its repeats stay ignored so that the caller's cleanup after
        # app.run() is not killed half-way; the armed watchdog still bounds it.
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_IGN if received else old)

    return restore


class _TerminalState:
    """The terminal's line discipline as it was before the app started, put back by a
    forced exit (the app's own exit restores it on every other path)."""

    def __init__(self, fd: int | None, attrs: list[Any] | None, out: int | None) -> None:
        self.fd, self.attrs, self.out = fd, attrs, out

    @classmethod
    def save(cls) -> _TerminalState:
        try:
            import termios

            fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else None
            attrs = termios.tcgetattr(fd) if fd is not None and os.isatty(fd) else None
        except (ImportError, OSError, ValueError):
            fd, attrs = None, None
        # Textual draws on stderr's terminal (stdout may be a pipe)
        out = sys.__stderr__.fileno() if sys.__stderr__ is not None else None
        if out is not None and not os.isatty(out):
            out = None
        return cls(fd, attrs, out)

    def restore(self) -> None:
        with contextlib.suppress(Exception):
            if self.out is not None:
                os.write(self.out, RESET_SEQUENCE)
        with contextlib.suppress(Exception):
            if self.fd is not None and self.attrs is not None:
                import termios

                termios.tcsetattr(self.fd, termios.TCSANOW, self.attrs)
