"""Lower the pane redraw rate when the terminal's output backs up, instead of queueing frames.

Why: Textual hands each frame to a writer thread through a queue of up to 30 writes
(``textual/drivers/_writer_thread.py``). When the terminal takes bytes slower than the
dashboard writes them (a slow SSH link), whole frames wait there and in the tty: the
screen shows the run seconds late, and ``q`` waits until every queued frame is written
(measured at 20 KB/s: 9 s behind, 23 s to quit; docs/performance.md).

What the program can learn without Textual's private parts is whether the tty takes
more bytes now: ``poll(POLLOUT)`` on the output fd, a read-only question that changes
nothing. (TIOCOUTQ would give the bytes not yet sent, but a pty answers 0 whatever it
holds.) So the signal is "full", and the policy keeps the tty from filling:

- While the output never fills, every frame redraws every pane, as before.
- Once it is found full, nothing is written until it has room again, and from then on
  the panes are redrawn one per frame, each once per round, at least ``MIN_INTERVAL``
  s apart (a frame then carries one pane's bytes, not the whole screen's). A pane the
  output filled behind weighs more: the next time, it waits twice as long after the
  pane before it, so the tty has drained before it goes. After a calm spell (no pane
  filled it, all weights back to 1) frames are whole again.
- The status line (the run's step) keeps its own, cheaper pace: it is written whenever
  the tty has room, at most every ``status_interval`` s, so the step on the screen stays
  close to the trainer's while the plots wait. It can still wait behind one pane's
  redraw: a new decision boundary early in a run changes most of its cells, up to
  ~20 KB at 256 colours, a second on a 20 KB/s link.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_INTERVAL = 0.25  # s between pane redraws once throttled (the shortest)
MAX_WEIGHT = 16.0  # a pane waits at most MAX_WEIGHT * MIN_INTERVAL (4 s) before its draw
GROW, SHRINK = 2.0, 0.9  # a pane's weight after a draw the output filled behind, or not
CALM_DRAWS = 12  # draws in a row without filling (all weights 1) before whole frames
THROTTLED_STATUS = 0.1  # s: the shortest time between status line updates while throttled


def output_fds() -> list[int]:
    """The terminal fds the app writes to (Textual's Linux driver writes to stderr;
    stdout is asked too: both are the same tty in a terminal session)."""
    fds = []
    for stream in (sys.__stderr__, sys.__stdout__):
        try:
            fd = stream.fileno() if stream is not None else -1
        except (OSError, ValueError):  # closed, or not a real file
            continue
        if fd >= 0 and os.isatty(fd) and fd not in fds:
            fds.append(fd)
    return fds


def tty_full(fds: list[int]) -> bool:
    """Whether any of ``fds`` would block a write now (the tty holds all it can)."""
    if not fds or os.name != "posix":
        return False
    try:
        _, writable, _ = select.select([], fds, [], 0)
    except (OSError, ValueError):  # an fd closed under us: nothing to pace
        return False
    return len(writable) < len(fds)


@dataclass
class Turn:
    """One frame's say on which panes it redraws (``allows`` is asked once per pane)."""

    pacer: PanePacer | None  # None: a whole frame, every pane may be drawn
    granted: str | None = None
    refused: bool = False  # a pane that wanted drawing waits for a later frame
    waiting: bool = False  # a pane of this round was not due yet
    asked: set[str] = field(default_factory=set)  # the panes that wanted drawing

    def allows(self, pane: str) -> bool:
        if self.pacer is None:
            return True
        self.asked.add(pane)
        if self.granted is None and pane not in self.pacer.round:
            if self.pacer.due(pane):
                self.granted = pane
                self.pacer.drawn(pane)
                return True
            self.waiting = True
        self.refused = True
        return False


@dataclass
class PanePacer:
    """Decides, frame by frame, which panes a dashboard redraws (module docstring).

    ``probe`` says whether the output is backed up now; ``clock`` is monotonic seconds.
    While throttled, a pane is drawn once per round, one pane per frame, and only
    ``MIN_INTERVAL * weight`` s after the pane drawn before it: a pane the output filled
    behind (a new decision boundary, up to ~20 KB at 256 colours) weighs more, so the tty has
    drained the light panes' bytes before it goes and the status line waits only for it.
    """

    probe: Callable[[], bool]
    status_every: float  # s between status line updates while the link keeps up
    clock: Callable[[], float] = time.monotonic
    throttled: bool = False
    weights: dict[str, float] = field(default_factory=dict)
    round: set[str] = field(default_factory=set)  # panes drawn in the current round
    calm: int = 0  # throttled draws in a row that the output did not fill behind
    _full: bool = False  # the probe's last answer
    _filled: bool = False  # the output filled since the last pane was drawn
    _last_pane: str | None = None
    _drawn_at: float = float("-inf")
    _last: Turn | None = None

    @property
    def status_interval(self) -> float:
        return max(THROTTLED_STATUS, self.status_every) if self.throttled else self.status_every

    def has_room(self) -> bool:
        """Ask the probe: False while the output is full (then write nothing)."""
        full = self.probe()
        if full and not self._full and not self.throttled:
            self.throttled, self.calm = True, 0
            self.round.clear()
        self._filled = self._filled or full
        self._full = full
        return not full

    def due(self, pane: str) -> bool:
        wait = MIN_INTERVAL * self.weights.get(pane, 1.0)
        return self.clock() - self._drawn_at >= wait

    def drawn(self, pane: str) -> None:
        """``pane`` is drawn now: judge the pane drawn before it by whether the output
        filled since, and start timing this one."""
        last = self._last_pane
        if last is not None:
            w = self.weights.get(last, 1.0)
            w = min(MAX_WEIGHT, w * GROW) if self._filled else max(1.0, w * SHRINK)
            self.weights[last] = w
        self.calm = 0 if self._filled else self.calm + 1
        self._filled = False
        self._last_pane, self._drawn_at = pane, self.clock()
        self.round.add(pane)

    def turn(self, force: bool = False) -> Turn | None:
        """This frame's turn, or None: draw no pane now (the output is full). ``force``
        (a resize, a new view): every pane, now."""
        if force:
            return Turn(None)
        if not self.has_room():
            return None
        last = self._last
        if last is not None and not last.waiting and last.asked <= self.round:
            self.round.clear()  # every pane that wanted drawing had its turn: again
        settled = max(self.weights.values(), default=1.0) <= 1.0
        if self.throttled and self.calm >= CALM_DRAWS and settled:
            self.throttled, self._last_pane, self._last = False, None, None
        if not self.throttled:
            return Turn(None)
        self._last = Turn(self)
        return self._last
