"""ReplaySource: plays a recorded event stream back at a chosen speed, with seeking.

The recording is read once, at ``start()``, with ``core.stream.read_stream``: every valid
event up to the first fault. The step events are then HELD IN MEMORY (a list of dicts, a
few hundred bytes to a few kB per step), so that seeking needs no file access: seeking
forward emits the steps up to the target; seeking backwards emits a ``{"type": "reset"}``
event, the run event again and every step up to the target, and the app rebuilds its
History from them (a History is a lossy, down-sampled store: it cannot be "rewound").
A long catch-up is spread over several polls (``max_batch`` steps each) so that the UI
never freezes.

Commands, beyond the live ones (``pause``, ``resume``, ``step``, ``speed``):
``seek`` (value: a step number; the last recorded step <= it is shown), ``seek_rel``
(value: signed number of recorded steps from the current position), ``seek_frac``
(value: signed fraction of the recording, 0.1 = 10 %), ``home`` and ``end``.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable
from typing import Any

from core.stream import StreamContents, StreamError, read_stream

DEFAULT_SPEED = 100.0  # training steps/s: a 1500-step scenario replays in 15 s
RESET_EVENT: dict[str, Any] = {"type": "reset"}


class ReplaySource:
    """An ``EventSource`` over a recorded stream (``docs/internals.md``).

    ``position`` steps of ``total`` have been shown since the last reset. ``status``:
    ``"running"`` while playing, ``"paused"``, ``"ended"`` at the end of a sound
    recording, ``"error: FILE: line N: ..."`` at the end of a damaged one (every valid
    step before the fault has been shown by then). ``fault`` is that error from the start.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float = DEFAULT_SPEED,
        contents: StreamContents | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_batch: int = 20_000,
    ) -> None:
        self.path = str(path)
        # training steps (the recorded step numbers) per second; 0 = as fast as the UI
        # takes them. A run logged every 10th step shows speed/10 events per second.
        self.speed = float(speed)
        self.status = "paused"
        self._contents = contents
        self._clock = clock
        self._max_batch = max_batch
        self._steps: list[dict[str, Any]] = []
        self._step_numbers: list[int] = []
        self._run: dict[str, Any] | None = None
        self._playing = False
        self._position = 0  # steps emitted since the last reset
        self._target: int | None = None  # a seek's catch-up still to emit
        self._singles = 0  # single steps asked for while paused
        self._out: list[dict[str, Any]] = []  # events queued for the next poll
        self._end_sent = False
        self._now_step = 0.0  # the training step playback has reached (virtual clock)
        self._last_poll = 0.0
        self._closed = False

    # -- what the app may show -------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self._steps)

    @property
    def position(self) -> int:
        return self._position

    @property
    def fault(self) -> StreamError | None:
        return self._contents.error if self._contents is not None else None

    @property
    def detail(self) -> str:
        """One line for the status bar: how far into the recording, and its fault if any
        (step, speed and state are on the status line already)."""
        text = f"replay {self._position}/{self.total} recorded steps"
        fault = self.fault
        return text if fault is None else f"{text} · {fault}"

    # -- EventSource -----------------------------------------------------------------
    def start(self) -> None:
        if self._contents is None:
            self._contents = read_stream(self.path)
        self._steps = self._contents.events
        self._step_numbers = [int(e["step"]) for e in self._steps]
        self._run = self._contents.run
        if self._run is not None:
            self._out.append(self._run)
        self._playing = True
        self._last_poll = self._clock()
        self._update_status()

    def poll(self) -> list[dict[str, Any]]:
        if self._closed or self._contents is None:
            return []
        now = self._clock()
        elapsed, self._last_poll = now - self._last_poll, now
        out, self._out = self._out, []
        if self._target is not None:
            n = min(self._target - self._position, self._max_batch)
            if self._position + n >= self._target:
                self._target = None
        elif self._playing and self.speed > 0:
            # Time moves a virtual step counter; every recorded step it passed is due,
            # so a run logged every 10th step still plays at `speed` training steps/s.
            self._now_step += elapsed * self.speed
            due = bisect.bisect_right(self._step_numbers, self._now_step, lo=self._position)
            n = min(due - self._position, self._max_batch)
        elif self._playing:
            n = self._max_batch
        else:
            n, self._singles = min(self._singles, 1), max(self._singles - 1, 0)
        n = min(n, self.total - self._position)
        out.extend(self._steps[self._position : self._position + n])
        self._position += n
        if n and (self._target is not None or not self._playing or self.speed <= 0):
            self._sync_now_step()
        if self._position == self.total and self._target is None:
            if not self._end_sent and self._contents.end is not None:
                out.append(self._contents.end)
            self._end_sent = True
            self._playing = False
        self._update_status()
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        if self._contents is None:
            return
        if name == "pause":
            self._playing = False
        elif name == "resume":
            self._playing = self._position < self.total or self._target is not None
        elif name == "step":
            self._playing = False
            self._singles += 1
        elif name == "speed" and value is not None:
            self.speed = max(float(value), 0.0)
        elif name == "seek" and value is not None:
            self._seek(bisect.bisect_right(self._step_numbers, float(value)))
        elif name == "seek_rel" and value is not None:
            self._seek(self._aim() + round(float(value)))
        elif name == "seek_frac" and value is not None:
            self._seek(self._aim() + round(float(value) * self.total))
        elif name == "home":
            self._seek(0)
        elif name == "end":
            self._seek(self.total)
        self._update_status()

    def close(self) -> None:
        self._closed = True
        self._out = []

    # -- internals -------------------------------------------------------------------
    def _aim(self) -> int:
        """The position a relative seek counts from: a pending seek's target, if any."""
        return self._target if self._target is not None else self._position

    def _seek(self, target: int) -> None:
        target = max(0, min(int(target), self.total))
        if target < self._position:
            # History cannot be rewound: start it again and replay up to the target.
            self._out = [RESET_EVENT, *([self._run] if self._run is not None else [])]
            self._position = 0
        self._end_sent = self._end_sent and target == self.total
        self._target = target if target != self._position else None
        self._singles = 0
        self._sync_now_step()

    def _sync_now_step(self) -> None:
        """Playback goes on from the step shown last (or the one a seek aims at)."""
        shown = self._aim()
        self._now_step = float(self._step_numbers[shown - 1]) if shown else 0.0

    def _update_status(self) -> None:
        at_end = self._position == self.total and self._target is None
        if at_end and self.fault is not None:
            self.status = f"error: {self.fault}"
        elif at_end:
            self.status = "ended"
        else:
            self.status = "running" if self._playing else "paused"
