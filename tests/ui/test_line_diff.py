"""Partial repaints (tui/panes/line_diff.py) and the axes that make them pay (axes.py).

The diff is checked against a brute-force comparison of two renders cell by cell; the
panes against what the screen holds after many partial frames (a missed span would
leave a stale cell there) and against a pane whose data did not change (no refresh).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
from typing import Any

import numpy as np
import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from bp_tui.tui.history import History
from bp_tui.tui.panes.axes import (
    linear_ticks,
    log_ticks,
    nice_down,
    nice_up,
    time_axis_end,
    y_limits,
)
from bp_tui.tui.panes.boundary import MIN_INTERVAL as BOUNDARY_INTERVAL
from bp_tui.tui.panes.boundary import BoundaryPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.line_diff import GAP, changed_spans, row_spans
from bp_tui.tui.panes.plotting import GuardedPlot
from tests.ui.conftest import pump
from tests.ui.test_boundary_pane import screen_cells

STYLES = [None, Style(color="red"), Style(color="red", bold=True), Style(bgcolor="blue")]


def random_strip(rng: random.Random, width: int) -> Strip:
    """A strip of ``width`` one-cell characters in runs of random styles."""
    segs, x = [], 0
    while x < width:
        n = min(width - x, rng.randint(1, 6))
        segs.append(Segment("".join(rng.choice("ab⣿▀ ") for _ in range(n)), rng.choice(STYLES)))
        x += n
    return Strip(segs, width)


def mutate(rng: random.Random, strip: Strip, edits: int) -> Strip:
    """``strip`` with ``edits`` random cells given a random character and style."""
    cells = [
        (seg.text, seg.style) for x in range(strip.cell_length) for seg in strip.crop(x, x + 1)
    ]
    for _ in range(edits):
        x = rng.randrange(len(cells))
        cells[x] = (rng.choice("ab⣿▀ "), rng.choice(STYLES))
    return Strip([Segment(t, s) for t, s in cells], strip.cell_length)


def cell(strip: Strip, x: int) -> tuple[str, Any]:
    """The character and style at column ``x``, by cropping (independent of strip_cells)."""
    (seg,) = [s for s in strip.crop(x, x + 1) if s.text]
    return seg.text, seg.style


@pytest.mark.parametrize("seed", range(12))
def test_the_spans_are_exactly_the_cells_that_differ(seed):
    rng = random.Random(seed)
    width = rng.randint(1, 60)
    old = [random_strip(rng, width) for _ in range(8)]
    new = [mutate(rng, s, rng.choice([0, 0, 1, 3, 20])) for s in old]
    differ = {(y, x) for y in range(8) for x in range(width) if cell(old[y], x) != cell(new[y], x)}
    # gap 1: the spans are the runs of differing cells, nothing more
    exact = changed_spans(old, new, gap=1)
    covered = {(y, x) for y, x0, x1 in exact for x in range(x0, x1)}
    assert covered == differ
    # the default gap joins close runs: every differing cell is covered, every span
    # begins and ends on one, and spans on a row are at least GAP cells apart
    merged = changed_spans(old, new)
    covered = {(y, x) for y, x0, x1 in merged for x in range(x0, x1)}
    assert differ <= covered
    for y, x0, x1 in merged:
        assert (y, x0) in differ and (y, x1 - 1) in differ
    for (ya, _, a1), (yb, b0, _) in itertools.pairwise(merged):
        if ya == yb:
            assert b0 - a1 >= GAP
    if not differ:
        assert merged == []


def test_rows_added_removed_and_wide_characters():
    a = Strip([Segment("ab中c")])  # 中 takes two cells: c is at column 4
    b = Strip([Segment("ab中d")])
    assert row_spans(a, b, gap=1) == [(4, 5)]
    assert row_spans(None, b) == [(0, 5)]  # a new row: all of it
    assert row_spans(a, None) == [(0, 5)]  # a row gone: blanked
    assert row_spans(a, a) == []
    assert changed_spans([a], [a, b]) == [(1, 0, 5)]


def brute_nice(lo_exp: int = -12, hi_exp: int = 12) -> list[float]:
    return sorted(m * 10.0**k for k in range(lo_exp, hi_exp) for m in (1, 2, 5))


@pytest.mark.parametrize("value", [1e-9, 0.003, 0.7, 1.0, 1.5, 2.0, 7.3, 10.0, 801.0, 123456.0])
def test_nice_values_are_the_nearest_of_the_1_2_5_series(value):
    series = brute_nice()
    assert nice_up(value) == pytest.approx(min(v for v in series if v >= value * (1 - 1e-12)))
    assert nice_down(value) == pytest.approx(max(v for v in series if v <= value * (1 + 1e-12)))


def test_the_time_axis_holds_the_run_grows_in_steps_and_ends_at_the_run_length():
    ends = [time_axis_end(1, last, 800) for last in range(1, 801)]
    assert all(end >= last for last, end in zip(range(1, 801), ends, strict=True))
    assert ends[-1] == 800  # a finished run ends exactly at its last step
    assert max(ends) == 800  # never past the known length
    # the plot is at least 40% full once past the shortest axis
    assert all(last / end >= 0.4 for last, end in zip(range(10, 801), ends[9:], strict=True))
    assert len(set(ends)) <= 8  # it moved only a few times: 10, 20, 50, ... 500, 800
    # unknown length, or a stream past its stated length: keeps growing in 1-2-5 steps
    assert time_axis_end(1, 1234, None) == 2000
    assert time_axis_end(1, 1234, 800) == 2000


def test_y_limits_hold_the_data_and_hold_still_for_small_changes():
    for lo, hi, log in [(0.07, 1.3, False), (1e-5, 3.0, True), (-2.5, 4.0, False), (5, 5, False)]:
        a, b = y_limits(lo, hi, log)
        assert a <= lo and b >= hi and b > a
        assert y_limits(lo * 1.01 if lo > 0 else lo, hi * 0.99, log) == (a, b)


def test_grouped_buckets_keep_their_values_as_the_run_grows():
    h = History(capacity=64)
    values = np.random.default_rng(0).normal(size=200)
    early = None
    for i, v in enumerate(values):
        h.push({"step": i + 1, "loss": float(v)})
        if i + 1 == 140:
            early = h.series("loss", group=4)
    late = h.series("loss", group=4)
    assert early is not None and h.width == 4  # 4 steps a bucket since step 128
    span = 4 * h.width  # steps a point holds
    for j in range(len(late)):  # brute force: min and max of each point's steps
        chunk = values[j * span : (j + 1) * span]
        assert late.lo[j] == chunk.min() and late.hi[j] == chunk.max()
    assert len(late) == -(-200 // span)
    done = 140 // span  # the points complete at step 140 did not change since
    assert np.array_equal(early.lo[:done], late.lo[:done])
    assert np.array_equal(early.hi[:done], late.hi[:done])
    assert np.array_equal(early.steps[:done], late.steps[:done])


def pane_screen_text(app: Any, pane: Any) -> list[str]:
    """The pane's rows as the screen holds them (Textual's cached lines and all)."""
    r = pane.content_region
    rows = screen_cells(app)[r.y : r.y + r.height]
    return ["".join(ch for ch, _ in row[r.x : r.x + r.width]) for row in rows]


async def test_after_many_partial_frames_the_screen_holds_a_fresh_render(make_app):
    app, _ = make_app(batch=7)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 40)  # the axes moved several times on the way
        for pane in app.screen.query(GuardedPlot):
            fresh = pane.render().plain.split("\n")[: pane.size.height]
            assert pane_screen_text(app, pane) == fresh, pane.id
        assert dash.view.last("step") >= 280  # the app's own timers poll too
        flow = app.screen.query_one(GradFlowPane)  # bars diffed row by row too
        want = flow.shown_text.plain.split("\n")
        got = [row.rstrip() for row in pane_screen_text(app, flow)][: len(want)]
        assert got == [row.rstrip() for row in want]


async def test_a_pane_whose_data_did_not_change_is_not_refreshed(make_app, monkeypatch):
    app, _ = make_app(batch=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 6)
        source = app.dashboard.source
        source.paused = True  # no new steps from the app's own timers either
        dash = await pump(pilot, 2)
        calls: list[tuple[Any, ...]] = []
        for pane in [*app.screen.query(GuardedPlot), app.screen.query_one(BoundaryPane)]:

            def counting(*regions: Any, _pane: Any = pane, **kw: Any) -> Any:
                calls.append((_pane.id, regions))
                return type(_pane).refresh(_pane, *regions, **kw)

            monkeypatch.setattr(pane, "refresh", counting)
        for pane in app.screen.query(GuardedPlot):
            pane.show(dash.view)  # the same data again
            assert pane.shown.repainted == 0
        app.screen.query_one(BoundaryPane).show(force=True)
        assert calls == []
        # one more step: a plot repaints a few spans, not the pane
        before = dash.view.last("step")
        xlim = app.screen.query_one("#loss", GuardedPlot).drawn.xlim
        source.paused, source.batch = False, 1
        dash.refresh_now()  # no await: exactly one step
        assert dash.view.last("step") == before + 1
        loss = app.screen.query_one("#loss", GuardedPlot)
        if loss.drawn.xlim != xlim:  # the step crossed a 1-2-5 step of the time axis
            assert loss.shown.repainted == loss.size.width * loss.size.height
            return
        assert calls and all(regions for _, regions in calls)  # partial: regions named
        plots = list(app.screen.query(GuardedPlot))
        assert sum(p.shown.repainted for p in plots) > 0  # the new step is on screen
        for pane in plots:  # each plot changed in a few cells, not all over
            assert pane.shown.repainted < 0.25 * pane.size.width * pane.size.height, pane.id


@pytest.mark.parametrize(
    "lo, hi, rows", [(0.07, 1.3, 6), (0, 100, 8), (-2.5, 4, 6), (3e6, 9e7, 10), (0.3, 0.31, 2)]
)
def test_linear_ticks_are_few_even_distinct_and_inside_the_axis(lo, hi, rows):
    a, b = y_limits(lo, hi, False)
    ticks, labels = linear_ticks(a, b, rows)
    assert 2 <= len(ticks) <= max(2, rows // 2 + 1)
    assert all(a - 1e-9 <= t <= b + 1e-9 for t in ticks)
    gaps = np.diff(ticks)
    assert np.allclose(gaps, gaps[0])
    assert len(set(labels)) == len(labels)  # written apart
    assert all(
        float(label) == pytest.approx(t, rel=1e-2, abs=1e-9)
        for t, label in zip(ticks, labels, strict=True)
    )


async def test_the_time_axis_grows_in_steps_and_ends_at_the_last_step_of_an_ended_run(make_app):
    app, _ = make_app(batch=3, diverge_at=40)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot, 3)
        loss = app.screen.query_one("#loss", GuardedPlot)
        if dash.end is None:  # running: a 1-2-5 end with room for the next steps
            last = dash.view.last("step")
            assert loss.drawn.xlim == (1.0, time_axis_end(1, last, None))
            assert loss.drawn.xlim[1] > last
        for _ in range(30):
            if dash.end is not None:
                break
            await pump(pilot)
        assert dash.end is not None and dash.end["reason"] == "diverged"
        await pump(pilot)
        assert loss.drawn.xlim == (1.0, float(dash.view.last("step")))  # no empty room


@pytest.mark.parametrize("lo, hi", [(0.01, 0.1), (0.2, 5.0), (1e-5, 1e-4), (3.0, 40.0)])
def test_log_ticks_under_two_decades_are_the_1_2_5_values_inside(lo, hi):
    ticks, labels = log_ticks(lo, hi)
    expected = [v for v in brute_nice() if lo * (1 - 1e-12) <= v <= hi * (1 + 1e-12)]
    assert ticks == pytest.approx(expected)
    assert [float(label) for label in labels] == pytest.approx(expected)


def probe(step: int, value: int) -> dict[str, Any]:
    """A step event carrying a 2x2 boundary grid of one value (two classes)."""
    grid = base64.b64encode(bytes([value] * 4)).decode()
    field = {"w": 2, "h": 2, "x": [0.0, 1.0], "y": [0.0, 1.0], "classes": 2, "p": grid}
    return {"type": "step", "step": step, "loss": 1.0, "boundary": field}


async def test_a_new_probe_is_drawn_within_min_interval_not_at_once(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        pane = app.screen.query_one(BoundaryPane)
        title = lambda: "".join(seg.text for seg in pane.shown.rows[0])  # noqa: E731
        pane.feed([probe(10, 0)])
        pane.show(force=True)
        assert "step 10" in title()
        pane.feed([probe(20, 255)])
        pane.show()  # within MIN_INTERVAL of the last draw: put off
        assert "step 10" in title()
        await asyncio.sleep(BOUNDARY_INTERVAL + 0.3)  # the catch-up timer draws it
        await pilot.pause()
        assert "step 20" in title()
