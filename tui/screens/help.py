"""The help screen (`?`): every key of the dashboard and what it does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# bp-tui keys

| key | what it does |
|---|---|
| `space` | pause / resume training |
| `n` | one training step (while paused) |
| `r` | restart the scenario from step 1 |
| `f` | toggle the scenario's fix (restarts with the remedy) |
| `+` / `-` | faster / slower (target steps per second) |
| `[` / `]` | halve / double the learning rate, live |
| `c` | cycle gradient clipping: none → norm → value, live |
| `l` | log scale on the loss plot (it turns on by itself when the loss spans many decades) |
| `v` | small terminals (below 110x32): cycle the view: plots → gradient flow + table → lesson |
| `e` | gradient panes: weight gradient ‖dW‖ ↔ error signal ‖δ‖ = ‖dL/dz‖ |
| `b` | backprop view: one step, forward then backward (`n` next, `p` play, `t` step, `x` example) |
| `g` | gradient check: backprop vs finite differences per layer, and their cost |
| `s` | back to the scenario picker |
| `ctrl+p` | command palette: start any scenario by name; the backprop view, the gradient check |
| `?` | this help (`escape` closes it) |
| `q` | quit |

**Panes.** Loss and accuracy over steps; ‖dW‖ of every layer (log scale: a vanishing
gradient shows as lines decades apart; an exactly zero gradient as `x` on the "0"
row, named in the title); gradient flow now, one bar per layer from the loss back to
the input; dead ReLU units in % of each layer's width (or the saturated % for
sigmoid/tanh); global gradient norm before clipping with the threshold; the per-layer
table (dead units as dead/width). On a small terminal `v` shows one of these at a
time: the plots, the gradient flow with the table, or the lesson.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
