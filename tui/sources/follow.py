"""FollowSource: follows an event stream that another program is still writing (tail -F).

Each ``poll()`` reads whatever the file gained since the last one (at most ``max_read``
bytes, so catching up on a long file never freezes the UI) and hands it to a
``core.stream.StreamParser``, which buffers a partial last line until its newline
arrives. The file is followed by name, like ``tail -F``:

- not there yet: the source waits for it to appear;
- replaced by a new file (another inode, e.g. a writer that opened it again with mode "w"
  after removing it, or log rotation): the old file is first read to its end (it stays
  open until then, over as many polls as that takes, so no step written just before the
  switch is lost), then the source emits ``{"type": "reset"}`` and reads the new file
  from its start, so the app clears its History and shows the new run;
- truncated (shorter than what was read), or rewritten in place (truncated and grown
  back past the read position between two polls): ``reset`` too, and the file is read
  again from its start. A rewrite is recognised by content, since neither the inode
  nor a size that only ever grows from one poll to the next gives it away: the first
  and the last ``WINDOW`` bytes read so far (the run event line, and the last lines
  before the read position, with their step numbers and losses) must still be in the
  file, byte for byte, where they were read. A rewrite that left both windows as they
  were is not noticed; it would have to write the same bytes at the same offsets, e.g.
  a deterministic rerun of the same run, whose steps then are the ones already shown;
- removed without replacement: the open file is still read (the writer may still hold it).

A pipe or FIFO (``bp-tui watch <(cmd)``, ``mkfifo``) is read as a plain stream: no
seek, no size, no rewrite or truncation checks. It is opened without waiting for a
writer and read without blocking (``O_NONBLOCK``): the UI never stalls on it. When a
run in it has ended (its ``end`` event) or its writer closed it, and more comes (the
FIFO opened again by the next run), the source emits ``reset`` and parses the new
stream from its start.

Reads are ``os.read`` on the descriptor, unbuffered: after a rewrite the source reads
from offset 0 again and never sees bytes a buffer kept from before it.

``status`` follows the EventSource protocol; ``detail`` is the line for the status bar:
what is followed, and how long the writer has been silent once that exceeds
``silent_after`` seconds ("writer silent for 12 s").
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import Any

from bp_tui.core.stream import StreamParser
from bp_tui.tui.sources.base import RESET_EVENT

SILENT_AFTER = 5.0  # seconds without new bytes before the status bar says so
# Bytes compared at the start and before the read position to notice a rewrite: a few
# step lines, so that their step numbers and losses, not only constant keys, are in it.
WINDOW = 4096


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
        self._fd: int | None = None  # the open file, read with os.read (unbuffered)
        self._stream = False  # a pipe or FIFO: read as it comes, never sought
        self._writer_gone = False  # a stream's writer closed it (EOF after data)
        self._inode: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._offset = 0  # bytes read from the open file
        self._head = b""  # the first WINDOW bytes read from it
        self._tail = b""  # the last WINDOW bytes read, ending at _offset
        self._parser = StreamParser(self.path)
        self._last_data = 0.0
        self._paused = False
        self._closed = False

    @property
    def detail(self) -> str:
        """One line for the status bar."""
        if self._fd is None:
            return f"waiting for {self.path} to appear"
        if self._stream and self._offset == 0:
            return f"waiting for a writer of {self.path}"
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
        if self._fd is not None:
            self._read(out)
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
        self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _read(self, out: list[dict[str, Any]]) -> bool:
        """Read what the open file gained (``max_read`` bytes at most) into ``out``;
        whether everything available now was read."""
        assert self._fd is not None
        try:
            data = os.read(self._fd, self._max_read)
        except BlockingIOError:  # a pipe whose writer has written nothing new
            return True
        except OSError:
            return True  # unreadable now: a later poll sees what became of it
        if self._stream:
            if not data:
                self._writer_gone = self._offset > 0
                return True
            if self._writer_gone:  # a FIFO's new writer: a new stream from its start
                self._writer_gone = False
                self._emit(out, self._parser.finish())
                out.append(RESET_EVENT)
                self._restart()
        if data:
            self._offset += len(data)
            self._last_data = self._clock()
            if len(self._head) < WINDOW:
                self._head += data[: WINDOW - len(self._head)]
            self._tail = (self._tail + data[-WINDOW:])[-WINDOW:]
            if self._stream:
                self._feed_stream(data, out)
            else:
                self._emit(out, self._parser.feed(data))
        # a regular file's read returns fewer bytes than asked only at its end
        return len(data) < self._max_read

    def _feed_stream(self, data: bytes, out: list[dict[str, Any]]) -> None:
        """Feed a pipe's bytes line by line: after an ``end`` event, the next line begins
        a new run (a FIFO's next writer may open it before this side ever saw EOF, e.g.
        a recording dashboard's restart), shown from a ``reset``."""
        for piece in data.splitlines(keepends=True):
            if self._parser.end is not None and piece.strip():
                out.append(RESET_EVENT)
                self._restart()
            self._emit(out, self._parser.feed(piece))

    def _emit(self, out: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.steps += sum(1 for e in events if e["type"] == "step")
        out.extend(events)

    def _check_file(self, out: list[dict[str, Any]]) -> None:
        """Open the file when it appears; start again when it was replaced (once the old
        one is read to its end), truncated or rewritten."""
        try:
            st = os.stat(self.path)
        except OSError:
            return  # not there (yet, or any more): keep reading what is open
        inode = (st.st_dev, st.st_ino)
        if self._fd is not None and inode != self._inode:
            if not self._read(out):
                return  # the old file is not drained yet: the next poll goes on with it
            self._emit(out, self._parser.finish())  # its last line may lack a newline
            self._close_fd()
            out.append(RESET_EVENT)
        elif self._fd is not None:
            if self._stream or (st.st_size >= self._offset and not self._rewritten()):
                return
            os.lseek(self._fd, 0, os.SEEK_SET)  # truncated or rewritten in place
            out.append(RESET_EVENT)
        if self._fd is None:
            try:
                # O_NONBLOCK: opening a FIFO would otherwise wait for its writer
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                return
            opened = os.fstat(fd)
            self._fd = fd
            self._inode = (opened.st_dev, opened.st_ino)
            self._stream = not stat.S_ISREG(opened.st_mode)
            self._writer_gone = False
            if not self._stream:  # a regular file's reads never wait anyway
                os.set_blocking(fd, True)
        self._restart()

    def _restart(self) -> None:
        """Parse the open file from its start (after ``reset``)."""
        self._offset = 0
        self._head = self._tail = b""
        self._parser = StreamParser(self.path)
        self.steps = 0
        self._last_data = self._clock()

    def _rewritten(self) -> bool:
        """Whether the bytes read first and last are no longer where they were read (the
        file was truncated and written again past the read position since the last poll).
        """
        assert self._fd is not None
        try:
            head = os.pread(self._fd, len(self._head), 0)
            tail = os.pread(self._fd, len(self._tail), self._offset - len(self._tail))
        except OSError:
            return False  # unreadable now: a later poll sees what became of it
        return head != self._head or tail != self._tail

    def _update_status(self) -> None:
        if self._parser.error is not None:
            self.status = f"error: {self._parser.error}"
        elif self._parser.end is not None:
            self.status = "ended"
        else:
            self.status = "paused" if self._paused else "running"
