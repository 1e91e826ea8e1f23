"""FollowSource: follows an event stream that another program is still writing (tail -F).

Each ``poll()`` reads whatever the file gained since the last one (at most ``max_read``
bytes, so catching up on a long file never freezes the UI) and hands it to a
``core.stream.StreamParser``, which buffers a partial last line until its newline
arrives. The file is followed by name, like ``tail -F``:

- not there yet: the source waits for it to appear;
- truncated (shorter than what was read) or replaced by a new file (another inode, e.g.
  a writer that opened it again with mode "w" after removing it, or log rotation): the
  source emits ``{"type": "reset"}`` and reads the new content from its start, so the
  app clears its History and shows the new run;
- removed without replacement: the open file is still read (the writer may still hold it).

``status`` follows the EventSource protocol; ``detail`` is the line for the status bar:
what is followed, and how long the writer has been silent once that exceeds
``silent_after`` seconds ("writer silent for 12 s").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO, Any

from core.stream import StreamParser
from tui.sources.replay import RESET_EVENT

SILENT_AFTER = 5.0  # seconds without new bytes before the status bar says so


class FollowSource:
    """An ``EventSource`` over a JSONL file that is still growing (``docs/internals.md``).

    ``status``: ``"running"`` while following, ``"paused"`` (nothing is read while
    paused; reading resumes where it stopped), ``"ended"`` once the end event arrived,
    ``"error: FILE: line N: ..."`` at a fault (every valid step before it was emitted;
    the source recovers if the file is then truncated or replaced).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        silent_after: float = SILENT_AFTER,
        max_read: int = 4 << 20,
    ) -> None:
        self.path = str(path)
        self.status = "running"
        self.steps = 0  # step events emitted since the last reset
        self._clock = clock
        self._silent_after = silent_after
        self._max_read = max_read
        self._file: IO[bytes] | None = None
        self._inode: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._offset = 0  # bytes read from the open file
        self._parser = StreamParser(self.path)
        self._last_data = 0.0
        self._paused = False
        self._closed = False

    @property
    def detail(self) -> str:
        """One line for the status bar."""
        if self._file is None:
            return f"waiting for {self.path} to appear"
        text = f"following {self.path}: {self.steps} steps"
        if self._parser.error is not None:
            return f"{text} · {self._parser.error}"
        if self._parser.end is not None:
            return f"{text} · run ended ({self._parser.end.get('reason', 'no reason given')})"
        silent = self._clock() - self._last_data
        if silent >= self._silent_after:
            text += f" · writer silent for {silent:.0f} s"
        return text

    def start(self) -> None:
        self._last_data = self._clock()

    def poll(self) -> list[dict[str, Any]]:
        if self._closed or self._paused:
            return []
        out: list[dict[str, Any]] = []
        self._check_file(out)
        if self._file is not None:
            data = self._file.read(self._max_read)
            if data:
                self._offset += len(data)
                self._last_data = self._clock()
                events = self._parser.feed(data)
                self.steps += sum(1 for e in events if e["type"] == "step")
                out.extend(events)
        self._update_status()
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        if name == "pause":
            self._paused = True
        elif name == "resume":
            self._paused = False
        self._update_status()

    def close(self) -> None:
        self._closed = True
        if self._file is not None:
            self._file.close()
            self._file = None

    def _check_file(self, out: list[dict[str, Any]]) -> None:
        """Open the file when it appears; start again when it was truncated or replaced."""
        try:
            st = os.stat(self.path)
        except OSError:
            return  # not there (yet, or any more): keep reading what is open
        inode = (st.st_dev, st.st_ino)
        if self._file is not None and inode == self._inode and st.st_size >= self._offset:
            return
        if self._file is not None:
            if inode == self._inode:  # truncated in place
                self._file.seek(0)
            else:
                self._file.close()
                self._file = None
            out.append(RESET_EVENT)
        if self._file is None:
            try:
                self._file = open(self.path, "rb")  # noqa: SIM115 - kept open while followed
            except OSError:
                return
            opened = os.fstat(self._file.fileno())
            self._inode = (opened.st_dev, opened.st_ino)
        self._offset = 0
        self._parser = StreamParser(self.path)
        self.steps = 0
        self._last_data = self._clock()

    def _update_status(self) -> None:
        if self._parser.error is not None:
            self.status = f"error: {self._parser.error}"
        elif self._parser.end is not None:
            self.status = "ended"
        else:
            self.status = "paused" if self._paused else "running"
