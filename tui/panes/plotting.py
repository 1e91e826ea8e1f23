"""The one guarded plotting helper every plot pane draws through.

plotext 5.x raises on three inputs a training run produces routinely: an infinite
value (a diverged step), a value <= 0 on a log axis (a dead layer's zero gradient),
and a log axis with no data at all (before the first step). ``GuardedPlot.draw`` is
the single place that cleans the points, so no pane can forget a case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.strip import Strip
from textual_plotext import PlotextPlot

from bp_tui.tui.panes.axes import linear_ticks, log_ticks, y_limits
from bp_tui.tui.panes.braille import FastLine, Runs, build, proxy_points, runs_text
from bp_tui.tui.panes.line_diff import ShownLines, segments_strip

if TYPE_CHECKING:
    from bp_tui.tui.history import Series
    from bp_tui.tui.panes.view import RunView


@dataclass
class Line:
    """One labelled line: ``x`` and ``y`` are 1-D float arrays of equal length."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: str | int = "cyan"  # a plotext colour name or a 256-colour index
    yside: str = "left"
    marker: str = "braille"
    legend: bool = True  # named in plotext's legend (False: the title says what it is)


@dataclass
class Figure:
    """What a plot pane draws from a run: its lines and how (``GuardedPlot.draw``).

    ``zeros``: on a log axis, draw exact zeros at a floor row labelled "0" (below the
    smallest positive decade) instead of dropping them. ``end_labels``: write each
    left-axis line's label at its last point instead of a legend. ``ylim`` / ``yticks``
    fix the left axis (e.g. 0..100 %). ``vlines``: (step, colour) marks of events
    (divergence, an lr or clipping change) inside the x range. ``title`` None: the
    pane's own.
    """

    lines: list[Line]
    title: str | None = None
    log_y: bool = False
    xlim: tuple[float, float] | None = None
    hlines: tuple[tuple[float, str], ...] = ()
    ylim: tuple[float, float] | None = None
    yticks: tuple[list[float], list[str]] | None = None
    ylim_right: tuple[float, float] | None = None
    zeros: bool = False
    end_labels: bool = False
    vlines: Sequence[tuple[float, str]] = ()


@dataclass
class Drawn:
    """What ``draw`` handed to plotext, kept for tests and the screenshot check."""

    lines: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    xlim: tuple[float, float] | None = None
    log_y: bool = False
    empty: bool = True
    #: per label, the steps where the value was exactly 0 (drawn at the "0" floor of a log axis)
    zeros: dict[str, np.ndarray] = field(default_factory=dict)
    #: the labels written at the right end of their lines, in the order placed
    end_labels: list[str] = field(default_factory=list)
    title: str = ""
    #: (ticks, labels) set on the left y axis, None when plotext chose them
    yticks: tuple[list[float], list[str]] | None = None
    #: the steps marked by a vertical line (run events)
    vlines: list[float] = field(default_factory=list)
    #: per label, the colour its line and end label were drawn in
    colors: dict[str, object] = field(default_factory=dict)


def envelope(steps: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interleave per-bucket min and max so the line traces the whole band.

    ``steps``, ``lo``, ``hi``: shape (n,). Returns x, y of shape (2n,): each bucket's
    step twice, with its min then its max, so a one-step spike inside a bucket of
    thousands of steps is still drawn.
    """
    x = np.repeat(np.asarray(steps, dtype=np.float64), 2)
    y = np.empty(2 * len(lo), dtype=np.float64)
    y[0::2] = lo
    y[1::2] = hi
    return x, y


BAND_COLOR = 245  # the raw min/max band behind a smoothed line: a mid grey, faint on any theme
SMOOTH_SHARE = 25  # a smoothed line averages over 1/25 of its points (a few columns)


def smooth(
    lo: np.ndarray, hi: np.ndarray, share: int = SMOOTH_SHARE, points: int | None = None
) -> np.ndarray:
    """A noisy series' trend: the rolling mean of each bucket's mid value ``(lo+hi)/2``.

    ``lo``, ``hi``: shape (n,), NaN where a bucket has no value. The window is
    ``points // share`` points (at least 1; ``points`` defaults to n: a pane passes the
    buckets of its whole x axis, so that the window, and the points already drawn, do
    not change as the run grows), centred; NaN buckets are left out of each mean and
    stay NaN (a gap is not filled in). Returns shape (n,).
    """
    mid = (np.asarray(lo, dtype=np.float64) + np.asarray(hi, dtype=np.float64)) / 2.0
    n = len(mid)
    half = max(1, (n if points is None else points) // share) // 2
    if n == 0 or half == 0:
        return mid
    ok = np.isfinite(mid)
    vals = np.where(ok, mid, 0.0)
    csum = np.concatenate(([0.0], np.cumsum(vals)))
    ccount = np.concatenate(([0], np.cumsum(ok)))
    idx = np.arange(n)
    a, b = np.maximum(idx - half, 0), np.minimum(idx + half + 1, n)
    count = ccount[b] - ccount[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (csum[b] - csum[a]) / count
    out[~ok] = np.nan
    return out


def band_and_trend(label: str, s: Series, color: str | int, points: int) -> list[Line]:
    """A noisy series drawn as its raw min/max band (faint, every spike kept) under its
    trend (``smooth`` over a pane's ``points``): lines ``label`` and ``label mean``."""
    return [
        Line(label, *envelope(s.steps, s.lo, s.hi), color=BAND_COLOR, legend=False),
        Line(
            f"{label} mean", s.steps, smooth(s.lo, s.hi, points=points), color=color, legend=False
        ),
    ]


def fmt_step(step: float) -> str:
    """A step number as an x tick: 950, 12.5k, 1M."""
    step = float(step)
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(step) >= div:
            return f"{step / div:.3g}{suffix}"
    return f"{step:.0f}"


def clean_points(x: np.ndarray, y: np.ndarray, log_y: bool) -> tuple[np.ndarray, np.ndarray]:
    """Drop the points plotext cannot draw: non-finite x or y, and y <= 0 on a log axis."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    if log_y:
        keep &= y > 0
    return x[keep], y[keep]


ZERO_MARKER = "x"  # exact zeros on a log axis; distinct from the braille lines without colour
LABEL_WIDTH = 8  # characters of line labels that may share one row ("L10,L11")


# plotext centres a title on the canvas, not the pane, and drops one that would run into
# the tick labels beside it: a title must leave room for them (up to ~7 columns a side).
TITLE_MARGIN = 10


def fit_title(variants: list[str] | tuple[str, ...], width: int) -> str:
    """The first of ``variants`` (longest first) that fits ``width`` columns, else the last."""
    for title in variants:
        if len(title) <= width:
            return title
    return variants[-1]


def decade_ticks(
    ys: list[np.ndarray], floor: float | None = None
) -> tuple[list[float], list[str]] | None:
    """Whole-decade ticks (1e-6, 1e-5...) for a log axis over the positive values ``ys``.

    None when the values span less than two decades (plotext's own ticks say more),
    unless ``floor`` is given: then the floor (where zeros are drawn) is a tick "0".
    """
    if not ys:
        return ([floor], ["0"]) if floor is not None else None
    # Only decades inside the data: plotext writes a tick outside the range on the x axis.
    lo = math.ceil(math.log10(min(float(y.min()) for y in ys)) - 1e-9)
    hi = math.floor(math.log10(max(float(y.max()) for y in ys)) + 1e-9)
    if hi - lo < 1 and floor is None:
        return None
    step = max(1, (hi - lo) // 6)  # at most about 7 labels
    ks = list(range(lo, hi + 1, step))
    ticks, labels = [10.0**k for k in ks], [f"1e{k}" for k in ks]
    if floor is not None:
        ticks.insert(0, floor)
        labels.insert(0, "0")
    return ticks, labels


def label_order(n: int) -> list[int]:
    """Which line labels to place first: the first, the last, then every other one."""
    if n <= 2:
        return list(range(n))
    inner = list(range(2, n - 1, 2)) + list(range(1, n - 1, 2))
    return [0, n - 1, *inner]


def label_rows(ends: list[float], lo: float, hi: float, rows: int, log: bool) -> list[int]:
    """The text row (0 = bottom) each line's last value ``ends[i]`` lands on."""
    t = (lambda v: math.log10(v)) if log else (lambda v: v)
    span = t(hi) - t(lo)
    out = []
    for v in ends:
        frac = 0.5 if span <= 0 else (t(v) - t(lo)) / span
        out.append(round(min(1.0, max(0.0, frac)) * (rows - 1)))
    return out


class GuardedPlot(PlotextPlot):
    """A PlotextPlot that is only ever drawn through ``draw`` and never crashes render.

    Focusable (number keys, tab) and zoomable: a click on its title row posts
    ``TitleClicked``, which the dashboard takes as "zoom this pane".
    """

    can_focus = True
    ALLOW_MAXIMIZE = True

    class TitleClicked(Message):
        """The user clicked the pane's title (its first row)."""

        def __init__(self, pane: GuardedPlot) -> None:
            super().__init__()
            self.pane = pane

    def names_colours(self) -> bool:
        """Whether a title may say "in red": the lines are ours and the screen has colour."""
        return self.own_colours and not self.app.no_color

    def on_click(self, event: Click) -> None:
        if event.y == 0:
            self.post_message(self.TitleClicked(self))

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.base_title = title
        #: whether the lines are drawn in the pane's own colours (compare mode recolours
        #: them by run): a title may name a colour only then
        self.own_colours = True
        self.drawn = Drawn()
        #: the last exception plotext raised while rendering (tests assert it stays None)
        self.render_error: Exception | None = None
        #: what the dashboard last drew this plot from (its data, size and theme)
        self.shown_key: object = None
        #: the lines of the last draw, drawn by render() after plotext's layout
        self._lines: list[FastLine] = []
        self._recipe: Figure | None = None  # the last draw's
        self._built = False  # whether render built the figure _figure laid out
        #: the rows on screen, repainted where they changed (line_diff.py)
        self.shown = ShownLines()
        self._painted_key: object = None  # _paint_key() of the shown rows

    def figure(self, view: RunView) -> Figure:
        """What this pane plots from ``view`` (each pane says), without drawing it."""
        raise NotImplementedError

    def show(self, view: RunView) -> None:
        """Draw this pane from ``view``."""
        self.draw(self.figure(view))

    @property
    def points(self) -> int:
        """Buckets a series is down-sampled to: two per text column (one per braille dot).

        One per column leaves every other dot column of a min/max band empty (stripes).
        """
        return max(16, 2 * self.size.width)

    @property
    def plot_rows(self) -> int:
        """Text rows inside the frame (title, two borders and the x ticks take four)."""
        return max(1, self.size.height - 4)

    def draw(self, figure: Figure) -> None:
        """Replace the plot with ``figure`` and repaint the cells that changed.

        The figure is kept: plotext changes its figure in place while building it (a
        log axis takes the log of the data), so ``render`` lays the figure out again
        before building it a second time (a theme change, a resize).
        """
        self._recipe = figure
        self.drawn = self._figure(figure)
        self._built = False
        self._paint()

    def _figure(self, figure: Figure) -> Drawn:
        """Lay plotext's figure out, guarded against inf, log of <= 0 and no data."""
        lines, title, log_y, xlim = figure.lines, figure.title, figure.log_y, figure.xlim
        hlines, ylim, yticks, ylim_right = (
            figure.hlines,
            figure.ylim,
            figure.yticks,
            figure.ylim_right,
        )
        zeros, end_labels, vlines = figure.zeros, figure.end_labels, figure.vlines
        # plotext 5.3's annotations are wrong (yside typed as a float): untyped here
        plt: Any = self.plt
        plt.clear_figure()
        self._lines = []
        title = title or self.base_title
        drawn = Drawn(log_y=log_y, title=title)
        log_left = log_y
        cleaned: list[tuple[Line, np.ndarray, np.ndarray, np.ndarray]] = []
        for line in lines:
            # Only the left axis can be log scale; the right one (accuracy) is linear.
            on_log = log_y and line.yside == "left"
            x, y = clean_points(line.x, line.y, on_log)
            zx = np.empty(0)
            if zeros and on_log:
                lx, ly = np.asarray(line.x, dtype=np.float64), np.asarray(line.y, dtype=np.float64)
                zx = lx[np.isfinite(lx) & (ly == 0.0)]
            cleaned.append((line, x, y, zx))
        left_ys = [y for ln, x, y, _ in cleaned if ln.yside == "left" and len(x)]
        any_zeros = any(len(zx) for *_, zx in cleaned)
        floor: float | None = None
        if any_zeros:
            if left_ys:  # one decade under the smallest positive value
                floor = 10.0 ** (math.floor(math.log10(min(float(y.min()) for y in left_ys))) - 1)
            else:  # nothing positive at all: a linear axis with its "0" row
                log_left, floor = False, 0.0
        ends: list[tuple[Line, float, float]] = []  # (line, last x, last y) for end labels
        for line, x, y, zx in cleaned:
            if len(zx):
                drawn.zeros[line.label] = zx
                plt.scatter(zx.tolist(), [floor] * len(zx), marker=ZERO_MARKER, color=line.color)
            if len(x):
                drawn.lines[line.label] = (x, y)
                drawn.colors[line.label] = line.color
                # plotext lays the plot out from a few real points of the line;
                # render() draws the whole line (tui/panes/braille.py says why).
                proxy = proxy_points(x, y)
                self._lines.append(FastLine(plt.monitor.signals, x.tolist(), y.tolist()))
                plt.scatter(
                    x[proxy].tolist(),
                    y[proxy].tolist(),
                    label=None
                    if (end_labels and line.yside == "left") or not line.legend
                    else line.label,
                    color=line.color,
                    marker=line.marker,
                    yside=line.yside,
                )
            if end_labels and line.yside == "left" and (len(x) or len(zx)):
                last_x = max(x[-1] if len(x) else -math.inf, zx[-1] if len(zx) else -math.inf)
                last_y = y[-1] if len(x) and x[-1] == last_x else floor
                ends.append((line, float(last_x), float(last_y)))  # type: ignore[arg-type]
        drawn.empty = not drawn.lines and not drawn.zeros
        if drawn.empty:
            # No log axis here: plotext cannot scale a log axis without data.
            # no data, no tick labels: the title may use the whole width
            drawn.title = fit_title([f"{title}: no data yet", "no data yet"], self.size.width - 2)
            plt.title(drawn.title)
            return drawn
        plt.title(title)
        # A threshold line (the clip threshold) must stay on screen when every value is
        # far above or below it: that gap is what the clipping pane is there to show.
        hvals = [float(v) for v, _ in hlines if np.isfinite(v) and (v > 0 or not log_left)]
        if hvals and left_ys and ylim is None:
            left_ys = [*left_ys, np.asarray(hvals)]
        # The left axis moves only in 1-2-5 steps (axes.py): a new value inside it
        # changes the plot only where it is drawn.
        axis_lim: tuple[float, float] | None = ylim
        if ylim is None and left_ys:
            lo = min(float(y.min()) for y in left_ys)
            hi = max(float(y.max()) for y in left_ys)
            if floor is not None:
                lo = min(lo, floor)
            axis_lim = y_limits(lo, hi, log_left)
        has_left = bool(left_ys) or any_zeros
        if log_left and has_left:
            plt.yscale("log", yside="left")
        if yticks is None and has_left:
            if log_left:
                yticks = decade_ticks(left_ys, floor)
                if yticks is None and axis_lim is not None:  # under two decades
                    yticks = log_ticks(*axis_lim)
            elif floor is not None:  # zeros only
                yticks = ([0.0], ["0"])
                ylim = axis_lim = ylim or (0.0, 1.0)
            elif axis_lim is not None:
                yticks = linear_ticks(*axis_lim, self.plot_rows)
        if yticks is not None:
            plt.yticks(yticks[0], yticks[1], yside="left")
            drawn.yticks = yticks
        if axis_lim is not None:
            # plotext takes a log axis's limits as exponents
            lim = axis_lim
            if log_left and ylim is None:
                lim = (math.log10(axis_lim[0]), math.log10(axis_lim[1]))
            plt.ylim(*lim, yside="left")
        for value, color in hlines:
            if np.isfinite(value) and (value > 0 or not log_left):
                plt.hline(float(value), color=color)
        if ylim_right is not None and any(
            ln.yside == "right" and ln.label in drawn.lines for ln in lines
        ):
            plt.ylim(*ylim_right, yside="right")
        if xlim is not None and np.isfinite(xlim).all():
            lo, hi = float(xlim[0]), float(xlim[1])
            if hi <= lo:  # plotext divides by the x span
                hi = lo + 1.0
            drawn.xlim = (lo, hi)
            plt.xlim(lo, hi)
            ticks = np.unique(np.round(np.linspace(lo, hi, 5)))
            plt.xticks(ticks.tolist(), [fmt_step(t) for t in ticks])
        for x_mark, color in vlines:
            if xlim is None or drawn.xlim is None or drawn.xlim[0] <= x_mark <= drawn.xlim[1]:
                plt.vline(float(x_mark), color=color)
                drawn.vlines.append(float(x_mark))
        if ends:
            self._label_ends(ends, left_ys, floor, axis_lim, log_left, drawn)
        return drawn

    def _label_ends(
        self,
        ends: list[tuple[Line, float, float]],
        left_ys: list[np.ndarray],
        floor: float | None,
        ylim: tuple[float, float] | None,
        log: bool,
        drawn: Drawn,
    ) -> None:
        """Write each line's label at its last point; lines ending on one row share it.

        Labels on a shared row are joined ('L1,L3'), in ``label_order`` (first and last
        layer first), up to ``LABEL_WIDTH`` characters: the rest are left out rather
        than written over each other.
        """
        if ylim is not None:
            lo, hi = ylim
        else:
            values = [float(y.min()) for y in left_ys] + [float(y.max()) for y in left_ys]
            if floor is not None:
                values.append(floor)
            lo, hi = min(values), max(values)
        rows = label_rows([e[2] for e in ends], lo, hi, self.plot_rows, log)
        by_row: dict[int, list[int]] = {}
        for i in label_order(len(ends)):
            shared = by_row.setdefault(rows[i], [])
            names = [ends[j][0].label for j in sorted([*shared, i])]
            if not shared or len(",".join(names)) <= LABEL_WIDTH:
                shared.append(i)
        for members in by_row.values():
            members.sort()
            _, x, y = ends[members[0]]
            names = [ends[j][0].label for j in members]
            full = ",".join(names)
            # One text per name, each in its line's colour, all right-aligned at the same
            # point: a name is padded with spaces where the names after it go, and those
            # are written after it, over the spaces.
            start = 0
            for j, name in zip(members, names, strict=True):
                piece = full[start : start + len(name) + 1]  # the name and its comma
                piece += " " * (len(full) - start - len(piece))
                self.plt.text(piece, x, y, color=ends[j][0].color, alignment="right")
                start += len(name) + 1
            drawn.end_labels.extend(names)

    def _paint_key(self) -> tuple[object, ...]:
        """What the shown rows were built for besides the figure: size and theme."""
        return (self.size, self.plotext_theme())

    def _rows(self) -> list[Runs]:
        """The pane built at its size as rows of runs; a message row if plotext fails."""
        if self.size.width < 4 or self.size.height < 3:
            return []
        try:
            rows = self._build()
        except Exception as exc:  # a plotext bug must not take the dashboard down
            self.render_error = exc
            return [[(f"{self.base_title}: cannot draw ({exc})", None)]]
        self.render_error = None
        return rows

    def _strips(self) -> list[Strip]:
        """The pane built now, one strip per row, for the current paint key."""
        self._painted_key = self._paint_key()
        return [segments_strip(runs, self.size.width) for runs in self._rows()]

    def _paint(self) -> None:
        """Build the rows now and repaint only the cells that changed (line_diff.py)."""
        self.shown.update(self, self._strips())

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the last build (Textual's Line API); built again when stale."""
        if self._painted_key != self._paint_key():
            # a resize or a theme change: Textual repaints the whole pane anyway
            self.shown.keep(self, self._strips())
        strip = self.shown.line(y, self.size.width)
        if y == 0 and self.has_focus:  # the selected pane: its title reversed
            strip = strip.apply_style(Style(reverse=True))
        return strip.apply_style(self.rich_style)

    def render(self) -> Text:
        """The pane as rich ``Text`` (tests read it; the screen uses ``render_line``)."""
        rows = self._rows()
        text = runs_text(rows)
        if self.has_focus and "\n" in text.plain:  # one row (cannot draw): no title row
            text.stylize("reverse", 0, text.plain.index("\n"))
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def plotext_theme(self) -> str:
        """The plotext theme textual-plotext registers for the app's theme ("auto")."""
        return f"textual-auto-{self.app.theme}" if self.theme == "auto" else self.theme

    def _build(self) -> list[Runs]:
        """``PlotextPlot.render``, with the lines drawn by ``braille.build``."""
        if self._built and self._recipe is not None:
            self._figure(self._recipe)  # a fresh figure to build
        plot, (w, h) = self.plt, self.size
        plot.plotsize(w, h)
        plot._set_size(w, h)  # see PlotextPlot.render: resizing needs both
        plot.theme(self.plotext_theme())
        self._built = True
        return build(plot, self._lines)
