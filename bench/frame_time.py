"""Dashboard frame time, in process: one full frame with every pane updated, 120x40.

The app runs under ``App.run_test(size=(120, 40))`` on a scripted source that holds a
real run's events (``Trainer`` on the ``healthy`` scenario, diagnostics on). After
``HISTORY_STEPS`` steps are in the history, each timed frame

1. hands the dashboard ``FRAME_STEPS`` new step events (about one frame's worth at full
   speed and the default fps), so every pane has new data;
2. calls ``DashboardScreen.refresh_now()`` (poll + redraw of every pane);
3. renders the whole screen: Textual's compositor update of the dirty widgets, then a
   *full* update (every line of the screen) turned into the bytes a terminal would get.

Figure ``frame/ms``: median of the timed frames. Target: at most 40 ms.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from typing import Any

from bench.config import BenchConfig
from bench.report import Row, unavailable
from bench.timing import median

SCENARIO = "healthy"
HISTORY_STEPS = 20_000  # steps in the history before timing (the plots are full)
FRAME_STEPS = 800  # new steps per frame: ~5000 steps/s at 6 fps
TARGET_MS = 40.0


class ScriptedSource:
    """An ``EventSource`` that returns whatever was queued since the last poll."""

    status = "running"

    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []

    def start(self) -> None:
        pass

    def poll(self) -> list[dict[str, Any]]:
        out, self.queued = self.queued, []
        return out

    def command(self, name: str, value: float | str | None = None) -> None:
        pass

    def close(self) -> None:
        self.status = "ended"


def real_events(steps: int, tiny: bool) -> tuple[Any, list[dict[str, Any]]]:
    """``(scenario, [run event, step events...])`` from a real training run."""
    from bp_tui import scenarios
    from bp_tui.core.trainer import Trainer

    sc = scenarios.load(SCENARIO).with_(steps=10**7)
    tr = Trainer(sc)
    events = [tr.run_event()]
    events += [tr.step().to_dict() for _ in range(steps)]
    return sc, events


async def _time_frames(cfg: BenchConfig) -> tuple[list[float], int]:
    from bp_tui.tui.app import BpTuiApp

    history = 200 if cfg.tiny else HISTORY_STEPS
    per_frame = 20 if cfg.tiny else FRAME_STEPS
    sc, events = real_events(history + per_frame * (cfg.frames + 1), cfg.tiny)
    source = ScriptedSource()
    app = BpTuiApp(lambda _s: source, [sc], initial=sc)
    times: list[float] = []
    frame_bytes = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.dashboard
        assert screen is not None, "the dashboard did not open"
        source.queued = events[: history + 1]
        screen.refresh_now()
        await pilot.pause()
        pos = history + 1
        render = _full_render(app, screen)
        for _ in range(cfg.frames):
            source.queued = events[pos : pos + per_frame]
            pos += per_frame
            t0 = time.perf_counter()
            screen.refresh_now()
            frame_bytes = render()
            times.append(time.perf_counter() - t0)
            await pilot.pause()  # let the app's own timers and messages run between frames
    return times, frame_bytes


def _full_render(app: Any, screen: Any) -> Callable[[], int]:
    """A function that renders the whole screen as the terminal would get it; its size.

    Uses Textual 8.2's compositor (the version pinned in pyproject.toml): widgets marked
    dirty by the redraw are rendered again, then every line of the screen is composed
    into the escape sequences a terminal receives.
    """
    compositor = screen._compositor

    def render() -> int:
        compositor.update_widgets(screen._dirty_widgets)
        screen._dirty_widgets.clear()
        update = compositor.render_update(full=True, screen_stack=app._background_screens)
        return len(update.render_segments(app.console).encode()) if update is not None else 0

    return render


def run(cfg: BenchConfig) -> list[Row]:
    figure = "frame: all panes updated + full screen render, 120x40"
    try:
        importlib.import_module("bp_tui.tui.app")
    except ImportError as exc:
        return [unavailable("frame/ms", figure, "ms", "<=", TARGET_MS, f"app not available: {exc}")]
    times, frame_bytes = asyncio.run(_time_frames(cfg))
    ms = [t * 1000 for t in times]
    return [
        Row(
            "frame/ms",
            figure,
            "ms",
            "<=",
            TARGET_MS,
            value=median(ms),
            samples=ms,
            absolute=f"max {max(ms):.1f} ms over {len(ms)} frames; full frame {frame_bytes} bytes",
            note=f"{SCENARIO} history of {HISTORY_STEPS} steps, {FRAME_STEPS} new steps a frame",
        )
    ]
