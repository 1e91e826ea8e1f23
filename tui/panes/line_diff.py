"""Repaint only what changed: a pane kept as rows of strips, diffed against the last.

``Widget.refresh()`` repaints a widget's whole region, and the terminal is sent every
cell of it: at full speed that was more than a whole screen a frame (issue 15). A pane
here builds its rows as Textual ``Strip``s, hands them to ``ShownLines.update`` and
serves them from ``render_line(y)`` (Textual's Line API). ``update`` compares each row
with the one shown and asks Textual to repaint only the spans of cells that differ
(``Widget.refresh(*regions)``); a pane whose rows are all unchanged is not refreshed.

``DiffedStatic`` is a ``Static`` made so: its updates of the same height are diffed.

``changed_spans(old, new)`` is the diff of two renders: per row, the cell ranges
``[x0, x1)`` that differ (two ranges closer than ``GAP`` cells are sent as one: a
cursor move and the style codes cost about as much as a few cells).

Textual keeps every partial region asked for until the widget is next repainted in
full, so ``ShownLines`` asks for a full repaint of the pane after ``MAX_PARTIAL``
regions (every half minute or so at full speed): the set stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget
from textual.widgets import Static

GAP = 6  # cells: changed ranges closer than this are repainted as one range
MAX_PARTIAL = 4000  # partial regions before one full repaint (bounds Textual's set)

Cell = tuple[str, Style | None]


def strip_cells(strip: Strip) -> list[Cell]:
    """One ``(character, style)`` per cell of ``strip``; a wide character's second cell is ""."""
    out: list[Cell] = []
    for text, style, _control in strip:
        for ch in text:
            out.append((ch, style))
            if cell_len(ch) == 2:
                out.append(("", style))
    return out


def row_spans(old: Strip | None, new: Strip | None, gap: int = GAP) -> list[tuple[int, int]]:
    """The cell ranges ``[x0, x1)`` where ``new`` differs from ``old`` (None: no row)."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        row = old if new is None else new
        assert row is not None
        return [(0, row.cell_length)] if row.cell_length else []
    if old == new:
        return []
    a, b = strip_cells(old), strip_cells(new)
    n = max(len(a), len(b))
    common = min(len(a), len(b))
    spans: list[tuple[int, int]] = []
    for x in range(n):
        if x < common and a[x] == b[x]:
            continue
        if spans and x - spans[-1][1] < gap:
            spans[-1] = (spans[-1][0], x + 1)
        else:
            spans.append((x, x + 1))
    return spans


def changed_spans(
    old: Sequence[Strip], new: Sequence[Strip], gap: int = GAP
) -> list[tuple[int, int, int]]:
    """Every ``(y, x0, x1)`` where the rows ``new`` differ from ``old``, top row first."""
    out: list[tuple[int, int, int]] = []
    for y in range(max(len(old), len(new))):
        a = old[y] if y < len(old) else None
        b = new[y] if y < len(new) else None
        out.extend((y, x0, x1) for x0, x1 in row_spans(a, b, gap))
    return out


def segments_strip(runs: Sequence[tuple[str, Style | None]], width: int) -> Strip:
    """A row of ``(text, style)`` runs as a strip exactly ``width`` cells wide."""
    return Strip([Segment(text, style) for text, style in runs if text]).adjust_cell_length(width)


def text_strips(widget: Widget, text: Text | Content, width: int) -> list[Strip]:
    """``text`` as Textual renders it in ``widget`` (``Visual.to_strips``), ``width`` wide."""
    return Visual.to_strips(widget, visualize(widget, text), width, None, widget.visual_style)


class ShownLines:
    """The rows a Line-API pane shows, and the partial repaints that keep them current.

    ``update(widget, rows)`` replaces the rows and refreshes only the changed spans of
    ``widget`` (all of it when its size changed or nothing was shown yet); returns
    the number of cells asked to be repainted (0: no refresh at all). ``line(y)`` is
    what ``render_line(y)`` serves.
    """

    def __init__(self) -> None:
        self.rows: list[Strip] = []
        self.size: Size | None = None  # the widget's content size the rows were made for
        self.theme: str | None = None  # and the app's theme
        self.partial = 0  # partial regions asked for since the last full repaint
        self.repainted = 0  # cells asked to be repainted by the last update (tests)

    def clear(self) -> None:
        """Forget the rows: the next update repaints the whole pane."""
        self.rows, self.size, self.theme = [], None, None

    def fits(self, widget: Widget) -> bool:
        """Whether the rows were made for ``widget``'s size and theme as they are now."""
        return self.size == widget.content_region.size and self.theme == widget.app.theme

    def keep(self, widget: Widget, rows: list[Strip]) -> None:
        """Take ``rows`` without a refresh (Textual repaints the whole pane already)."""
        self.rows, self.size, self.theme = rows, widget.content_region.size, widget.app.theme

    def update(self, widget: Widget, rows: list[Strip]) -> int:
        size = widget.content_region.size
        spans = changed_spans(self.rows, rows) if self.fits(widget) else None
        self.keep(widget, rows)
        if spans is not None and self.partial + len(spans) <= MAX_PARTIAL:
            if spans:
                self.partial += len(spans)
                widget.refresh(*(Region(x0, y, x1 - x0, 1) for y, x0, x1 in spans))
            self.repainted = sum(x1 - x0 for _, x0, x1 in spans)
        else:
            self.partial = 0
            widget.refresh()
            self.repainted = size.width * size.height
        return self.repainted

    def line(self, y: int, width: int) -> Strip:
        """Row ``y`` (a blank one past the rows), ``width`` cells wide."""
        if 0 <= y < len(self.rows):
            return self.rows[y].adjust_cell_length(width)
        return Strip.blank(width)


class DiffedStatic(Static):
    """A ``Static`` whose updates of the same height repaint only the cells that changed.

    ``show_content(content, layout=)``: with ``layout`` (the height may have changed) it
    is ``Static.update`` and a layout pass, which repaints the panes around it too;
    without, its rows are diffed with the rows shown (``ShownLines``).
    ``shown_content`` is what the rows on screen are made from.
    """

    def __init__(self, content: Text | Content, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.shown = ShownLines()  # its rows on screen
        self.shown_content = content

    def show_content(self, content: Text | Content, *, layout: bool) -> None:
        if layout:
            self.update(content, layout=True)
            self.shown.clear()  # render_line renders it whole
        else:
            self.shown.update(self, text_strips(self, content, self.size.width))
        self.shown_content = content

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of ``shown_content`` (Textual's Line API; the rows ``show_content`` diffed)."""
        if not self.shown.fits(self):  # a layout pass, a resize, a theme change
            self.shown.keep(self, text_strips(self, self.shown_content, self.size.width))
        return self.shown.line(y, self.size.width).apply_style(self.rich_style)
