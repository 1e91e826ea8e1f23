"""The help screen (`?`): the keys of the screen it was opened from, and the panes.

The key table is made from that screen's bindings (``keys.markdown_table``), the same
list the footer shows, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from bp_tui.tui.screens.keys import COMPARE_PALETTE_ROW, PALETTE_ROW, markdown_table

PANES = """\
**Panes.** Loss (a smoothed line) and accuracy over steps; ‖dW‖ of every layer (log
scale: a vanishing gradient shows as lines decades apart; an exactly zero gradient as
`x` on the "0" row, named in the title); dead ReLU units in % of each layer's width
(or the saturated % for sigmoid/tanh); global gradient norm before clipping with the
threshold; gradient flow now, one bar per layer from the loss back to the input, on a
scale that only widens during a run, with the first-to-last layer ratio; the
per-layer table (dead units as dead/width). Each layer has one colour in every pane.
Vertical lines on the time plots mark the run's events: red the divergence step,
orange a learning-rate change, grey a clipping change.

**Scrolling.** Select the lesson (`7`) or the table (`6`) and use the arrows,
PgUp/PgDn or the mouse wheel; `z` shows the selected pane on the whole screen. On a
small terminal `v` shows the plots, the gradient flow with the table, or the lesson.
"""

COMPARE_PANES = """\
**Panes.** Each pane draws both runs: the first (broken, ✗) in warm colours, the
second (fixed, ✓) in cool ones, every line labelled at its end with its run's mark and
a legend saying which is which: loss, ‖dW‖ per layer (log), dead or saturated units,
the global gradient norm with the clipping threshold; below, each run's decision
boundary and status line. Every key acts on both runs. On a small terminal `v` shows
the plots or the two decision boundaries.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss", "close"),
        Binding("q", "dismiss", "close", show=False),
    ]

    def __init__(self, keys: Iterable[Binding], *, compare: bool = False) -> None:
        """The help of the dashboard (and replay, watch), or with ``compare`` of the
        compare screen: its palette offers less and its panes hold two runs."""
        super().__init__()
        self.keys = list(keys)
        self.palette = COMPARE_PALETTE_ROW if compare else PALETTE_ROW
        self.panes = COMPARE_PANES if compare else PANES

    def compose(self) -> ComposeResult:
        table = markdown_table(self.keys, self.palette)
        with VerticalScroll(id="help"):
            yield Markdown(f"# bp-tui keys\n\n{table}\n\n{self.panes}")
