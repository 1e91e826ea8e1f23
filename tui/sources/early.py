"""A source factory whose first source is already running when the dashboard asks.

``bp-tui SCENARIO`` spends about half a second importing the UI (textual, rich,
plotext) before the dashboard mounts, and the trainer child spends about as long
starting its own Python and NumPy before its first step. Started one after the other,
the first step reached the screen after both; ``EarlySource`` lets the command start
the child before it imports the UI, so that the two load side by side.

The early source is paused as soon as it starts and resumed when the dashboard takes
it: the child loads and builds its network meanwhile, but its first step is taken
when the run is on screen, as before. Had it trained on, the dashboard would get a
backlog at once, and the status line's "in N s" (first step to end, timed by the
dashboard) would miss the time before it (a short run at full speed: "in 0.0 s").

Imports nothing heavy: it runs before the UI is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bp_tui.core.config import Scenario
    from bp_tui.tui.sources.base import EventSource


class EarlySource:
    """``factory``, except that its first call for ``scenario`` returns ``source``,
    started (and paused) now, resumed when handed out.

    ``source`` must be what ``factory(scenario)`` would make, at the speed the
    dashboard will ask for (it starts training before the dashboard can say). Every
    later call (``r`` restarts, ``f`` toggles the fix) gets a new source from
    ``factory``. ``close()`` ends the early source if nobody took it (the app failed
    to start); a source handed out belongs to the dashboard.
    """

    def __init__(
        self,
        source: EventSource,
        scenario: Scenario,
        factory: Callable[[Scenario], EventSource],
    ) -> None:
        self.scenario = scenario
        self.factory = factory
        self._waiting: EventSource | None = source
        source.start()
        source.command("pause")  # the child reads it before its first step

    def __call__(self, scenario: Scenario) -> EventSource:
        source, self._waiting = self._waiting, None
        if source is not None and scenario is self.scenario:
            source.command("resume")
            return source
        if source is not None:  # another scenario came first: this one is not wanted
            source.close()
        return self.factory(scenario)

    def close(self) -> None:
        """End the early source if it was never handed out; idempotent."""
        source, self._waiting = self._waiting, None
        if source is not None:
            source.close()
