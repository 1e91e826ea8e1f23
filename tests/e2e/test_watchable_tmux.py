"""The installed ``bp-tui`` in tmux, as a new user sees it: a run lasts long enough to
watch, the chosen pace holds, and every size from 80x24 to 220x60 shows the status
line, every pane title and the footer's ``q quit`` and ``? help`` whole."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from bp_tui.scenarios import list_builtin
from bp_tui.tui.screens.keys import LIVE_KEYS
from tests.e2e.conftest import STATUS_RE, TmuxPane, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SIZES = [(80, 24), (100, 30), (120, 40), (160, 50), (220, 60)]
FOOTER_WORDS = {b.description for b in LIVE_KEYS if b.show} | {"speed"}


def launch(p: TmuxPane, bp_tui: str, args: str) -> None:
    # Under pytest the pane's shell exports LINES and COLUMNS, which would pin the
    # app's size (shutil.get_terminal_size reads them first): a resize must reach it.
    p.type_line(f"env -u LINES -u COLUMNS {bp_tui} {args}")
    p.bp_tui_pid()
    wait_for("a first training step on screen", lambda: (p.step() or 0) >= 1, timeout=30)


def limit(p: TmuxPane) -> str | None:
    status = p.status()
    found = re.search(r"≤(\S+)", status[3]) if status else None
    return found.group(1) if found else None


def test_default_pace_lasts_and_the_slower_pace_holds_for_another_scenario(
    pane: Any, bp_tui: str, tmp_path: Any
) -> None:
    p = pane(120, 40, XDG_CONFIG_HOME=str(tmp_path))
    launch(p, bp_tui, "healthy")
    time.sleep(3.0)
    state, first, total, _ = p.status()
    assert state == "running" and first is not None and first < total  # still running
    time.sleep(1.0)
    second = p.step()
    assert second is not None and second > first  # and advancing
    assert limit(p) == "30"  # healthy's own pace
    p.keys("-")
    wait_for("the slower pace", lambda: limit(p) == "20")
    p.keys("s")
    wait_for("the picker", lambda: "pick a scenario" in "\n".join(p.lines()))
    p.keys("Down", "Enter")
    wait_for("another scenario running", lambda: "healthy" not in (p.status() or ("",) * 4)[3])
    wait_for("its first step", lambda: (p.step() or 0) >= 1, timeout=30)
    assert limit(p) == "20"
    a, t0 = p.step(), time.monotonic()
    time.sleep(2.0)
    b, t1 = p.step(), time.monotonic()
    assert a is not None and b is not None
    assert 0 < (b - a) / (t1 - t0) <= 25  # 20 steps/s, with the capture's slack


def footer_ok(line: str, width: int) -> str | None:
    """Why the footer line is wrong, or None: q and ? whole, nothing cut at its end."""
    text = line.rstrip()
    if "? help" not in text or "q quit" not in text:
        return f"q quit / ? help missing: {text!r}"
    if len(text) > width or text.split()[-1] not in FOOTER_WORDS:
        return f"footer cut or stray characters at its end: {text!r}"
    return None


def titles_missing(screen: str, compact: bool) -> list[str]:
    wanted = {
        "loss": r"\bloss\b",
        "gradient norms": r"‖dW‖ \(log\)|‖dW‖ per layer|gradient norm per layer|‖dW‖ = 0",
        "dead or saturated": r"dead|saturated",
        "clipping": r"‖g‖",
    }
    if not compact:
        wanted |= {"gradient flow": r"‖dW‖ now|‖dW‖ at the last", "layer table": r"upd/W"}
    return [name for name, pattern in wanted.items() if not re.search(pattern, screen)]


@pytest.mark.parametrize("scenario", [info.name for info in list_builtin()])
def test_every_size_shows_status_titles_and_footer_whole(
    pane: Any, bp_tui: str, tmp_path: Any, scenario: str
) -> None:
    p = pane(80, 24, XDG_CONFIG_HOME=str(tmp_path))
    p.run("set-option", "-g", "window-size", "manual")
    launch(p, bp_tui, scenario)
    for width, height in SIZES:
        p.run("resize-window", "-t", "e2e", "-x", str(width), "-y", str(height))
        # the app redraws at the new size within a frame or two; on a loaded machine
        # that can take a while, so the checks are retried until they hold
        deadline, found = time.monotonic() + 10.0, ["not checked"]
        while found and time.monotonic() < deadline:
            time.sleep(0.3)
            found = problems(p.lines(), width, height)

        assert not found, f"{scenario} at {width}x{height}: {found}\n" + "\n".join(p.lines())


def problems(lines: list[str], width: int, height: int) -> list[str]:
    """What is wrong with one capture of the dashboard at ``width`` x ``height``."""
    if len(lines) != height or not lines:
        return [f"{len(lines)} lines, not {height}"]
    found = []
    if not STATUS_RE.match(lines[0]) or lines[0].rstrip().endswith("…"):
        found.append(f"status line {lines[0]!r}")
    footer = footer_ok(lines[-1], width)
    if footer:
        found.append(footer)
    missing = titles_missing("\n".join(lines), width < 110 or height < 32)
    if missing:
        found.append(f"no {missing}")
    return found
