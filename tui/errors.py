"""Errors the command line reports to the user as one line, and how it words them.

Every user error ends the same way: one line on stderr,
``bp-tui: error: FILE: KEY: what was found, what is allowed``, exit status 2, no
traceback. ``ScenarioError`` (scenarios) and ``StreamError`` (core.stream) already
word themselves that way; ``CliError`` is the same shape for the command line's own
checks (an ``--out`` path that cannot be written, a bad option value).
"""

from __future__ import annotations

from bp_tui.core.safe_text import safe_text

EXIT_USAGE = 2  # bad input of any kind: file, key, option
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl+C
PROG = "bp-tui"


class CliError(Exception):
    """A user error: ``str()`` is ``FILE: KEY: problem`` (or ``KEY: problem``), one line."""

    def __init__(self, file: str | None, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key}: {problem}")


def error_line(exc: BaseException) -> str:
    """The one line printed for ``exc``: ``bp-tui: error: ...`` without a newline in it."""
    if isinstance(exc, OSError) and exc.strerror:
        # "[Errno 2] No such file or directory: 'x'" -> "x: No such file or directory"
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    # a file name or a value from a file may hold control characters: shown, not obeyed
    return f"{PROG}: error: {safe_text(' '.join(text.split()))}"
