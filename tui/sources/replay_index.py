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
from numpy.lib.stride_tricks import sliding_window_view

from bp_tui.core.stream import MAX_LINE_BYTES, StreamError, StreamParser

_CHUNK = 1 << 18  # bytes read per system call while indexing
_STEP_PREFIX = b'{"type":"step","step":'  # how every step line bp-tui writes begins
_MAX_DIGITS = 18  # a step number of at most 18 digits is below 2**63
# A line that begins as step N but says otherwise further on (JSON's last duplicate key
# wins), which the index, reading only its start, cannot see: read_stream would take it.
_TWICE = 'found "type" or "step" given twice in a step line, allowed each key once'


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

    def steps_unparsed(self, offsets: np.ndarray, steps: np.ndarray, first_line: int) -> None:
        """Step lines on consecutive lines from ``first_line``, their numbers read by
        ``_scan`` (int64 arrays of shape (k,))."""
        self.offsets.frombytes(offsets.astype(np.int64).tobytes())
        self.steps.frombytes(steps.astype(np.int64).tobytes())
        lines = np.arange(first_line, first_line + len(steps), dtype=np.int64)
        self.lines.frombytes(lines.tobytes())

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


def _open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file; ``StreamError`` if not. Opened
    without waiting (``O_NONBLOCK``: a FIFO's open would wait for a writer), and nothing
    is read from anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        problem = _not_seekable(os.fstat(fd).st_mode)
        if problem is not None:
            raise StreamError(path, None, problem)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb")


def index_stream(path: str | os.PathLike[str]) -> StreamIndex:
    """Validate the file at ``path`` and index its step lines; never raises for a bad file
    (the fault is ``error``, with the events before it indexed, as ``read_stream``). A
    pipe, FIFO, device or folder is refused (``error``) without reading from it."""
    parser = StreamParser(path)
    build = _Builder(StreamIndex(str(path)))

    def sound() -> bool:
        return _sound(parser, build)

    pending, base = b"", 0  # an incomplete line and its file offset
    try:
        with _open_regular(path) as f:
            st = os.fstat(f.fileno())
            build.index.stamp = (st.st_size, st.st_mtime_ns)
            while sound() and (chunk := f.read(_CHUNK)):
                data = pending + chunk
                start = _index_lines(data, base, parser, build)
                pending, base = data[start:], base + start
                if len(pending) > MAX_LINE_BYTES:
                    parser.feed(pending)  # no newline in sight: the parser reports it
    except StreamError as exc:  # not a regular file
        build.index.error = exc
        return build.done()
    except OSError as exc:
        build.index.error = StreamError.unreadable(path, exc)
        return build.done()
    if sound():
        parser.feed(pending)  # a last line without its newline: valid only if complete
        build.add(parser.finish(), base, base + len(pending), parser.lines)
    build.index.error = build.index.error or parser.error or parser.no_events_error()
    return build.done()


def _sound(parser: StreamParser, build: _Builder) -> bool:
    return parser.error is None and build.index.error is None


def _index_lines(data: bytes, base: int, parser: StreamParser, build: _Builder) -> int:
    """Index the complete lines of ``data`` (found at file offset ``base``) until the
    first fault; returns where the incomplete rest of ``data`` begins. A run of our step
    lines with increasing numbers is counted without being parsed, once the parser has
    read the first step in full (so a recording with no step to show is refused when it
    is opened, in the reader's words); every other line is fed to the parser alone, so
    that each event is known with its offset."""
    starts, ends, steps = _scan(data)
    # where a run of ours stops: a line that is not ours, or whose number does not grow
    grows = np.ones(len(steps), dtype=bool)
    grows[1:] = steps[1:] > steps[:-1]
    stops = np.flatnonzero((steps < 0) | ~grows)
    i = 0
    while i < len(starts) and _sound(parser, build):
        step, start = int(steps[i]), int(starts[i])
        if parser.end is None and parser.last_step is not None and step > parser.last_step:
            after = int(np.searchsorted(stops, i, side="right"))
            j = int(stops[after]) if after < len(stops) else len(starts)
            build.steps_unparsed(base + starts[i:j], steps[i:j], parser.lines + 1)
            build.index.stop = base + int(ends[j - 1])
            parser.lines, parser.events = parser.lines + j - i, parser.events + j - i
            parser.last_step, i = int(steps[j - 1]), j
        elif blank := _BLANK_LINES.match(data, start):  # no events: one feed
            parser.feed(data[start : blank.end()])
            i = int(np.searchsorted(starts, blank.end()))
        else:
            events = parser.feed(data[start : ends[i]])
            build.add(events, base + start, base + int(ends[i]), parser.lines)
            i += 1
    return int(ends[-1]) if len(ends) else 0


def _scan(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The complete lines of ``data``: where each begins and ends (past its newline), and
    the step number of each that begins as bp-tui writes a step (``{"type":"step",
    "step":N,`` with N plain digits, no leading zero, below 2**63), -1 for every other
    line. Shapes (k,), int64. Vectorised: a Python loop over each line of a 10^6-step
    recording took seconds."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord("\n")) + 1
    starts = np.zeros_like(ends)
    starts[1:] = ends[:-1]
    steps = np.full(len(starts), -1, dtype=np.int64)
    # The bytes a step line is known by: the prefix, up to 18 digits and a comma. The
    # lines that begin with them are picked out step by step (a file of a million blank
    # lines costs no more memory); a line too near the end for a look is the parser's.
    prefix = np.frombuffer(_STEP_PREFIX, dtype=np.uint8)
    width = len(prefix) + _MAX_DIGITS + 2  # 19 digits are looked at: one too many
    if len(buf) < width:
        return starts, ends, steps
    rows = np.flatnonzero((buf[starts] == prefix[0]) & (starts <= len(buf) - width))
    heads = sliding_window_view(buf, width)[starts[rows]]  # (r, width) bytes
    mine = (heads[:, : len(prefix)] == prefix).all(axis=1)
    rows, heads = rows[mine], heads[mine]
    digits = heads[:, len(prefix) : -1].astype(np.int64) - ord("0")  # (r, 19)
    is_digit = (digits >= 0) & (digits <= 9)
    count = np.where(is_digit.all(axis=1), _MAX_DIGITS + 1, np.argmin(is_digit, axis=1))
    after = heads[np.arange(len(rows)), len(prefix) + count]
    # 1 to 18 digits (below 2**63), no leading zero ("07": the parser words it), a comma
    ok = (count >= 1) & (count <= _MAX_DIGITS) & (digits[:, 0] != 0) & (after == ord(","))
    # the digits read as one 18-digit number, then the places past the count cut off
    places = np.arange(_MAX_DIGITS)
    leading = np.where(places < count[:, None], digits[:, :_MAX_DIGITS], 0)
    whole = leading @ (10 ** (_MAX_DIGITS - 1 - places))
    steps[rows[ok]] = whole[ok] // 10 ** (_MAX_DIGITS - count[ok])
    return starts, ends, steps


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
            self._stop(StreamError.unreadable(index.path, exc))
            return []
        parser = StreamParser(index.path)  # each line checked as the reader checks it
        parser.last_step = int(index.steps[first - 1]) if first else None
        out: list[dict[str, Any]] = []
        at_lines = index.lines[first : first + n].tolist()
        expected = index.steps[first : first + n].tolist()
        for at, step, number in zip((offsets - start).tolist(), expected, at_lines, strict=True):
            if len(data) < stop - start or (at and data[at - 1] != ord("\n")):
                self._stop(self._changed())  # shorter, or its lines have moved
                break
            nl = data.find(b"\n", at)
            raw = data[at : nl if nl >= 0 else len(data)]
            parser.lines = number - 1
            events = parser.feed(raw + b"\n")
            problem = parser.error
            found = [(e["type"], e.get("step")) for e in events]  # the index found one step
            if problem is not None and self._rewritten():
                problem = self._changed()
            elif problem is None and found != [("step", step)]:
                problem = self._misread(raw, step, number)
            if problem is not None:
                self._stop(problem, at=first + len(out))
                break
            out.append(events[0])
        if first <= self.checked:
            self.checked = max(self.checked, first + len(out))
        return out

    def _stop(self, error: StreamError, at: int = 0) -> None:
        """Read nothing from position ``at`` on; nothing at all once the file changed."""
        self.error, self.limit = error, 0 if error.line is None else at

    def _misread(self, raw: bytes, step: int, number: int) -> StreamError:
        """Why the line on line ``number`` is not the step the index found there: the
        file changed, unless the line still begins as that step and says otherwise
        further on (JSON's last duplicate key wins; the index read only the start)."""
        if raw.startswith(_STEP_PREFIX + b"%d," % step):
            return StreamError(self.index.path, number, _TWICE)
        return self._changed()

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
