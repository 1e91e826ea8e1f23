"""``bp-tui compare`` in a real terminal (tmux): two trainer children, both ended by q
and by SIGHUP within the design's two seconds."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.e2e.conftest import TmuxPane, wait_for
from tests.e2e.test_dashboard_tmux import SHUTDOWN_DEADLINE, assert_everything_gone

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def start(p: TmuxPane, bp_tui: str) -> tuple[int, set[int]]:
    """Launch compare on a long vanishing run; (bp-tui's pid, its two trainer children)."""
    p.type_line(f"{bp_tui} compare vanishing --steps 1000000")
    pid = p.bp_tui_pid()
    wait_for("both runs on screen", lambda: sum("step " in x for x in p.lines()) >= 2, 30)
    children = wait_for(
        "two trainer children",
        lambda: len(set(p.processes()) - {pid}) >= 2 and set(p.processes()) - {pid},
        20,
    )
    return pid, children  # type: ignore[return-value]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_q_ends_both_children(pane: Any, bp_tui: str, size: tuple[int, int]) -> None:
    p = pane(*size)
    prompts = p.prompts()
    _, children = start(p, bp_tui)
    assert len(children) >= 2
    text = "\n".join(p.lines())
    assert "✗ broken" in text and "✓ fixed" in text
    p.keys("q")
    assert_everything_gone(p, timeout=SHUTDOWN_DEADLINE)
    wait_for("the shell prompt back", lambda: p.prompts() > prompts)
    assert p.flag("alternate_on") == "0"


def test_sighup_ends_both_children_within_two_seconds(pane: Any, bp_tui: str) -> None:
    p = pane(120, 40)
    pid, children = start(p, bp_tui)
    assert len(children) >= 2
    os.kill(pid, signal.SIGHUP)
    assert_everything_gone(p, timeout=SHUTDOWN_DEADLINE)
