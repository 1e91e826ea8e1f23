"""End the dashboard cleanly on SIGHUP (dropped SSH connection) and SIGTERM.

Python's default for both signals kills the process on the spot: Textual never leaves
application mode (a terminal that is still there stays in raw mode on the alternate
screen) and the app's sources are never closed. Instead we ask the app to exit, from
its own event loop, which restores the terminal and lets the app close its source
(whose trainer child is then stopped). If the app has not finished within ``grace``
seconds after the signal (a hung-up terminal can make it stall on output), a watchdog
runs the registered cleanups and ends the process; a trainer child notices its parent
is gone on its own as well (EOF on its pipe). Repeated signals are ignored: the first
one's exit is under way and the watchdog bounds it.

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
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, Protocol

HANDLED_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
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

    def force_exit(signum: int) -> None:
        # Runs in the watchdog thread while the main thread is stuck: best effort only.
        for fn in cleanups:
            with contextlib.suppress(Exception):
                fn()
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
