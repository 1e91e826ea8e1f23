"""Just enough of a terminal to know what a screen shows: a grid of characters.

The throttled-link bench reads the dashboard's status line from what a slow reader has
drained so far. Textual repaints a widget with a cursor move (``ESC[row;colH``) and the
line's text between SGR colour codes, and may repaint part of a line only, so stripping
the escape codes from the stream is not enough to know what a line shows now: the
characters are put where the cursor says. Handled: cursor position (CUP/HVP, CHA, CUU,
CUD, CUF, CUB), erase in line and display, CR, LF, BS, and printable text (East Asian
wide characters take two cells). Everything else (SGR, modes, OSC, other escapes) is
parsed and ignored. Input may be cut anywhere, also inside an escape or a UTF-8
character: the unfinished part waits for the next ``feed``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

# One token: CSI, OSC (ends at BEL or ST), a two-character escape, a run of text, or one
# control character. An escape cut off at the end of the input does not match in full.
_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1bP[^\x1b]*\x1b\\"
    r"|\x1b[ -/]+[0-~]"
    r"|\x1b[0-OQ-Z\\^-~]"
    r"|(?P<text>[^\x00-\x1f\x7f]+)"
    r"|(?P<ctrl>[\x00-\x1a\x1c-\x1f\x7f])"
)


class VtScreen:
    """A ``rows`` x ``cols`` grid that the bytes written to a terminal are fed into."""

    def __init__(self, cols: int = 120, rows: int = 40) -> None:
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.row = self.col = 0
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self._pending = ""  # an escape sequence cut off at the end of the last feed

    def line(self, row: int) -> str:
        """The text row ``row`` (0-based) shows now (the second cell of a wide
        character is left out, so the text reads as written)."""
        return "".join(c for c in self.grid[row] if c)

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decode(data)
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:  # an ESC whose sequence has not all arrived yet
                if len(text) - pos > 4096:  # not an escape we know: skip the ESC
                    pos += 1
                    continue
                break
            pos = m.end()
            if m.group("text") is not None:
                self._put(m.group("text"))
            elif m.group("ctrl") is not None:
                self._control(m.group("ctrl"))
            elif m.group("final") is not None:
                self._csi(m.group("params"), m.group("final"))
        self._pending = text[pos:]

    def _put(self, text: str) -> None:
        for ch in text:
            width = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if unicodedata.combining(ch):
                continue
            if self.col + width > self.cols:  # wrap (Textual never relies on it)
                self.col = 0
                self.row = min(self.row + 1, self.rows - 1)
            self.grid[self.row][self.col] = ch
            if width == 2:
                self.grid[self.row][self.col + 1] = ""
            self.col += width

    def _control(self, ch: str) -> None:
        if ch == "\r":
            self.col = 0
        elif ch == "\n":
            self.row = min(self.row + 1, self.rows - 1)
        elif ch == "\b":
            self.col = max(self.col - 1, 0)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith(("?", ">", "<", "=")):
            return  # private modes (alternate screen, mouse, sync output): no drawing
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def arg(i: int, default: int = 1) -> int:
            return nums[i] if len(nums) > i and nums[i] > 0 else default

        if final in "Hf":
            self.row = min(arg(0), self.rows) - 1
            self.col = min(arg(1), self.cols) - 1
        elif final == "G":
            self.col = min(arg(0), self.cols) - 1
        elif final == "A":
            self.row = max(self.row - arg(0), 0)
        elif final == "B":
            self.row = min(self.row + arg(0), self.rows - 1)
        elif final == "C":
            self.col = min(self.col + arg(0), self.cols - 1)
        elif final == "D":
            self.col = max(self.col - arg(0), 0)
        elif final == "K":
            mode = arg(0, 0)
            start, end = {0: (self.col, self.cols), 1: (0, self.col + 1)}.get(mode, (0, self.cols))
            self.grid[self.row][start:end] = [" "] * (end - start)
        elif final == "J":
            mode = arg(0, 0)
            rows = {0: range(self.row + 1, self.rows), 1: range(self.row)}.get(
                mode, range(self.rows)
            )
            for r in rows:
                self.grid[r] = [" "] * self.cols
            if mode in (0, 1):
                self._csi(str(mode), "K")
