"""Axes that hold still, so that a plot changes only where its data did.

A plot whose axes follow its data exactly (first step to last, lowest value to
highest) moves every point on screen whenever one step arrives: every cell of the pane
is sent to the terminal again, every frame (issue 15). Here the axes only move in
steps of the 1-2-5 series (1, 2, 5, 10, 20, 50...), so between two such steps a new
frame changes the plot only in its newest columns, and ``line_diff`` repaints just those.

- The time axis ends at the smallest 1-2-5 value that holds the latest step (the plot
  is at least 40% full), but never past the run's length when it is known (the run
  event's ``config.steps``): a finished run ends exactly at its last step. A stream
  that runs past its stated length, or has none (a foreign writer), keeps growing.
- A y axis reaches from the 1-2-5 value at or below its lowest value to the one at or
  above its highest; on a linear axis, to the multiples of a 1-2-5 tick step (about
  four ticks over the data) around them, and its ticks are multiples of such a step.
"""

from __future__ import annotations

import math

MIN_TIME_SPAN = 10  # steps: the shortest time axis (a run's first steps)
BIG = 1e5  # linear tick labels from here on are written as 1.2e+07, not in full
NICE = (1.0, 2.0, 5.0)


def nice_up(value: float) -> float:
    """The smallest 1-2-5 value (1, 2, 5 times a power of ten) >= ``value`` > 0."""
    k = math.floor(math.log10(value))
    for decade in (k, k + 1):
        for m in NICE:
            v = m * 10.0**decade
            if v >= value * (1 - 1e-12):
                return v
    return 10.0 ** (k + 1)  # not reached: 10^(k+1) >= value


def nice_down(value: float) -> float:
    """The largest 1-2-5 value <= ``value`` > 0."""
    k = math.floor(math.log10(value))
    for decade in (k + 1, k, k - 1):
        for m in reversed(NICE):
            v = m * 10.0**decade
            if v <= value * (1 + 1e-12):
                return v
    return 10.0 ** (k - 1)  # not reached


def time_axis_end(first: float, last: float, run_length: int | None) -> float:
    """The right end of the time axes for steps ``first..last`` of a run of ``run_length``."""
    end = nice_up(max(last, first + MIN_TIME_SPAN, 1.0))
    if run_length is not None and first < run_length and last <= run_length:
        end = min(end, float(run_length))
    return end


def y_limits(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """Axis limits around finite data ``lo <= hi`` (both > 0 when ``log``)."""
    if log:
        return nice_down(lo), nice_up(hi)
    span = hi - lo
    if span <= 0:  # one value: a band around it
        span = abs(hi) or 1.0
    step = nice_up(span / 4)
    bottom, top = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return bottom, max(top, bottom + step)


def linear_ticks(lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """Ticks of a linear axis ``lo..hi`` at multiples of a 1-2-5 step, at most one
    every other row of ``rows``, labelled with the same number of decimals."""
    most = max(2, rows // 2 + 1)
    step = nice_up((hi - lo) / 4) if hi > lo else 1.0
    while True:
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        if last - first + 1 <= most:
            break
        step = nice_up(step * 1.01)  # the next of the series
    ticks = [k * step for k in range(first, last + 1)]
    if len(ticks) < 2:  # a coarser step left one tick: the axis's ends instead
        ticks, step = [lo, hi], hi - lo
    if max(abs(lo), abs(hi)) >= BIG:
        return ticks, [f"{t:.3g}" for t in ticks]
    decimals = max(0, -math.floor(math.log10(nice_down(step)) + 1e-9))
    return ticks, [f"{t:.{decimals}f}" for t in ticks]


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks of a log axis ``lo..hi`` (> 0) spanning under two decades: its 1-2-5 values."""
    ticks, v = [], nice_up(lo)
    while v <= hi * (1 + 1e-12):
        ticks.append(v)
        v = nice_up(v * 1.01)
    return ticks, [f"{t:g}" for t in ticks]
