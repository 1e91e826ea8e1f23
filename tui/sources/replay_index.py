"""StreamIndex: where each step of a recording sits in its file, so a replay can hold 16
bytes per step (a byte offset and a step number) instead of the step events themselves.

``index_stream(path)`` validates the whole file once with the loop under
``core.stream.read_stream`` (``StreamScan``: the same checks, the same first fault), but
keeps only the run and end events and two int64 arrays. ``StepReader`` then reads
the step events back from the file on demand, a bounded span of bytes at a time.
"""

from __future__ import annotations

import os
import stat
from array import array
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from bp_tui.core.events import EventDecodeError, decode
from bp_tui.core.stream import StreamError, StreamScan


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class StreamIndex:
    """A validated recording, without its step events.

    ``offsets``: shape (n,), int64, the byte offset of the first byte of each valid step
    line, in file order; ``steps``: shape (n,), int64, that step's number (increasing).
    ``stop``: the byte offset just past the last valid step line (its newline included).
    ``run`` / ``end``: the opening and closing events or ``None``; ``error``: the first
    fault, ``None`` for a sound file (as ``StreamContents``).
    """

    path: str
    run: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    error: StreamError | None = None
    offsets: np.ndarray = field(default_factory=_empty)
    steps: np.ndarray = field(default_factory=_empty)
    stop: int = 0

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def last_step(self) -> int:
        """The last valid step number, 0 when there is none."""
        return int(self.steps[-1]) if len(self.steps) else 0


def _int64(values: array) -> np.ndarray:
    """An ``array('q')`` viewed as NumPy without a copy."""
    return np.frombuffer(values, dtype=np.int64) if values else _empty()


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
    index = StreamIndex(str(path))
    # array('q') over-allocates by ~1/8 only when appending, and is viewed as NumPy
    # without a copy: indexing peaks at ~18 bytes per step
    offsets, steps = array("q"), array("q")
    scan = StreamScan(path, opener=_open_regular)
    for start, end, event in scan:
        kind = event["type"]
        if kind == "step":
            offsets.append(start)
            steps.append(event["step"])
            index.stop = end
        elif kind == "run":
            index.run = event
        else:
            index.end = event
    index.error = scan.error
    index.offsets, index.steps = _int64(offsets), _int64(steps)
    return index


class StepReader:
    """Reads indexed step events back from the file, ``max_bytes`` of it at most per call.

    The file is opened on first use and kept open until ``close()``. A file that changed
    since it was indexed (a line that no longer parses, or holds another step) raises
    ``StreamError`` rather than showing something that was never validated.
    """

    def __init__(self, index: StreamIndex, *, max_bytes: int = 1 << 18) -> None:
        self.index = index
        self.max_bytes = max_bytes
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
        """The step events at positions ``first`` .. ``first + n - 1``, in order."""
        if n <= 0:
            return []
        index = self.index
        offsets = index.offsets[first : first + n]
        start = int(offsets[0])
        stop = int(index.offsets[first + n]) if first + n < len(index) else index.stop
        try:
            if self._file is None:
                self._file = open(index.path, "rb")  # noqa: SIM115 - kept open while replaying
            self._file.seek(start)
            data = self._file.read(stop - start)
        except OSError as exc:
            raise StreamError.unreadable(index.path, exc) from None
        out = []
        expected = index.steps[first : first + n].tolist()
        for at, step in zip((offsets - start).tolist(), expected, strict=True):
            nl = data.find(b"\n", at)
            try:
                event = decode(data[at : nl if nl >= 0 else len(data)].decode("utf-8"))
            except (EventDecodeError, UnicodeDecodeError):
                event = {}
            if event.get("step") != step:
                raise StreamError(
                    index.path, None, "changed while replaying: replay it again to see it"
                )
            out.append(event)
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
