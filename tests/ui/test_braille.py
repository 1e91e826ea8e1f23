"""The fast line drawing (tui/panes/braille.py) against plotext's own drawing.

plotext 5.3 is the oracle: the same lines, legend, labels, threshold line and axes,
drawn once by plotext's ``plot`` + ``build`` and once through ``braille.build``, must
give the same characters in the same colours.
"""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text
from textual_plotext.plot import Plot

from bp_tui.tui.panes.braille import FastLine, build, proxy_points, runs_text
from bp_tui.tui.panes.plotting import envelope


def both(lines, *, size=(58, 14), log=False, hline=None, texts=(), xlim=None):
    """(plotext's canvas, braille.build's) for ``lines`` = [(x, y, kwargs)], as ``styled``."""
    native, fast = Plot(), Plot()
    fast_lines = []
    for x, y, kw in lines:
        native.plot(x.tolist(), y.tolist(), marker="braille", **kw)
        idx = proxy_points(x, y)
        fast_lines.append(FastLine(fast.monitor.signals, x.tolist(), y.tolist()))
        fast.scatter(x[idx].tolist(), y[idx].tolist(), marker="braille", **kw)
    for plt in (native, fast):
        plt.plotsize(*size)
        plt.title("a title")
        if log:
            plt.yscale("log")
        if hline is not None:
            plt.hline(hline, color="red")
        for text, tx, ty, color in texts:
            plt.text(text, tx, ty, color=color, alignment="right")
        if xlim is not None:
            plt.xlim(*xlim)
    return styled(Text.from_ansi(native.build())), styled(runs_text(build(fast, fast_lines)))


def plain(canvas: list[tuple[str, str]]) -> str:
    return "".join(ch for ch, _ in canvas)


def styled(text: Text) -> list[tuple[str, str]]:
    """Every character of ``text`` with the style it is drawn in."""
    console = Console()
    return [(ch, str(text.get_style_at_offset(console, i))) for i, ch in enumerate(text.plain)]


def noisy(n, seed, lo=-4.0, hi=1.0):
    rng = np.random.default_rng(seed)
    return np.linspace(1.0, 2e4, n), 10.0 ** rng.uniform(lo, hi, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_noisy_log_band_with_legend_and_threshold_is_drawn_as_plotext_draws_it(seed):
    x, y = noisy(60, seed)
    ex, ey = envelope(x, y * 0.5, y)
    native, fast = both([(ex, ey, {"color": "yellow", "label": "‖g‖"})], log=True, hline=0.1)
    assert "⢕⢕ ‖g‖" in plain(fast)  # the legend survived the lines drawn over it
    assert fast == native


def test_lines_on_both_axes_with_end_labels_are_drawn_as_plotext_draws_them():
    x, loss = noisy(120, 3, lo=-1, hi=0.5)
    acc = np.clip(np.linspace(0.2, 0.95, 120) + np.sin(np.arange(120)) * 0.05, 0, 1)
    lines = [
        (x, loss, {"color": "red", "label": "loss"}),
        (x, acc, {"color": "green", "label": "accuracy", "yside": "right"}),
        (x, loss[::-1] * 0.8, {"color": "cyan"}),
    ]
    texts = [("L1", float(x[-1]), float(loss[-1]), "red"), ("L2", float(x[-1]), 0.5, "cyan")]
    native, fast = both(lines, size=(80, 20), texts=texts, xlim=(1.0, 2e4))
    assert "L1" in plain(fast) and "L2" in plain(fast)
    assert fast == native


def test_a_tiny_canvas_and_flat_and_single_point_lines_match_plotext():
    flat = (np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.0]), {"color": "blue"})
    single = (np.array([2.0]), np.array([7.0]), {"color": "green"})
    for size in [(12, 6), (30, 8)]:
        native, fast = both([flat, single], size=size)
        assert fast == native
