"""The dashboard's pacing on a slow terminal (tui/screens/backpressure.py): which panes a
frame redraws, decided from a fake "is the output full" probe and a fake clock."""

from __future__ import annotations

import os
import pty
import time

from bp_tui.tui.screens.backpressure import (
    CALM_DRAWS,
    MIN_INTERVAL,
    THROTTLED_STATUS,
    PanePacer,
    Turn,
    tty_full,
)

PANES = ["loss", "grad-norms", "flow", "boundary"]


class Link:
    """A fake terminal: ``full`` is what the probe answers; ``now`` the clock."""

    def __init__(self) -> None:
        self.full = False
        self.now = 100.0

    def pacer(self) -> PanePacer:
        return PanePacer(lambda: self.full, status_every=0.05, clock=lambda: self.now)


def drawn_by(turn: Turn | None, wanted: list[str] = PANES) -> list[str]:
    """The panes a frame draws, asking in the dashboard's order."""
    return [] if turn is None else [p for p in wanted if turn.allows(p)]


def throttle(link: Link, pacer: PanePacer) -> None:
    link.full = True
    assert pacer.turn() is None  # nothing written while full
    link.full = False


def test_a_link_that_keeps_up_draws_every_pane_every_frame() -> None:
    link = Link()
    pacer = link.pacer()
    for _ in range(5):
        turn = pacer.turn()
        assert drawn_by(turn) == PANES and turn is not None and not turn.refused
        link.now += 0.01
    assert not pacer.throttled and pacer.status_interval == 0.05


def test_a_full_output_gets_nothing_then_one_pane_per_frame_in_turn() -> None:
    link = Link()
    pacer = link.pacer()
    throttle(link, pacer)
    assert pacer.throttled and pacer.status_interval == THROTTLED_STATUS
    shown = []
    for _ in range(len(PANES)):
        turn = pacer.turn()
        got = drawn_by(turn)
        assert len(got) == 1 and turn is not None
        assert turn.refused  # the others wait (or had their turn in this round)
        shown += got
        # too soon for the next pane: a frame that draws nothing
        link.now += MIN_INTERVAL / 2
        assert drawn_by(pacer.turn()) == []
        link.now += MIN_INTERVAL / 2
    assert shown == PANES
    # the round is over: it starts again from the first pane
    assert drawn_by(pacer.turn()) == ["loss"]


def test_a_pane_the_output_fills_behind_waits_longer_next_time() -> None:
    link = Link()
    pacer = link.pacer()
    throttle(link, pacer)
    for pane in PANES:
        assert drawn_by(pacer.turn(), [pane]) == [pane]
        if pane == "boundary":
            link.full = True  # its bytes filled the tty
            assert pacer.turn() is None and not pacer.has_room()
            link.full = False
        link.now += MIN_INTERVAL
    assert drawn_by(pacer.turn(), ["loss"]) == ["loss"]  # judged when the next is drawn
    assert pacer.weights["boundary"] == 2.0 and pacer.weights["loss"] == 1.0
    for pane in ["grad-norms", "flow"]:
        link.now += MIN_INTERVAL
        assert drawn_by(pacer.turn(), [pane]) == [pane]
    link.now += MIN_INTERVAL
    turn = pacer.turn()
    assert drawn_by(turn, ["boundary"]) == [] and turn is not None and turn.waiting
    link.now += MIN_INTERVAL  # twice the interval after the pane before it
    assert drawn_by(pacer.turn(), ["boundary"]) == ["boundary"]


def test_after_a_calm_spell_frames_are_whole_again() -> None:
    link = Link()
    pacer = link.pacer()
    throttle(link, pacer)
    for i in range(CALM_DRAWS + 1):
        assert pacer.throttled, i
        assert len(drawn_by(pacer.turn())) == 1
        link.now += MIN_INTERVAL
    turn = pacer.turn()
    assert not pacer.throttled and drawn_by(turn) == PANES


def test_a_forced_frame_draws_every_pane_even_when_full() -> None:
    link = Link()
    pacer = link.pacer()
    link.full = True
    assert drawn_by(pacer.turn(force=True)) == PANES


def test_tty_full_asks_the_tty_whether_a_write_would_block() -> None:
    master, slave = pty.openpty()
    try:
        assert not tty_full([slave])
        os.set_blocking(slave, False)  # the test's own pty: never the test's stdout
        # fill it (the kernel moves bytes on to the reader's side in the background, so
        # a write that would block may be followed by room: write until it stays full)
        for _ in range(2000):
            try:
                os.write(slave, b"x" * 1024)
            except BlockingIOError:
                if tty_full([slave]):
                    break
                time.sleep(0.005)
        assert tty_full([slave])
        while os.read(master, 1 << 16):  # the reader catches up
            if not tty_full([slave]):
                break
        assert not tty_full([slave])
    finally:
        os.close(master)
        os.close(slave)
    assert not tty_full([]) and not tty_full([slave])  # none, or a closed fd: no pacing
