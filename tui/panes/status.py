"""The one-line status: state first (so a narrow terminal never hides it), then the run.

State is one of ``running``, ``paused``, ``completed``, ``stopped``,
``DIVERGED at step N`` or ``error: ...``. Step and lr come from the latest event.

The line is fitted to the widget's width: ``status_text(info, width)`` tries ever
shorter forms, dropping or abbreviating the least important items first (the
source's detail, the speed, clip, lr, the fix flag) and never cuts the state, the
step count or the scenario unless the width leaves nothing else to cut. Nothing is
ever clipped mid-word at the right edge: what does not fit is left out whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from bp_tui.tui.panes.view import fmt_num

STATE_STYLES = {"running": "bold green", "paused": "bold yellow", "completed": "bold cyan"}
ELLIPSIS = "…"
WIDE_FORMS = 3  # the forms of _forms() tried with " │ " first: those that keep every run item
MIN_STATE = 24  # characters of a long state (an error) kept before the step count goes


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
    duration: float | None = None  # s from the first step to the end, once the run ended


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with a trailing '…' when it was longer."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""


def truncate_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` with '…' in the middle: a path keeps its file name."""
    if len(text) <= width:
        return text
    if width < 3:
        return truncate(text, width)
    head = (width - 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head) :]


def short_state(state: str) -> str:
    """'DIVERGED at step 7' -> 'DIVERGED@7'; other states unchanged."""
    prefix = "DIVERGED at step "
    return "DIVERGED@" + state[len(prefix) :] if state.startswith(prefix) else state


def _forms(info: StatusInfo, detail_room: int) -> Iterator[tuple[str, list[str]]]:
    """(state, items) from the fullest form to the barest, least important cut first.

    The source's detail (a replay's position, a followed file) outranks lr, clip and
    the fix flag, which a recording cannot change; it is shortened in the middle to
    ``detail_room`` before it is dropped.
    """
    step = "–" if info.step is None else str(info.step)
    rate = "–" if info.rate is None else f"{info.rate:.0f}"
    limit = "" if info.speed <= 0 else f" ≤{fmt_num(info.speed)}"
    fix_full = f"fix {'on' if info.fix else 'off'}"
    fix_short = "+fix" if info.fix else ""  # "fix off" is the default: dropped when short
    lr, clip = f"lr {fmt_num(info.lr)}", f"clip {info.clip}"
    state, detail, name = info.state, info.detail, info.scenario
    steps = f"step {step}/{info.total}"
    if info.duration is not None:
        steps += f" in {info.duration:.1f} s"
    yield state, [name, fix_full, steps, f"{rate}/s{limit}", lr, clip, detail]
    yield state, [name, fix_full, steps, f"{rate}/s", lr, clip, detail]
    yield state, [name, fix_full, steps, lr, clip, detail]
    if detail:
        yield state, [name, fix_short, steps, detail]
        yield state, [name, fix_short, steps, truncate_middle(detail, detail_room)]
    yield state, [name, fix_short, steps, lr, f"clip:{info.clip}"]
    yield state, [name, fix_short, f"{step}/{info.total}", lr]
    yield short_state(state), [name, fix_short, f"{step}/{info.total}", lr]
    yield short_state(state), [name, fix_short, f"{step}/{info.total}"]
    yield short_state(state), [name, f"{step}/{info.total}"]


def _state_text(state: str, color: bool = True) -> Text:
    """The state in reverse video: green running, yellow paused, red for trouble.

    ``color=False`` (NO_COLOR): reverse and bold only, so the state stands out as the
    line's colours swapped rather than as two greys that the colours became.
    """
    style = STATE_STYLES.get(state.split("@")[0], "bold red") if color else "bold"
    return Text(f" {state} ", style=f"reverse {style}")


def _render(state: str, items: list[str], sep: str, color: bool = True) -> Text:
    text = _state_text(state, color)
    text.append(" " + sep.join(item for item in items if item))
    return text


def status_text(info: StatusInfo, width: int | None = None, color: bool = True) -> Text:
    """The status line, fitted into ``width`` columns (None: the full form).

    ``color=False`` under NO_COLOR (see ``_state_text``)."""
    if width is None:
        state, items = next(_forms(info, len(info.detail)))  # the fullest form, detail whole
        return _render(state, items, " │ ", color)
    # Room the detail may keep: what the state, scenario and step count leave.
    base = _render(short_state(info.state), [info.scenario, f"step {info.step}/{info.total}"], "")
    forms = list(_forms(info, max(12, width - base.cell_len - 6)))
    # Wide separators while only the speed and the detail are cut; then narrow ones
    # before any run item (clip, lr, fix) is shortened or dropped.
    tries = [(f, " │ ") for f in forms[:WIDE_FORMS]] + [(f, "│") for f in forms]
    for (state, items), sep in tries:
        text = _render(state, items, sep, color)
        if text.cell_len <= width:
            return text
    # Too narrow for any form (an error message or a very long name): the state is
    # cut at its end, keeping the step count (and the scenario when there is room).
    state = short_state(info.state)
    step = "–" if info.step is None else str(info.step)
    for items in (
        [info.scenario, f"step {step}/{info.total}"],
        [f"step {step}/{info.total}"],
        [f"{step}/{info.total}"],
    ):
        tail = " " + " │ ".join(items)
        room = width - len(tail) - 2
        if room >= min(len(state), MIN_STATE):
            return _state_text(truncate(state, room), color) + Text(tail)
    return _state_text(truncate(state, max(1, width - 2)), color)


class StatusLine(Widget):
    """One row; re-fits the status to its width on every render (so a resize re-fits it).

    ``info`` is reactive: assigning a different ``StatusInfo`` repaints the line.
    """

    DEFAULT_CSS = "StatusLine { height: 1; }"

    info: reactive[StatusInfo | None] = reactive(None)

    def render(self) -> RenderResult:
        if self.info is None:
            return Text("")
        return status_text(self.info, self.size.width or None, not self.app.no_color)

    @property
    def plain(self) -> str:
        """The line as shown at the widget's current width."""
        return status_text(self.info, self.size.width or None).plain if self.info else ""
