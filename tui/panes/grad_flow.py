"""Gradient flow now: one bar per layer, from the loss back to the input, log scale.

Drawn as text rather than a plotext bar chart: bars on a log axis need a baseline
below the smallest value, which plotext does not offer, and one row per layer reads
well at any width. The bar of a value v spans ``(log10 v - lo) / (hi - lo)`` of the
track, where ``lo``..``hi`` are whole decades around every value of the run so far, read
from the history's per-bucket min and max (at least ``MIN_DECADES`` apart, so equal norms
do not fill the track): the scale only widens during a run, also while the pane is
hidden (a small terminal's other views), so a bar that grows is a gradient that grew.
Both ends of the axis are labelled, and the first-to-last layer ratio is printed
(``L1/L5 ≈ 10^-5.5``). Each bar has its layer's colour (colors.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.text import Text

from bp_tui.tui.panes.colors import hex_color, layer_colors
from bp_tui.tui.panes.flow_factors import factor_labels
from bp_tui.tui.panes.line_diff import DiffedStatic
from bp_tui.tui.panes.view import RunView, fmt_num

MIN_DECADES = 4


def decade_range(values: list[float]) -> tuple[int, int] | None:
    """Whole decades (lo, hi) that contain every positive finite value, or None."""
    good = [v for v in values if math.isfinite(v) and v > 0]
    if not good:
        return None
    hi = math.ceil(math.log10(max(good)) + 1e-12)
    # One decade of headroom below the smallest value, so its bar is still visible.
    lo = min(math.floor(math.log10(min(good))) - 1, hi - MIN_DECADES)
    return lo, hi


def widen(scale: tuple[int, int] | None, rng: tuple[int, int]) -> tuple[int, int]:
    """The scale that holds both ``scale`` (None: none yet) and the decades ``rng``."""
    if scale is None:
        return rng
    return min(scale[0], rng[0]), max(scale[1], rng[1])


def ratio_text(names: list[str], values: list[float | None]) -> str:
    """'L1/L5 ≈ 10^-5.5': the first layer's value over the last one's, in decades."""
    if len(values) < 2:
        return ""
    first, last = values[0], values[-1]
    if first is None or last is None or not (0 < first < math.inf and 0 < last < math.inf):
        return ""
    return f"{names[0]}/{names[-1]} ≈ 10^{math.log10(first / last):.1f}"


def run_extremes(view: RunView, key: str = "grad_norm") -> list[float]:
    """The smallest and largest finite ``key`` (||dW||, or the error signal) of every
    layer over the whole run so far."""
    out = []
    for i in range(len(view.layers)):
        s = view.history.series(key, layer=i)
        with np.errstate(invalid="ignore"):
            lo, hi = s.lo[s.lo > 0], s.hi[np.isfinite(s.hi)]
        if len(lo):
            out.append(float(lo.min()))
        if len(hi):
            out.append(float(hi.max()))
    return out


def bar_fraction(value: float, lo: int, hi: int) -> float:
    """Share of the track the bar of ``value`` fills (0..1) on the lo..hi decades."""
    if not math.isfinite(value) or value <= 0:
        return 1.0 if value == math.inf else 0.0
    return min(1.0, max(0.0, (math.log10(value) - lo) / (hi - lo)))


SYMBOLS = {"grad_norm": "‖dW‖", "error_signal": "‖δ‖"}  # what RunView.signal draws


def last_known(view: RunView, layer: int, key: str = "grad_norm") -> float | None:
    """The layer's latest ``key`` value that is not missing (a diverged step writes null)."""
    s = view.history.series(key, layer=layer)
    known = s.last[~np.isnan(s.last)]
    return float(known[-1]) if len(known) else None


class GradFlowPane(DiffedStatic):
    can_focus = True
    ALLOW_MAXIMIZE = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text("gradient flow: no data yet"), **kwargs)
        #: whole decades (lo, hi) the bars are drawn on; only widens during a run
        self.scale: tuple[int, int] | None = None
        self._run: object = None  # the run the scale belongs to
        #: (layer name, value, fraction of the track) per row, top (loss side) first
        self.bars: list[tuple[str, float | None, float]] = []
        self._lines = -1  # newlines of the text shown

    def show(self, view: RunView) -> None:
        # a new run (r, f, another scenario) or the other quantity (e): a new scale
        run = (id(view.run), view.history.first_step, view.signal)
        if run != self._run:
            self.scale, self._run = None, run
        names = [str(layer["name"]) for layer in view.layers]
        key, symbol = view.signal, SYMBOLS[view.signal]
        raw = [view.last(key, i) for i in range(len(names))]
        values = [None if v is None else float(v) for v in raw]
        head = f"{symbol} now, loss → input (log)"
        if all(v is None for v in values) and view.history.count:
            # The latest step (a diverged one) has no gradient: show the last known ones.
            values = [last_known(view, i, key) for i in range(len(names))]
            head = f"{symbol} at the last finite step (log)"
        # Rows are fitted to the width; should the pane narrow before the next frame
        # (the table beside it widens), a row is cut, never wrapped onto the next.
        text = Text(head + "\n", style="bold", no_wrap=True, overflow="crop")
        if all(v is None for v in values):
            self.bars = []
            self._show(text + Text("no data yet", style="dim"))
            return
        rng = decade_range([v for v in values if v is not None] + run_extremes(view, key))
        if rng is not None:
            self.scale = widen(self.scale, rng)
        label_w = max((len(n) for n in names), default=2)
        # Each row ends with the factor of the step that reached it (flow_factors.py):
        # in full where the pane is wide enough, else just "×0.24", else not at all;
        # a track of 6 cells comes first.
        labels = factor_labels(view, self.size.width - label_w - 12 - 7)
        ann_w = max((len(a) for a in labels), default=0)
        track = max(4, self.size.width - label_w - 12 - (ann_w + 1 if ann_w else 0))
        lo, hi = self.scale or (0, MIN_DECADES)
        self.bars = []
        colors = [hex_color(c) for c in layer_colors(len(names))]
        rows = list(zip(names, values, colors, labels, strict=True))
        for name, value, color, label in reversed(rows):
            frac = 0.0 if value is None else bar_fraction(value, lo, hi)
            self.bars.append((name, value, frac))
            n = round(frac * track)
            bad = value is not None and not math.isfinite(value)
            style = "bold red" if bad else color
            text.append(f"{name:>{label_w}} ", style=color)
            text.append("█" * n, style=style)
            text.append("·" * (track - n), style="dim")
            text.append(f" {fmt_num(value):>9}")
            text.append(f" {label}\n" if label else "\n", style="yellow")
        if rng is None and all(v == 0 for v in values if v is not None):
            # No positive value: a decade axis would be made up. Say what the zeros mean.
            text.append(f"no gradient reaches any layer (all {symbol} = 0)", style="bold red")
        elif self.scale is not None:
            left, right = f"1e{lo}", f"1e{hi}"
            gap = max(1, track - len(left) - len(right))
            text.append(" " * (label_w + 1) + left + " " * gap + right, style="dim")
            ratio = ratio_text(names, values)
            if ratio:
                text.append("\n" + " " * (label_w + 1) + ratio)
        if any(labels):
            text.append("\n× = ‖δ below‖/‖δ‖ = f' × W", style="yellow")
        self._show(text)

    @property
    def shown_text(self) -> Text:
        """The text on screen (the bars as last shown)."""
        assert isinstance(self.shown_content, Text)  # the pane only shows Text
        return self.shown_content

    def _show(self, text: Text) -> None:
        """Show ``text`` if it changed.

        A layout pass only when its line count changes (the width is the layout's; the
        height follows the lines in the small flow view): a layout repaints the panes
        around it too.
        """
        if text == self.shown_content:
            return  # nothing changed: no repaint, no bytes to the terminal
        lines = text.plain.count("\n")
        self.show_content(text, layout=lines != self._lines)
        self._lines = lines
