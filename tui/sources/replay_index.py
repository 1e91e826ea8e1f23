"""StreamIndex: where each step of a recording sits in its file, so a replay can hold 24
bytes per step (a byte offset, a step number, a line number) instead of the step events.

``index_stream(path)`` reads the whole file once, fast: a step line as bp-tui writes it
(``{"type":"step","step":N,...``, N increasing) gives its number without being parsed,
once the first step has been checked in full. Every other line (the run and end events,
a foreign writer's lines, a damaged line) goes through ``core.stream.StreamParser``,
which stops at the first fault, as ``read_stream`` does; a step number must also fit in
int64. The rest of each step line is checked when ``StepReader`` reads it back (a
bounded span of bytes at a time): a fault found there stops the reading at that line,
with the message ``read_stream`` gives for it. Checking every line up front took about
25 s for a 10^6-step recording.
"""

from __future__ import annotations

import os
import re
import stat
from array import array
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from bp_tui.core.stream import MAX_LINE_BYTES, StreamError, StreamParser

_CHUNK = 1 << 20  # bytes read per system call while indexing
_STEP_PREFIX = b'{"type":"step","step":'  # how every step line bp-tui writes begins
_MAX_DIGITS = 18  # a step number of at most 18 digits is below 2**63


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class StreamIndex:
    """A validated recording, without its step events.

    ``offsets``: shape (n,), int64, the byte offset of the first byte of each step line,
    in file order; ``steps``: shape (n,), int64, that step's number (increasing);
    ``lines``: shape (n,), int64, its 1-based line number (for a fault found later).
    ``stop``: the byte offset just past the last step line (its newline included).
    ``run`` / ``end``: the opening and closing events or ``None``; ``error``: the first
    fault found while indexing, ``None`` if none (as ``StreamContents``); a step line
    may still hold a fault that ``StepReader`` finds when it reads the line.
    ``stamp``: the file's (size, mtime) when indexed, to tell a fault from a rewrite.
    """

    path: str
    run: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    error: StreamError | None = None
    offsets: np.ndarray = field(default_factory=_empty)
    steps: np.ndarray = field(default_factory=_empty)
    lines: np.ndarray = field(default_factory=_empty)
    stop: int = 0
    stamp: tuple[int, int] = (0, 0)

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def last_step(self) -> int:
        """The last valid step number, 0 when there is none."""
        return int(self.steps[-1]) if len(self.steps) else 0


class _Builder:
    """Collects the events of one line at a time: (offset, step, line) into three
    ``array('q')`` (appending over-allocates by ~1/8 only, and ``done()`` views them as
    NumPy without a copy, so indexing peaks at ~27 bytes per step)."""

    def __init__(self, index: StreamIndex) -> None:
        self.index = index
        self.offsets = array("q")
        self.steps = array("q")
        self.lines = array("q")

    def add(self, events: list[dict[str, Any]], offset: int, end: int, line: int) -> None:
        for event in events:
            if event["type"] == "run":
                self.index.run = event
            elif event["type"] == "end":
                self.index.end = event
            elif not -(2**63) <= event["step"] < 2**63:
                found = f"step: found {event['step']}, allowed an integer below 2**63"
                self.index.error = StreamError(self.index.path, line, found)
            else:
                self.step(event["step"], offset, end, line)

    def step(self, step: int, offset: int, end: int, line: int) -> None:
        self.offsets.append(offset)
        self.steps.append(step)
        self.lines.append(line)
        self.index.stop = end

    def done(self) -> StreamIndex:
        for name in ("offsets", "steps", "lines"):
            values = getattr(self, name)
            view = np.frombuffer(values, dtype=np.int64) if values else _empty()
            setattr(self.index, name, view)
        return self.index


def _not_seekable(mode: int) -> str | None:
    """Why a file of ``mode`` cannot be replayed (it is read twice and sought in), or None
    for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "found a folder, allowed a regular file"
    kind = "a pipe or FIFO" if stat.S_ISFIFO(mode) else "a socket or device"
    return (
        f"found {kind}, which cannot be sought, allowed a regular file "
        "(bp-tui watch FILE follows a stream)"
    )


_BLANK_LINES = re.compile(rb"(?:[ \t\r]*\n)+")


def index_stream(path: str | os.PathLike[str]) -> StreamIndex:
    """Validate the file at ``path`` and index its step lines; never raises for a bad file
    (the fault is ``error``, with the events before it indexed, as ``read_stream``). A
    pipe, FIFO, device or folder is refused (``error``) without reading from it."""
    parser = StreamParser(path)
    build = _Builder(StreamIndex(str(path)))

    def sound() -> bool:
        return parser.error is None and build.index.error is None

    pending, base = b"", 0  # an incomplete line and its file offset
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO: no wait
        problem = _not_seekable(os.fstat(fd).st_mode)
        if problem is not None:
            os.close(fd)
            build.index.error = StreamError(path, None, problem)
            return build.done()
        os.set_blocking(fd, True)
        st = os.fstat(fd)
        build.index.stamp = (st.st_size, st.st_mtime_ns)
        with open(fd, "rb") as f:
            while sound() and (chunk := f.read(_CHUNK)):
                data, start = pending + chunk, 0
                # One line per feed, so that each event is known with its offset.
                while sound() and (nl := data.find(b"\n", start)) >= 0:
                    if blank := _BLANK_LINES.match(data, start):  # no events: one feed
                        parser.feed(data[start : blank.end()])
                        start = blank.end()
                        continue
                    step = _step_number(data, start, nl, parser)
                    if step is not None:  # one of our step lines: checked when read
                        _count_step(parser, step)
                        build.step(step, base + start, base + nl + 1, parser.lines)
                    else:
                        events = parser.feed(data[start : nl + 1])
                        build.add(events, base + start, base + nl + 1, parser.lines)
                    start = nl + 1
                pending, base = data[start:], base + start
                if len(pending) > MAX_LINE_BYTES:
                    parser.feed(pending)  # no newline in sight: the parser reports it
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        build.index.error = StreamError(path, None, f"cannot read: {reason.lower()}")
        return build.done()
    if sound():
        parser.feed(pending)  # a last line without its newline: valid only if complete
        build.add(parser.finish(), base, base + len(pending), parser.lines)
    build.index.error = build.index.error or parser.error or parser.no_events_error()
    return build.done()


def _step_number(data: bytes, start: int, stop: int, parser: StreamParser) -> int | None:
    """The step number of the line ``data[start:stop]`` when it begins as bp-tui writes a
    step and may follow what the parser has seen; ``None``: the parser reads the line.
    The first step is always parsed, so that a recording with no step to show is refused
    when it is opened, in the reader's words."""
    if parser.last_step is None or parser.end is not None:
        return None
    if not data.startswith(_STEP_PREFIX, start, stop):
        return None
    begin = start + len(_STEP_PREFIX)
    comma = data.find(b",", begin, stop)
    digits = data[begin:comma] if comma >= 0 else b""
    # Plain digits only (int() would take "+7", " 7", "7_0"), no leading zero, < 2**63.
    if not digits.isdigit() or len(digits) > _MAX_DIGITS or digits[:1] == b"0":
        return None
    step = int(digits)
    return step if step > parser.last_step else None  # else the parser words the fault


def _count_step(parser: StreamParser, step: int) -> None:
    """Let ``parser`` go on after a step line it did not read (``_step_number``), as if
    it had: the same line count, last step and event count."""
    parser.lines += 1
    parser.events += 1
    parser.last_step = step


class StepReader:
    """Reads indexed step events back from the file, ``max_bytes`` of it at most per call.

    The file is opened on first use and kept open until ``close()``. Each line is checked
    as ``StreamParser`` checks it when it is read; a faulty line stops reading for good
    with ``error`` set (the steps before it are returned), in ``read_stream``'s words,
    or ``FILE: changed while replaying: ...`` when the file is no longer the one indexed
    (a line that holds another step, a file rewritten) rather than show something that
    was never checked. ``limit``: reads stop before this position (``len(index)``, the
    faulty line's position, 0 once the file changed). ``checked``: positions
    ``0 .. checked - 1`` were all read and found sound.
    """

    def __init__(self, index: StreamIndex, *, max_bytes: int = 1 << 18) -> None:
        self.index = index
        self.max_bytes = max_bytes
        self.error: StreamError | None = None
        self.limit = len(index)
        self.checked = 0
        self._file: IO[bytes] | None = None

    def fit(self, first: int, n: int) -> int:
        """How many of the ``n`` steps from position ``first`` fit in ``max_bytes`` (>= 1
        when ``n`` >= 1: a single line longer than that is still read whole)."""
        if n <= 0:
            return 0
        limit = int(self.index.offsets[first]) + self.max_bytes
        # step j ends where step j + 1 begins, the last one at ``stop``
        begun = int(np.searchsorted(self.index.offsets, limit, side="right"))
        last_fits = begun == len(self.index) and self.index.stop <= limit
        fits = begun - first - (0 if last_fits else 1)
        return max(1, min(n, fits))

    def read(self, first: int, n: int) -> list[dict[str, Any]]:
        """The step events at positions ``first`` .. ``first + n - 1``, in order; fewer
        when a line is faulty or the file changed: ``error`` says why, and no read
        returns anything from that line on (nothing at all once the file changed)."""
        n = min(n, self.limit - first)
        if n <= 0:
            return []
        index = self.index
        offsets = index.offsets[first : first + n]
        # From the byte before the first line (a newline, unless it is the file's first
        # byte): a line that no longer follows a newline means the file was rewritten.
        start = int(offsets[0]) - (1 if offsets[0] else 0)
        stop = int(index.offsets[first + n]) if first + n < len(index) else index.stop
        try:
            if self._file is None:
                # Unbuffered: each read sees the file as it is now, not a stale buffer.
                self._file = open(index.path, "rb", buffering=0)  # noqa: SIM115 - kept open
            self._file.seek(start)
            data = self._file.read(stop - start)
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            self._stop(StreamError(index.path, None, f"cannot read: {reason}"))
            return []
        parser = StreamParser(index.path)  # each line checked as the reader checks it
        parser.last_step = int(index.steps[first - 1]) if first else None
        out = []
        at_lines = index.lines[first : first + n].tolist()
        expected = index.steps[first : first + n].tolist()
        for at, step, number in zip((offsets - start).tolist(), expected, at_lines, strict=True):
            if len(data) < stop - start or (at and data[at - 1] != ord("\n")):
                self._stop(self._changed())  # shorter, or its lines have moved
                break
            nl = data.find(b"\n", at)
            parser.lines = number - 1
            events = parser.feed(data[at : nl if nl >= 0 else len(data)] + b"\n")
            if parser.error is not None and not self._rewritten():
                self._stop(parser.error, at=first + len(out))
                break
            if parser.error is not None or not events or events[0]["step"] != step:
                self._stop(self._changed())
                break
            out.append(events[0])
        if first <= self.checked:
            self.checked = max(self.checked, first + len(out))
        return out

    def _stop(self, error: StreamError, at: int = 0) -> None:
        """Read nothing from position ``at`` on (0: the file changed, nothing at all)."""
        self.error, self.limit = error, at

    def _rewritten(self) -> bool:
        """Whether the file is not the one indexed (grown by appending is the same)."""
        size, mtime = self.index.stamp
        try:
            st = os.stat(self.index.path)
        except OSError:
            return True
        return st.st_size < size or (st.st_size == size and st.st_mtime_ns != mtime)

    def _changed(self) -> StreamError:
        return StreamError(
            self.index.path, None, "changed while replaying: replay it again to see it"
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
