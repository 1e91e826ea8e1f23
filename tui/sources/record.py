"""RecordingSource: any event source, with its stream also written to a file.

``bp-tui SCENARIO --record run.jsonl`` wraps the live source in one. Each batch a poll
returns is written as whole lines before the UI sees it, into the file the user named,
in place (``tui/output_file.py``: a symlink is followed, a FIFO gets the stream once a
reader is there, and the dashboard never waits for one). A process killed at any moment
leaves a file that replays up to its last complete line. Only the stream's own events
(``run``, ``step``, ``end``) are written; a run cut short (quit, restart, crash) gets an
``end`` event with reason ``stopped`` when the source is closed. Each run shown (also
after ``r`` or ``f``) opens the file again and replaces the last one's recording.

A recording that fails (a full disk, its folder removed, a FIFO's reader gone) stops:
the status line says ``recording stopped: <reason>``, the live run goes on, and a
regular file is cut back to its last whole line, so it stays a valid stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bp_tui.core.events import EVENT_TYPES, encode, end_event
from bp_tui.tui.output_file import OutputFile

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource


class RecordingSource:
    """Forwards everything to ``inner`` and tees its events to ``path``; never raises for
    the file (see the module docstring). ``inputs``: files never to be written (the
    scenario files the dashboard read)."""

    def __init__(
        self, inner: EventSource, path: str | os.PathLike[str], *, inputs: Iterable[str] = ()
    ) -> None:
        self.inner = inner
        self._file = OutputFile(path, "--record", inputs=inputs, block=False)
        self._last_step = 0
        self._ended = False

    @property
    def status(self) -> str:
        return self.inner.status

    @property
    def detail(self) -> str:
        """The inner source's detail, and what became of the recording when it matters."""
        text = str(getattr(self.inner, "detail", ""))
        f = self._file
        if f.error is not None:
            note = f"recording stopped: {f.error}"
        elif f.waiting:
            note = f"recording waits for a reader of {f.path}"
        else:
            return text
        return f"{text} · {note}" if text else note

    @property
    def error(self) -> str | None:
        """Why the recording stopped, or None while it goes on."""
        return self._file.error

    def __getattr__(self, name: str) -> Any:  # e.g. a source's ``pid``
        return getattr(self.inner, name)

    def start(self) -> None:
        self.inner.start()

    def poll(self) -> list[dict[str, Any]]:
        events = self.inner.poll()
        kept = [e for e in events if e.get("type") in EVENT_TYPES]
        for e in kept:
            if e["type"] == "step":
                self._last_step = int(e["step"])
            elif e["type"] == "end":
                self._ended = True
        if kept:
            self._file.write("".join(encode(e) + "\n" for e in kept))
        else:
            self._file.pump()  # a FIFO's reader may have come, or caught up
        return events

    def command(self, name: str, value: float | str | None = None) -> None:
        self.inner.command(name, value)

    def close(self) -> None:
        self.inner.close()
        if not self._file.closed:
            if not self._ended:
                self._file.write(encode(end_event(self._last_step, "stopped")) + "\n")
            self._file.close()
