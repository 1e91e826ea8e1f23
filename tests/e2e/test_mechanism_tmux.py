"""The installed ``bp-tui`` in a real terminal: the backprop view (`b`) and the gradient
check (`g`) get their numbers from the live trainer child and come back to the screen.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_backprop_view_steps_through_a_live_trace(pane: Any, bp_tui: str, size: Any) -> None:
    p = pane(*size)
    prompts = p.prompts()
    p.type_line(f"{bp_tui} micro --steps 1000000 --speed 20")
    p.bp_tui_pid()
    wait_for("a first training step", lambda: (p.step() or 0) >= 1, timeout=20)
    p.keys("space")
    p.keys("b")
    screen = lambda: "\n".join(p.lines())  # noqa: E731
    head = wait_for(
        "the trainer's trace",
        lambda: re.search(r"Backprop view · step (\d+) · stage 1/7: forward L1", screen()),
        timeout=20,
    )
    assert "example 1/4 (x)" in screen() and "a = f(z)" in screen()
    for _ in range(6):
        p.keys("n")
    wait_for("the last stage", lambda: "stage 7/7: backward L1" in screen(), timeout=20)
    wait_for("the last stage scrolled into view", lambda: "w[1,1]" in screen(), timeout=20)
    assert "dW (batch)" in screen()
    p.keys("Escape")
    time.sleep(0.5)  # else the terminal reads Escape then g as one key, alt+g
    wait_for("the dashboard again", lambda: "Backprop view" not in screen())
    p.keys("g")
    wait_for("the gradient check's verdicts", lambda: "Cost" in screen(), timeout=30)
    text = screen()
    assert re.search(r"L2 +12 +\S+ +ok", text), text
    assert "for n = 25 parameters: O(n) against O(n²)" in text
    step = int(head.group(1))  # type: ignore[union-attr]
    assert step >= 2
    p.keys("Escape")
    time.sleep(0.5)
    p.keys("q")
    wait_for("the shell prompt back", lambda: p.prompts() > prompts)
