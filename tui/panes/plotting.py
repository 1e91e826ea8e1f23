"""The one guarded plotting helper every plot pane draws through.

plotext 5.x raises on three inputs a training run produces routinely: an infinite
value (a diverged step), a value <= 0 on a log axis (a dead layer's zero gradient),
and a log axis with no data at all (before the first step). ``GuardedPlot.draw`` is
the single place that cleans the points, so no pane can forget a case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

# Colours for the per-layer lines, input side first; cycled for deep networks.
LAYER_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "red", "white", "orange")


@dataclass
class Line:
    """One labelled line: ``x`` and ``y`` are 1-D float arrays of equal length."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: str = "cyan"
    yside: str = "left"


@dataclass
class Drawn:
    """What ``draw`` handed to plotext, kept for tests and the screenshot check."""

    lines: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    xlim: tuple[float, float] | None = None
    log_y: bool = False
    empty: bool = True


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


def decade_ticks(plt: object, ys: list[np.ndarray]) -> None:
    """Label a log axis at whole decades (1e-6, 1e-5...) when it spans more than one."""
    if not ys:
        return
    lo = math.floor(math.log10(min(float(y.min()) for y in ys)))
    hi = math.ceil(math.log10(max(float(y.max()) for y in ys)))
    if hi - lo < 2:
        return  # within a decade plotext's own ticks say more
    step = max(1, (hi - lo) // 6)  # at most about 7 labels
    ticks = [10.0**k for k in range(lo, hi + 1, step)]
    plt.yticks(ticks, [f"1e{k}" for k in range(lo, hi + 1, step)], yside="left")  # type: ignore[attr-defined]


class GuardedPlot(PlotextPlot):
    """A PlotextPlot that is only ever drawn through ``draw`` and never crashes render."""

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.base_title = title
        self.drawn = Drawn()
        #: the last exception plotext raised while rendering (tests assert it stays None)
        self.render_error: Exception | None = None

    def draw(
        self,
        lines: list[Line],
        *,
        title: str | None = None,
        log_y: bool = False,
        xlim: tuple[float, float] | None = None,
        hlines: tuple[tuple[float, str], ...] = (),
        ylim_right: tuple[float, float] | None = None,
    ) -> None:
        """Replace the plot with ``lines``, guarded against inf, log of <= 0 and no data."""
        plt = self.plt
        plt.clear_figure()
        plt.title(title or self.base_title)
        drawn = Drawn(log_y=log_y)
        left_ys: list[np.ndarray] = []
        for line in lines:
            # Only the left axis can be log scale; the right one (accuracy) is linear.
            x, y = clean_points(line.x, line.y, log_y and line.yside == "left")
            if len(x):
                drawn.lines[line.label] = (x, y)
                if line.yside == "left":
                    left_ys.append(y)
                plt.plot(
                    x.tolist(),
                    y.tolist(),
                    label=line.label,
                    color=line.color,
                    marker="braille",
                    yside=line.yside,
                )
        drawn.empty = not drawn.lines
        if drawn.empty:
            # No log axis here: plotext cannot scale a log axis without data.
            plt.title(f"{title or self.base_title}: no data yet")
        else:
            has_left = any(ln.yside == "left" and ln.label in drawn.lines for ln in lines)
            if log_y and has_left:
                plt.yscale("log", yside="left")
                decade_ticks(plt, left_ys)
            for value, color in hlines:
                if np.isfinite(value) and (value > 0 or not log_y):
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
        self.drawn = drawn
        self.refresh()

    def render(self) -> RenderResult:
        if self.size.width < 4 or self.size.height < 3:
            return Text("")
        try:
            result = super().render()
        except Exception as exc:  # a plotext bug must not take the dashboard down
            self.render_error = exc
            return Text(f"{self.base_title}: cannot draw ({exc})")
        self.render_error = None
        return result
