"""What the user controls of a training run (pause, pace, clipping), as reactive state.

The dashboard and the compare screen share these: each change goes to the run's source
(both runs' sources in compare mode) and to the status line, by the watchers below, so
no key handler sends a command or refreshes the status line itself.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.screen import Screen


class RunControls(Screen[None]):
    """A screen showing a run the user controls; it says how to ``send`` a command to
    the run's source and how to ``update_status``."""

    paused: reactive[bool] = reactive(False, init=False)
    """Whether the user paused the run (space)."""
    speed: reactive[float] = reactive(0.0, init=False)
    """Target training steps per second, 0 = as fast as possible (+ / -)."""
    clip_mode: reactive[str] = reactive("none", init=False)
    """Gradient clipping asked of the trainer: none | norm | value (c)."""

    def send(self, name: str, value: float | str | None = None) -> None:
        """Send the command ``name`` (with ``value``) to the run's source."""
        raise NotImplementedError

    def update_status(self) -> None:
        """Show the current state in the status line."""
        raise NotImplementedError

    def watch_paused(self, paused: bool) -> None:
        self.send("pause" if paused else "resume")
        self.update_status()

    def watch_speed(self, speed: float) -> None:
        self.send("speed", speed)
        self.update_status()

    def watch_clip_mode(self, mode: str) -> None:
        self.send("clip", mode)
        self.update_status()
