"""The one-line status: state first (so a narrow terminal never hides it), then the run.

State is one of ``running``, ``paused``, ``completed``, ``stopped``,
``DIVERGED at step N`` or ``error: ...``. Step and lr come from the latest event.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui.panes.view import fmt_num

STATE_STYLES = {"running": "bold green", "paused": "bold yellow", "completed": "bold cyan"}


@dataclass(frozen=True)
class StatusInfo:
    state: str
    scenario: str
    fix: bool
    step: int | None  # latest step event's step
    total: int
    rate: float | None  # measured steps/s
    speed: float  # target steps/s, 0 = unlimited
    lr: float | None  # latest step event's lr
    clip: str  # none | norm | value
    detail: str = ""  # the source's own line (a replay's position, a followed file's writer)


def status_text(info: StatusInfo) -> Text:
    style = STATE_STYLES.get(info.state, "bold red")
    text = Text(f" {info.state} ", style=f"reverse {style}")
    step = "–" if info.step is None else str(info.step)
    rate = "–" if info.rate is None else f"{info.rate:.0f}"
    # Compact on purpose: the whole line must fit 80 columns.
    limit = "" if info.speed <= 0 else f" ≤{fmt_num(info.speed)}"
    parts = [
        info.scenario,
        f"fix {'on' if info.fix else 'off'}",
        f"step {step}/{info.total}",
        f"{rate}/s{limit}",
        f"lr {fmt_num(info.lr)}",
        f"clip {info.clip}",
    ]
    if info.detail:
        parts.append(info.detail)
    text.append(" " + " │ ".join(parts))
    return text


class StatusLine(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]
        self.info: StatusInfo | None = None

    def show(self, info: StatusInfo) -> None:
        if info != self.info:
            self.info = info
            self.update(status_text(info))

    @property
    def plain(self) -> str:
        return status_text(self.info).plain if self.info else ""
