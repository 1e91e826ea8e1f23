"""ReplaySource: plays a recorded event stream back at a chosen speed, with seeking.

The recording is indexed once, at ``start()`` (or before, by the caller), with
``index_stream``: every step line up to the first fault found there. Only the byte
offset, step number and line number of each step line are kept (three int64 arrays, 24
bytes per step: a 10^6-step recording costs 24 MB however wide its steps are); the step
events are read back from the file as playback reaches them (``StepReader``), and each
line is checked then: a fault found there ends the replay at that line, as one found
at the start does. Seeking forward reads the steps up to the target; seeking backwards
emits a ``{"type": "reset"}`` event, the run event again and the steps up to the
target, read from the start of the file again, and the app rebuilds its History from
them (a History is a lossy, down-sampled store: it cannot be "rewound").

A far seek skims: of the stretch before the last ``SKIM_TAIL`` steps up to the target
it reads one step in ``SKIM_EVERY`` (one short read each), then every step, so seeking
in a 10^6-step recording is about a thousand short reads instead of reading all of it;
the plots of the skimmed stretch show those steps only. The lines skimmed over are then
checked in the background, a poll's worth at a time: a fault among them ends the replay
there (the dashboard starts again and shows the steps up to it). A long catch-up is
spread over several polls (at most ``max_batch`` steps and ``max_bytes`` of the file
each) so that the UI never freezes and memory stays bounded by one poll's worth of
events.

Commands, beyond the live ones (``pause``, ``resume``, ``step``, ``speed``):
``seek`` (value: a step number; the last recorded step <= it is shown), ``seek_rel``
(value: signed number of recorded steps from the current position), ``seek_frac``
(value: signed fraction of the recording, 0.1 = 10 %), ``home`` and ``end``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from bp_tui.core.stream import StreamError
from bp_tui.tui.sources.base import RESET_EVENT
from bp_tui.tui.sources.replay_index import StepReader, StreamIndex, index_stream

DEFAULT_SPEED = 100.0  # training steps/s: a 1500-step scenario replays in 15 s
SKIM_EVERY = 1000  # a far seek reads one step in this many...
SKIM_TAIL = 1000  # ...up to at least this many steps before its target, then every step
SKIM_BATCH = 250  # skimmed steps per poll (each is one short read)


class ReplaySource:
    """An ``EventSource`` over a recorded stream (``docs/internals.md``).

    ``position`` steps of ``total`` have been shown since the last reset. ``status``:
    ``"running"`` while playing, ``"paused"``, ``"ended"`` at the end of a sound
    recording, ``"error: FILE: line N: ..."`` at the end of a damaged one (every valid
    step before the fault has been shown by then). ``fault`` is that error from the start
    (or, should the file change under the replay, the error that stopped it).

    ``index``: the file's ``StreamIndex`` when the caller made it already (``bp-tui
    replay`` does, to refuse a file with nothing to show).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float = DEFAULT_SPEED,
        index: StreamIndex | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_batch: int = 20_000,
        max_bytes: int = 1 << 18,
    ) -> None:
        self.path = str(path)
        # training steps (the recorded step numbers) per second; 0 = as fast as the UI
        # takes them. A run logged every 10th step shows speed/10 events per second.
        self.speed = float(speed)
        self.status = "paused"
        self._index = index
        self._reader: StepReader | None = None
        self._clock = clock
        self._max_batch = max_batch
        self._max_bytes = max_bytes
        self._read_error: StreamError | None = None  # found while reading (or a change)
        self._total = 0
        self._playing = False
        self._position = 0  # steps emitted since the last reset
        self._target: int | None = None  # a seek's catch-up still to emit
        self._skim: deque[int] = deque()  # positions a far seek still reads one by one
        self._resume = 0  # ...and where it reads every step again
        self._singles = 0  # single steps asked for while paused
        self._out: list[dict[str, Any]] = []  # events queued for the next poll
        self._end_sent = False
        self._now_step = 0.0  # the training step playback has reached (virtual clock)
        self._last_poll = 0.0
        self._closed = False

    # -- what the app may show -------------------------------------------------------
    @property
    def total(self) -> int:
        return self._total

    @property
    def position(self) -> int:
        return self._position

    @property
    def fault(self) -> StreamError | None:
        if self._read_error is not None:
            return self._read_error
        return self._index.error if self._index is not None else None

    @property
    def detail(self) -> str:
        """One line for the status bar: how far into the recording, and its fault if any
        (step, speed and state are on the status line already)."""
        text = f"replay {self._position}/{self.total} recorded steps"
        fault = self.fault
        return text if fault is None else f"{text} · {fault}"

    # -- EventSource -----------------------------------------------------------------
    def start(self) -> None:
        if self._index is None:
            self._index = index_stream(self.path)
        self._reader = StepReader(self._index, max_bytes=self._max_bytes)
        self._total = len(self._index)
        if self._index.run is not None:
            self._out.append(self._index.run)
        self._playing = True
        self._last_poll = self._clock()
        self._update_status()

    def poll(self) -> list[dict[str, Any]]:
        if self._closed or self._index is None or self._reader is None:
            return []
        now = self._clock()
        elapsed, self._last_poll = now - self._last_poll, now
        out, self._out = self._out, []
        out += self._skim_some() if self._skim else self._play(elapsed)
        self._check_skimmed()
        if self._reader.error is not self._read_error:
            self._stop_at_fault()
        if self._position == self.total and self._target is None:
            if not self._end_sent and self._index.end is not None and self._read_error is None:
                out.append(self._index.end)
            self._end_sent = True
            self._playing = False
        self._update_status()
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        if self._index is None:
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
            self._seek(self._due(float(value)))
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
        if self._reader is not None:
            self._reader.close()

    # -- internals -------------------------------------------------------------------
    def _due(self, step: float) -> int:
        """How many recorded steps have a step number <= ``step``."""
        assert self._index is not None
        steps = self._index.steps[: self.total]
        return int(np.searchsorted(steps, step, side="right"))

    def _aim(self) -> int:
        """The position a relative seek counts from: a pending seek's target, if any."""
        return self._target if self._target is not None else self._position

    def _seek(self, target: int) -> None:
        target = max(0, min(int(target), self.total))
        if target < self._position:
            # History cannot be rewound: start it again and replay up to the target.
            run = self._index.run if self._index is not None else None
            self._out = [RESET_EVENT, *([run] if run is not None else [])]
            self._position = 0
        self._end_sent = self._end_sent and target == self.total
        self._target = target if target != self._position else None
        self._plan_skim(target)
        self._singles = 0
        self._sync_now_step()

    def _play(self, elapsed: float) -> list[dict[str, Any]]:
        """The steps due now: a seek's catch-up, playback's, or a single step."""
        assert self._reader is not None
        if self._target is not None:
            n = self._target - self._position
        elif self._playing and self.speed > 0:
            # Time moves a virtual step counter; every recorded step it passed is due,
            # so a run logged every 10th step still plays at `speed` training steps/s.
            self._now_step += elapsed * self.speed
            n = self._due(self._now_step) - self._position
        elif self._playing:
            n = self._max_batch
        else:
            n, self._singles = min(self._singles, 1), max(self._singles - 1, 0)
        n = min(n, self._max_batch, self.total - self._position)
        got = self._reader.read(self._position, self._reader.fit(self._position, n))
        self._position += len(got)
        if self._target is not None and self._position >= self._target:
            self._target = None
        if got and (self._target is not None or not self._playing or self.speed <= 0):
            self._sync_now_step()
        return got

    def _plan_skim(self, target: int) -> None:
        """For a seek far ahead of the position: the steps to read one each (one in
        ``SKIM_EVERY``, on multiples of it), up to ``_resume``, where every step is read
        again (``SKIM_TAIL`` before the target at least)."""
        resume = (target - SKIM_TAIL) // SKIM_EVERY * SKIM_EVERY
        if resume - self._position < 2 * SKIM_EVERY:
            self._skim = deque()  # near enough: every step is read
            return
        first = -(-self._position // SKIM_EVERY) * SKIM_EVERY  # the next multiple
        self._skim, self._resume = deque(range(first, resume, SKIM_EVERY)), resume

    def _skim_some(self) -> list[dict[str, Any]]:
        """The next skimmed steps; after the last, reading goes on from ``_resume``."""
        assert self._reader is not None
        out: list[dict[str, Any]] = []
        for _ in range(min(SKIM_BATCH, len(self._skim))):
            position = self._skim.popleft()
            got = self._reader.read(position, 1)
            if not got:  # a faulty line: poll ends the replay there
                return out
            out += got
            self._position = position + 1  # the steps before it are shown, or skimmed
        if not self._skim:
            self._position = self._resume
        return out

    def _check_skimmed(self) -> None:
        """Read (and drop) one poll's worth of the lines a far seek skimmed over, once the
        seek has arrived, so that a fault among them is found as if playback had reached
        it."""
        assert self._reader is not None
        checked = self._reader.checked
        behind = min(self._position, self._reader.limit) - checked
        if behind > 0 and self._target is None:  # a seek's steps come first
            self._reader.read(checked, self._reader.fit(checked, behind))

    def _stop_at_fault(self) -> None:
        """The reader found a faulty line (at position ``limit``) or that the file changed
        (``limit`` 0): the replay ends at the fault, as at one found when the file was
        opened; steps shown past it (a skim went over it) are shown again up to it."""
        assert self._reader is not None
        self._read_error = self._reader.error
        self._skim = deque()
        at = self._reader.limit
        if at == 0:  # the file changed (or cannot be read): what is shown stays
            self._total, self._target = self._position, None
            return
        self._total = at
        if self._position > at:
            self._seek(at)
        elif self._target is not None:
            self._target = min(self._target, at)
            self._target = None if self._target == self._position else self._target

    def _sync_now_step(self) -> None:
        """Playback goes on from the step shown last (or the one a seek aims at)."""
        shown = self._aim()
        steps = self._index.steps if self._index is not None else ()
        self._now_step = float(steps[shown - 1]) if shown else 0.0

    def _update_status(self) -> None:
        at_end = self._position == self.total and self._target is None
        if at_end and self.fault is not None:
            self.status = f"error: {self.fault}"
        elif at_end:
            self.status = "ended"
        else:
            self.status = "running" if self._playing else "paused"
