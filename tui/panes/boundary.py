"""The decision-boundary pane: the training points over the network's prediction.

What a TensorFlow Playground user expects: the plane of the two inputs, each region
tinted by the class the network predicts there (brighter where it is surer), and the
training points on top in their class's colour. The prediction comes from the stream
(the probe step's ``boundary`` field, ``core/boundary.py``), so live runs, replays and
followed files all show it; the points are regenerated from the run event's config
(data set and seed), as the trainer made them.

Colour: each cell is ``▀`` with the upper pixel as foreground and the lower as
background (two pixels per cell); a cell holding training points is ``●`` in the
points' (majority) class colour over the prediction at the cell. NO_COLOR: one pixel
per cell, the prediction as density characters (``DENSITY``: two classes, from
P(class 1) < 0.25 to >= 0.75; more classes, one character per class) and the points as
``POINT_MARKS`` (``o`` class 0, ``x`` class 1; digits for more classes).

``BoundaryPane.feed(events)`` takes the source's events (run, step, reset) and keeps
only the run's points and the latest grid; ``show()`` draws them at the pane's size.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from bp_tui.core.boundary import Boundary, decode_boundary
from bp_tui.core.config import Scenario
from bp_tui.core.datasets import make_dataset
from bp_tui.tui.panes.braille import Runs
from bp_tui.tui.panes.line_diff import ShownLines, segments_strip
from bp_tui.tui.panes.plotting import fit_title

# Class colours, Playground's orange and blue first; cycled for many classes.
CLASS_COLORS = (
    (245, 147, 34),
    (8, 119, 189),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
)
# Background tint by confidence (four steps); the dimmest stays a colour, not black,
# in 256 colours (tests/ui/test_boundary_pane.py reads the downgraded cells).
BRIGHTNESS = (0.3, 0.42, 0.55, 0.7)
DENSITY_2 = " ░▒▓"  # two classes, by P(class 1): <.25, <.5, <.75, >=.75
DENSITY_K = " ░▒▓█#%@*+=-"  # more classes: the class's own character
POINT_MARKS_2 = "ox"
CELL_POINT = "●"
UPPER_HALF = "▀"
MIN_INTERVAL = 0.5  # s between two draws of new probes (the latest probe is always drawn)


def training_points(run: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The run's training data ``(X (m, 2), y (m,))`` from its config, or None.

    A foreign writer's run event has no config (or one we cannot read): no points then.
    """
    config = (run or {}).get("config")
    if not isinstance(config, dict):
        return None
    try:
        s = Scenario.from_dict(config)
        return make_dataset(s.data, s.seed)
    except Exception:  # any config we cannot rebuild: the grid alone is still shown
        return None


def point_mark(cls: int, classes: int) -> str:
    return POINT_MARKS_2[cls] if classes == 2 else "0123456789abcdefghijklmnopqrstuvwxyz"[cls % 36]


def density_char(label: int, confidence: float, p1: float | None) -> str:
    """NO_COLOR background character for one cell."""
    if p1 is not None:
        return DENSITY_2[min(3, int(p1 * 4))]
    return DENSITY_K[label % len(DENSITY_K)]


def _blend(rgb: tuple[int, int, int], k: float) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c * k) for c in rgb))


def _point_colour(cls: int) -> str:
    r, g, b = CLASS_COLORS[cls % len(CLASS_COLORS)]
    return "#{:02x}{:02x}{:02x}".format(*(min(255, int(c + 0.35 * (255 - c))) for c in (r, g, b)))


def sample(b: Boundary, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The grid resampled to ``rows x cols`` pixels (nearest cell), covering its extent.

    Returns labels (rows, cols) int64, confidence level 0-3 (rows, cols) and, for two
    classes, P(class 1) (rows, cols) (else None).
    """
    ri = np.minimum(((np.arange(rows) + 0.5) * b.h / rows).astype(np.int64), b.h - 1)
    ci = np.minimum(((np.arange(cols) + 0.5) * b.w / cols).astype(np.int64), b.w - 1)
    pick = np.ix_(ri, ci)
    level = np.minimum((b.confidence()[pick] * len(BRIGHTNESS)).astype(np.int64), 3)
    p1 = b.probability()[pick] if b.classes == 2 else None
    return b.labels()[pick], level, p1


def point_cells(X: np.ndarray, y: np.ndarray, b: Boundary, cols: int, rows: int) -> np.ndarray:
    """Majority class of the training points in each cell, -1 where none: (rows, cols)."""
    c = np.floor((X[:, 0] - b.x[0]) / (b.x[1] - b.x[0]) * cols).astype(np.int64)
    r = np.floor((b.y[1] - X[:, 1]) / (b.y[1] - b.y[0]) * rows).astype(np.int64)
    inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    k = max(int(y.max()) + 1, b.classes) if len(y) else b.classes
    counts = np.zeros((rows, cols, k), dtype=np.int64)
    np.add.at(counts, (r[inside], c[inside], y[inside]), 1)
    return np.where(counts.sum(axis=2) > 0, counts.argmax(axis=2), -1)


class BoundaryPane(Widget):
    """The decision boundary of the latest probe, with the training points."""

    DEFAULT_CSS = """
    BoundaryPane { height: 1fr; width: 1fr; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = label  # e.g. "broken" / "fixed" in compare mode
        self.run: dict[str, Any] | None = None
        self.points: tuple[np.ndarray, np.ndarray] | None = None
        self.boundary: Boundary | None = None
        self.boundary_step: int | None = None
        self.changed = True
        self.shown_key: object = None
        # What the last show() drew, for tests: background labels per pixel row pair
        # and point classes per cell (-1: none), and the rows of text.
        self.drawn_points: np.ndarray | None = None
        self.drawn_labels: np.ndarray | None = None
        #: the rows on screen, repainted only where a new probe changed them
        self.shown = ShownLines()
        self._drawn_at = -MIN_INTERVAL  # time.monotonic() of the last draw
        self._catch_up: object | None = None  # a timer, while a new probe waits

    def feed(self, events: Iterable[dict[str, Any]]) -> None:
        """Keep what the pane needs from a batch of source events."""
        for ev in events:
            kind = ev.get("type")
            if kind == "step" and ev.get("boundary") is not None:
                try:
                    self.boundary = decode_boundary(ev["boundary"])
                except ValueError:
                    continue  # the stream's reader already refuses these
                self.boundary_step = ev.get("step")
                self.changed = True
            elif kind == "run":
                self.run = ev
                self.points = training_points(ev)
                self.changed = True
            elif kind == "reset":
                self.boundary, self.boundary_step, self.points = None, None, None
                self.changed = True

    def title(self, width: int = 1000) -> str:
        """The title row, the longest of its forms that fits ``width`` columns."""
        label = f" · {self.label}" if self.label else ""
        when = (
            "waiting for the first probe" if self.boundary is None else f"step {self.boundary_step}"
        )
        variants = [f"decision boundary{label} · {when}", f"boundary{label} · {when}"]
        variants.append(f"{self.label} · {when}" if self.label else when)
        return fit_title(variants, width)

    def show(self, force: bool = False) -> None:
        """Draw at the pane's current size, if anything changed since the last draw.

        A new probe is drawn at most every ``MIN_INTERVAL`` s unless ``force``d (at full
        speed one arrives every frame, and early in a run each repaints much of the
        pane: the largest share of the bytes sent). Only the cells whose colour or
        character changed are repainted (line_diff.py).
        """
        key = (self.size, self.app.no_color, self.app.theme)
        if not (self.changed or force or key != self.shown_key):
            return
        now = time.monotonic()
        wait = self._drawn_at + MIN_INTERVAL - now
        if not force and key == self.shown_key and wait > 0:
            # put off, not dropped: the run may have ended (no redraw would come)
            if self._catch_up is None:
                self._catch_up = self.set_timer(wait, self._caught_up)
            return
        self.changed, self.shown_key, self._drawn_at = False, key, now
        width = self.size.width
        rows = self.render_rows(width, self.size.height, self.app.no_color)
        self.shown.update(self, [segments_strip(runs, width) for runs in rows])

    def _caught_up(self) -> None:
        self._catch_up = None
        self.show()

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the last ``show`` (Textual's Line API)."""
        return self.shown.line(y, self.size.width).apply_style(self.rich_style)

    def render_rows(self, width: int, height: int, no_color: bool) -> list[Runs]:
        """The pane as rows of ``(text, style)`` runs: a title row, then the plane."""
        out: list[Runs] = [[(self.title(width)[:width], Style(bold=True))]]
        b, rows = self.boundary, height - 1
        if b is None or width < 2 or rows < 1:
            return out
        pts = self.points
        cells = point_cells(*pts, b, width, rows) if pts is not None else None
        if cells is None:
            cells = np.full((rows, width), -1, dtype=np.int64)
        self.drawn_points = cells
        if no_color:
            labels, level, p1 = sample(b, width, rows)
            self.drawn_labels = labels
            for r in range(rows):
                chars = [
                    point_mark(int(cells[r, c]), b.classes)
                    if cells[r, c] >= 0
                    else density_char(int(labels[r, c]), 0, None if p1 is None else p1[r, c])
                    for c in range(width)
                ]
                out.append([("".join(chars), None)])
            return out
        labels, level, _ = sample(b, width, 2 * rows)
        self.drawn_labels = labels
        # A pixel's tint is one of classes x levels: index it, name each once.
        n_levels = len(BRIGHTNESS)
        tint = (labels % len(CLASS_COLORS)) * n_levels + level  # (2 rows, width) codes
        names = [
            _blend(CLASS_COLORS[i // n_levels], BRIGHTNESS[i % n_levels])
            for i in range(len(CLASS_COLORS) * n_levels)
        ]
        top, bottom = tint[0::2].tolist(), tint[1::2].tolist()
        points = cells.tolist()
        styles: dict[tuple[int, int, int], Style] = {}
        for r in range(rows):
            runs: Runs = []
            run_chars: list[str] = []
            run_key: tuple[int, int, int] | None = None
            for c in range(width):
                cls = points[r][c]
                # a point: its class over the prediction at the cell (its lower pixel);
                # else the upper pixel over the lower one
                key = (cls, -1, bottom[r][c]) if cls >= 0 else (-1, top[r][c], bottom[r][c])
                if key != run_key:
                    if run_chars:
                        runs.append(("".join(run_chars), styles[run_key]))  # type: ignore[index]
                        run_chars = []
                    run_key = key
                    if key not in styles:
                        fg = _point_colour(cls) if cls >= 0 else names[key[1]]
                        styles[key] = Style(color=fg, bgcolor=names[key[2]])
                run_chars.append(CELL_POINT if cls >= 0 else UPPER_HALF)
            if run_chars:
                runs.append(("".join(run_chars), styles[run_key]))  # type: ignore[index]
            out.append(runs)
        return out
