"""The file a user named for output (``run --out``, ``--record``, a screenshot, the bench's
reports), written as ``tee`` would.

The path given is opened and written in place, whole lines, each batch flushed to the
kernel as it is written (``os.write``, no buffer of our own), so ``bp-tui watch`` can
follow the file while it grows and a killed process leaves valid lines up to the last:

- a regular file is overwritten in place, as ``cp`` and ``tee`` do: truncated, then
  written; its inode, mode, owner and hard links are kept (a private file stays private);
- a symlink is followed (its target is written, the link stays);
- /dev/null, /dev/stdout and other character devices are written like any file;
- a FIFO is written once a reader has opened it: ``OutputFile(block=True)`` (``run
  --out``) waits for the reader in ``open``, like a shell redirection;
  ``block=False`` (the dashboard's ``--record``) never waits: it keeps the lines in
  memory and tries again on each ``pump()``, so the UI never stalls on a FIFO.

Never written: the input scenario file (compared by device and inode, so a symlink or
hard link to it is caught too), a folder, an empty path, or a path ending in ``/``
(``--out dir/new/`` names a folder, not a file to create). ``check_output_path`` says
so before anything is opened, and the open repeats the inode check on the file it got.

When a write fails (a full disk, the FIFO's reader gone, the folder removed), a regular
file is cut back to its last complete line, so it stays a valid stream; nothing else is
created anywhere (no temporary file).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
import time
from collections.abc import Callable, Iterable

from bp_tui.tui.errors import CliError

# Bytes kept in memory while a FIFO waits for its reader or the reader is behind
# (block=False); beyond this the recording stops rather than grow without bound.
MAX_PENDING = 64 << 20
READER_POLL = 0.05  # seconds between two looks for a FIFO's reader (block=True)
CLOSE_GRACE = 2.0  # seconds a slow FIFO reader gets to take the last lines at close
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOCTTY


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _inodes(paths: Iterable[str]) -> set[tuple[int, int]]:
    """(device, inode) of each existing path (followed through symlinks)."""
    found = set()
    for path in paths:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def check_output_path(path: str, option: str, *, inputs: Iterable[str] = ()) -> None:
    """Raise ``CliError`` (one line, naming ``path`` and ``option``) when ``path`` cannot
    be the output file; opens and creates nothing. ``inputs``: files that must never be
    written (the scenario files read)."""
    if path == "":
        raise CliError(None, option, "found an empty path, expected a file to write")
    if path.endswith(("/", os.sep)):
        raise CliError(path, option, "ends with '/', a folder, expected a file path to write")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a symlink loop, a component that is not a folder...
        raise CliError(path, option, f"cannot be written ({_reason(exc)})") from None
    if st is None:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise CliError(path, option, "its folder does not exist, expected a file path in one")
        return
    if stat.S_ISDIR(st.st_mode):
        raise CliError(path, option, "found a folder, expected a file path to write")
    if (st.st_dev, st.st_ino) in _inodes(inputs):
        raise CliError(path, option, "is the scenario file being read, expected another file")


def write_file(path: str, option: str, text: str) -> None:
    """``text``, already whole in memory, written to ``path`` as ``OutputFile`` writes
    (blocking: a FIFO's reader is waited for); ``CliError`` naming ``path`` and
    ``option`` when it cannot be. For outputs written at once (a screenshot, a report)."""
    out = OutputFile(path, option)
    try:
        out.write(text)
    finally:
        out.close()


class OutputFile:
    """An output file opened as the module docstring says; ``write(text)`` whole lines.

    ``block=True``: ``__init__`` opens the file (waiting for a FIFO's reader, after
    calling ``on_wait()``, for as long as ``keep_waiting()``; ``waiting`` is still true
    when it gave up), ``write`` writes everything before it returns, and every failure
    raises ``CliError`` naming the file and ``option``.

    ``block=False``: nothing ever blocks or raises. Lines wait in memory until the file
    is open and can take them; ``pump()`` retries. A failure sets ``error`` (a reason in
    a few words) and stops all writing; ``waiting`` is true while a FIFO has no reader.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        option: str,
        *,
        inputs: Iterable[str] = (),
        block: bool = True,
        on_wait: Callable[[], object] | None = None,
        keep_waiting: Callable[[], bool] = lambda: True,
    ) -> None:
        self.path = os.fspath(path)
        self.option = option
        self.block = block
        self.error: str | None = None
        self.waiting = False
        self._protected = _inodes(inputs)
        self._fd: int | None = None
        self._regular = False
        self._pending = bytearray()  # bytes not written yet
        self._written = 0  # bytes written (the file offset of a regular file)
        self._complete = 0  # ... up to the end of the last whole line
        self._closed = False
        if block:
            check_output_path(self.path, option, inputs=inputs)
            try:
                if not self._try_open() and on_wait is not None:
                    on_wait()
                # Polled rather than a blocking open(), which a signal handler cannot end.
                while self.waiting and keep_waiting() and not self._try_open():
                    time.sleep(READER_POLL)
            except OSError as exc:
                raise CliError(self.path, option, f"cannot write ({_reason(exc)})") from None
        else:
            self.pump()

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, text: str) -> None:
        """Write ``text`` (whole lines) after what is already pending."""
        if self._closed or self.error is not None:
            return
        self._pending += text.encode("utf-8")
        if not self.block and len(self._pending) > MAX_PENDING:
            who = "no reader opened it" if self._fd is None else "its reader fell behind"
            self._fail(f"{who}: over {MAX_PENDING >> 20} MiB waiting")
            return
        self.pump()

    def pump(self) -> None:
        """Open the file if it is not open yet (FIFO readers), then write what is pending."""
        if self._closed or self.error is not None:
            return
        try:
            if self._fd is None and not self._try_open():
                return
            self._flush()
        except OSError as exc:
            self._fail(_reason(exc))
        except CliError as exc:  # the path now leads to a scenario file
            self._fail(exc.problem)
        if self.block and self.error is not None:
            raise CliError(self.path, self.option, f"cannot write ({self.error})")

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """Write what is pending (a slow FIFO reader gets at most ``grace`` seconds to
        take it), then close. Idempotent."""
        if self._closed:
            return
        deadline = time.monotonic() + grace
        while self._fd is not None and self._pending and self.error is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._fd], [], left)[1]:
                break
            self.pump()
        self._closed = True
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    # -- internals ---------------------------------------------------------------------

    def _try_open(self) -> bool:
        """Open without waiting; False when the path is a FIFO that has no reader yet."""
        try:
            self._open(_WRITE_FLAGS | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: a FIFO without a reader
                raise
            self.waiting = True
            return False
        return True

    def _open(self, flags: int) -> None:
        fd = os.open(self.path, flags, 0o666)
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) in self._protected:
            os.close(fd)
            raise CliError(self.path, self.option, "is the scenario file being read")
        self._regular = stat.S_ISREG(st.st_mode)
        if self._regular:
            os.ftruncate(fd, 0)  # overwrite as cp does: same inode, mode and links
        if self.block:  # from now on, writes wait for the reader like any file's
            os.set_blocking(fd, True)
        self._fd = fd
        self.waiting = False

    def _flush(self) -> None:
        """Write pending bytes: all of them (blocking), or what the file takes now."""
        assert self._fd is not None
        while self._pending:
            try:
                n = os.write(self._fd, self._pending)
            except BlockingIOError:  # a FIFO whose reader is behind: the next pump
                return
            newline = self._pending.rfind(b"\n", 0, n)
            if newline >= 0:
                self._complete = self._written + newline + 1
            self._written += n
            del self._pending[:n]

    def _fail(self, reason: str) -> None:
        """Stop writing for good; a regular file is cut back to its last whole line."""
        self.error = reason
        self._pending.clear()
        if self._fd is not None and self._regular:
            with contextlib.suppress(OSError):  # the file may be gone with its disk
                os.ftruncate(self._fd, self._complete)
