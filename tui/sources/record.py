"""RecordingSource: any event source, with its stream also written to a file.

``bp-tui SCENARIO --record run.jsonl`` wraps the live source in one. Each batch a poll
returns is written as whole lines and flushed before the UI sees it (``core.stream.
EventLog``), so a process killed at any moment leaves a file that replays up to its last
complete line. Only the stream's own events (``run``, ``step``, ``end``) are written;
a run cut short (quit, restart, crash) gets an ``end`` event with reason ``stopped``
when the source is closed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from bp_tui.core.events import EVENT_TYPES, end_event
from bp_tui.core.stream import EventLog

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource


class RecordingSource:
    """Forwards everything to ``inner`` and tees its events to ``path`` (opened now, so
    an unwritable path fails before the app starts)."""

    def __init__(self, inner: EventSource, path: str | os.PathLike[str]) -> None:
        self.inner = inner
        self._log = EventLog(path)
        self._last_step = 0
        self._ended = False

    @property
    def status(self) -> str:
        return self.inner.status

    def __getattr__(self, name: str) -> Any:  # e.g. a source's ``detail`` or ``pid``
        return getattr(self.inner, name)

    def start(self) -> None:
        self.inner.start()

    def poll(self) -> list[dict[str, Any]]:
        events = self.inner.poll()
        kept = [e for e in events if e.get("type") in EVENT_TYPES]
        if kept and not self._log.closed:
            for e in kept:
                if e["type"] == "step":
                    self._last_step = int(e["step"])
                elif e["type"] == "end":
                    self._ended = True
            self._log.write(kept)
        return events

    def command(self, name: str, value: float | str | None = None) -> None:
        self.inner.command(name, value)

    def close(self) -> None:
        self.inner.close()
        if not self._log.closed:
            if not self._ended:
                self._log.write([end_event(self._last_step, "stopped")])
            self._log.close()


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise ``OSError`` (with the file name) now if ``path`` cannot be written, so the
    command line reports it in one line before the app starts; creates nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, "No such directory", str(path))
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(13, "Permission denied", str(path))
