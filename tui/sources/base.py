"""The one interface every event source of the dashboard implements.

The UI polls a source on a timer and pushes what it gets into a ``tui.history.History``;
panes never know whether the events come from a live child process, a recording or a
file another program is still writing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bp_tui.core.config import Scenario

# Emitted by a source whose run starts over (a replay seeking back, a followed file
# truncated or replaced): the dashboard forgets what it has shown and rebuilds from the
# events after it.
RESET_EVENT: dict[str, Any] = {"type": "reset"}

# The commands a source understands; sources that cannot honour one ignore it.
# "trace" and "gradcheck" ask a live trainer for a {"type": "trace"} / {"type":
# "gradcheck"} message (the backprop and gradient-check views); recordings ignore them.
COMMANDS = (
    "pause", "resume", "step", "speed", "lr", "clip", "clip_threshold", "stop",
    "trace", "gradcheck",
)  # fmt: skip


def run_speed(chosen: float | None, scenario: Scenario) -> float:
    """Steps/s of a run: the user's choice if any, else the scenario's pace (0: full speed)."""
    return chosen if chosen is not None else float(scenario.speed or 0.0)


@runtime_checkable
class EventSource(Protocol):
    """A stream of event dicts (``run``, ``step``, ``end``; see docs/internals.md).

    ``status`` is ``"running"``, ``"paused"``, ``"ended"`` or ``"error: <message>"``.
    """

    @property
    def status(self) -> str:
        """What the source is doing; read-only for the app."""
        ...

    def start(self) -> None:
        """Begin producing events (e.g. start the child process)."""
        ...

    def poll(self) -> list[dict[str, Any]]:
        """The events that arrived since the last call; never blocks."""
        ...

    def command(self, name: str, value: float | str | None = None) -> None:
        """Send one of ``COMMANDS`` (``value``: steps/s, learning rate, clip mode...)."""
        ...

    def close(self) -> None:
        """Stop producing and release everything (child processes too); idempotent."""
        ...
