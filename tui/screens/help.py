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
| `l` | log scale on the loss plot |
| `s` | back to the scenario picker |
| `ctrl+p` | command palette: start any scenario by name |
| `?` | this help (`escape` closes it) |
| `q` | quit |

**Panes.** Loss and accuracy over steps; ‖dW‖ of every layer (log scale: a vanishing
gradient shows as lines decades apart); gradient flow now, one bar per layer from the
loss back to the input; dead ReLU units (or the saturated fraction for sigmoid/tanh);
global gradient norm before clipping with the threshold; the per-layer table.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
