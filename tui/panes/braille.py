"""Plot lines drawn into plotext's canvas as braille cells, with NumPy.

plotext draws a line one segment at a time in Python: it joins consecutive points
dot by dot (``get_line``), groups every dot into its braille cell (``hd_group``) and
passes each through several list transposes: the largest cost of a frame, growing with
the dots a line crosses (docs/performance.md has the figures).

Here plotext lays out the plot (title, axes, ticks, limits, threshold lines) from a
few of each line's real points (first, last, lowest, highest: the same limits), and
``draw_lines`` then draws the whole lines into its canvas: the same mapping to dots,
the same joining, the same braille patterns as plotext 5.3's, computed on arrays. The
legend and the text labels, which plotext writes after the data, are written after
the lines too. ``tests/ui/test_braille.py`` checks the result against plotext's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotext._utility as ut
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Text

# plotext's braille character of each 2x4 dot pattern; bit (3 - row) * 2 + col is the
# dot at col 0..1 (left, right), row 0..3 (bottom up) of the cell.
_BRAILLE = [""] * 256
for _key, _char in ut.braille_codes.items():
    _BRAILLE[sum(bit << i for i, bit in enumerate(_key))] = _char


@dataclass
class FastLine:
    """One line of a plot: ``signal`` is its index among plotext's signals (its proxy)."""

    signal: int
    x: list[float]
    y: list[float]


def proxy_points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points that give plotext a line's limits: first, last, extremes."""
    idx = {0, len(x) - 1, int(np.argmin(x)), int(np.argmax(x))}
    idx |= {int(np.argmin(y)), int(np.argmax(y))}
    return np.array(sorted(idx))


def to_dots(values: list[float], lim: list[float], bins: int) -> np.ndarray:
    """plotext's ``get_matrix_data``: data values (n,) to dot coordinates (n,) int64."""
    lo, hi = lim
    scale = (bins - 1) / (hi - lo)
    return np.array([math.floor(round(0.5 + scale * (v - lo), 8)) for v in values], np.int64)


def join_dots(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """plotext's ``get_lines`` on dot coordinates (n,): every dot on the polyline, in order."""
    if len(px) < 2:
        return px, py
    dx, dy = np.diff(px), np.diff(py)
    steps = np.maximum(np.abs(dx), np.abs(dy))  # a segment's dots but its last
    seg = np.repeat(np.arange(len(steps)), steps)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(steps) - steps, steps)
    n = np.maximum(steps, 1)[seg].astype(np.float64)
    # plotext: int(lower + k * slope) with slope = (upper - lower) / n, truncated
    xs = np.trunc(px[seg] + k * (dx[seg] / n)).astype(np.int64)
    ys = np.trunc(py[seg] + k * (dy[seg] / n)).astype(np.int64)
    return np.append(xs, px[-1]), np.append(ys, py[-1])


def cells(
    xs: np.ndarray, ys: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Dots (n,) grouped into braille cells inside a ``width`` x ``height`` canvas.

    Returns the cells' columns and rows (m,) and their characters.
    """
    cx, cy = xs // 2, ys // 4
    bit = (3 - ys % 4) * 2 + xs % 2
    inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
    cx, cy, bit = cx[inside], cy[inside], bit[inside]
    key = cx * height + cy
    uniq, inverse = np.unique(key, return_inverse=True)
    masks = np.zeros(len(uniq), dtype=np.int64)
    np.bitwise_or.at(masks, inverse, np.left_shift(1, bit))
    return uniq // height, uniq % height, [_BRAILLE[m] for m in masks.tolist()]


def draw_lines(monitor: Any, lines: list[FastLine]) -> None:
    """Draw ``lines`` into the canvas of ``monitor``, a plotext monitor after ``build_plot``."""
    matrix = monitor.matrix
    cols, rows = matrix.Cols_canvas, matrix.Rows_canvas
    width, height = len(cols), len(rows)
    if width <= 0 or height <= 0:
        return
    for line in lines:
        s = line.signal
        xi = 0 if monitor.xside[s] == monitor.default.xside[0] else 1
        yi = 0 if monitor.yside[s] == monitor.default.yside[0] else 1
        y = line.y
        if monitor.yscale[yi] == monitor.default.yscale[1]:  # log axis
            y = [math.log10(v) for v in y]
        px = to_dots(line.x, monitor.xlim[xi], 2 * width)
        py = to_dots(y, monitor.ylim[yi], 4 * height)
        cx, cy, chars = cells(*join_dots(px, py), width, height)
        color, style = monitor.color[s][0], monitor.style[s][0]
        # insert_element without its checks (the cells are inside the canvas)
        marker, fullground, styles = matrix.marker, matrix.fullground, matrix.style
        at = zip((cx + cols.start).tolist(), (cy + rows.start).tolist(), chars, strict=True)
        for c, r, ch in at:
            marker[r][c], fullground[r][c], styles[r][c] = ch, color, style


def build(plot: Any, lines: list[FastLine]) -> list[Runs]:
    """plotext's ``Figure.build`` for ``plot`` with ``lines`` drawn by ``draw_lines``.

    ``Figure.build`` is ``_set_sizes``, ``_build_matrix`` and ``set_canvas``: the lines
    go in between, then the legend and the texts again on top of them. Returns the
    canvas as rows of styled runs (``canvas_runs``).
    """
    plot._set_sizes()
    plot._build_matrix()
    monitor = plot.monitor
    draw_lines(monitor, lines)
    redraw_legend_and_texts(monitor)
    return canvas_runs(monitor.matrix)


_STYLES: dict[tuple[Any, Any, Any], Style | None] = {}


def _style(colors: tuple[Any, Any, Any]) -> Style | None:
    """The rich style of a cell's plotext (fullground, style, background), cached."""
    if colors not in _STYLES:
        ansi = ut.colors_to_ansi(*colors)
        spans = AnsiDecoder().decode_line(ansi + "x").spans if ansi else []
        _STYLES[colors] = spans[0].style if spans else None  # type: ignore[assignment]
    return _STYLES[colors]


Runs = list[tuple[str, Style | None]]  # one row: (text, style) runs, left to right


def canvas_runs(matrix: Any) -> list[Runs]:
    """``Text.from_ansi(matrix.set_canvas())`` without writing and parsing ANSI codes.

    One run per stretch of cells with the same colours, rows top first (plotext's row
    0 is the bottom one).
    """
    rows: list[Runs] = []
    for r in reversed(matrix.Rows):
        markers, fg, st, bg = (
            matrix.marker[r],
            matrix.fullground[r],
            matrix.style[r],
            matrix.background[r],
        )
        runs: Runs = []
        start, key = 0, (fg[0], st[0], bg[0])
        for c in range(1, len(markers)):
            here = (fg[c], st[c], bg[c])
            if here != key:
                runs.append(("".join(markers[start:c]), _style(key)))
                start, key = c, here
        runs.append(("".join(markers[start:]), _style(key)))
        rows.append(runs)
    return rows


def runs_text(rows: list[Runs]) -> Text:
    """Rows of runs as rich ``Text``, each row ended by a newline (plotext's canvas)."""
    text = Text()
    for runs in rows:
        for chunk, style in runs:
            text.append(chunk, style)
        text.append("\n")
    return text


def redraw_legend_and_texts(monitor: Any) -> None:
    """Write the legend and the texts again, as plotext 5.3's ``build_plot`` ends.

    plotext wrote them after its data, before ``draw_lines`` drew over the canvas;
    writing them again keeps them on top. The texts' coordinates in ``monitor`` are
    already on the axes' scale (``build_plot`` applied the log in place).
    """
    matrix = monitor.matrix
    cols, rows = matrix.Cols_canvas, matrix.Rows_canvas
    col_start, row_start, row_end = cols.start, rows.start, rows.stop
    width, height = len(cols), len(rows)
    tick = (monitor.ticks_color, monitor.ticks_style)
    labels = monitor.label
    shown = [s for s in range(len(labels)) if labels[s] is not None]
    names = [ut.space + labels[s] + ut.space for s in shown]
    widest = ut.max_length(names)
    names = [n + ut.space * (widest - len(n)) for n in names]
    sides = [ut.space + ut.side_symbols[(monitor.xside[s], monitor.yside[s])] for s in shown]
    side_test = ut.no_duplicates(sides) != [" L"] and len(names) != 1
    pad = 2 if side_test else 0
    if names and width >= pad + 3 + widest and height >= len(names):
        for i, s in enumerate(shown):
            row = row_end - 1 - i
            if side_test:
                matrix.add_horizontal_string(col_start, row, sides[i], *tick)
            marker = monitor.marker[s][0]
            marker = ut.hd_symbols.get(marker, marker)
            matrix.insert_element(col_start + pad, row, ut.space, ut.no_color, ut.no_color)
            for j in (1, 2):
                color, style = monitor.color[s][0], monitor.style[s][0]
                matrix.insert_element(col_start + pad + j, row, marker, color, style)
            matrix.add_horizontal_string(col_start + pad + 3, row, names[i], *tick)
    horizontal = monitor.default.orientation[0]
    for k, text in enumerate(monitor.text):
        xi = 0 if monitor.txside[k] == monitor.default.xside[0] else 1
        yi = 0 if monitor.tyside[k] == monitor.default.yside[0] else 1
        col = int(to_dots([monitor.tx[k]], monitor.xlim[xi], width)[0]) if width > 0 else 0
        row = int(to_dots([monitor.ty[k]], monitor.ylim[yi], height)[0]) if height > 0 else 0
        style = (monitor.tfull[k], monitor.tstyle[k], monitor.tback[k], monitor.talign[k])
        if monitor.torien[k] == horizontal:
            matrix.add_multiple_horizontal_strings(
                col_start + col, row_start + row, text, *style, False, True
            )
        else:
            col, row = col_start + col, row_start + row
            matrix.add_multiple_vertical_strings(col, row, text, *style, True)
