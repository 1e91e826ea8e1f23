"""Fixtures of the Pilot tests: scenarios built in code and an app on the fake source.

The tests never start a child process: ``make_app`` injects ``FakeSource`` through
the app's ``source_factory`` and a loader that builds the fixed scenario in code, so
the tests do not depend on the built-in scenario files' tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bp_tui.core.config import ModelConfig, Scenario, TrainConfig
from bp_tui.tui.app import BpTuiApp
from tests.ui.fake_source import FakeSource


def make_scenario(name: str = "vanishing", *, fix: bool = False, **changes: Any) -> Scenario:
    """A scenario like the built-ins; the fix switches sigmoid to relu, as 'vanishing' does."""
    return Scenario(
        name=name,
        title=f"{name.capitalize()} gradients",
        summary=f"The {name} pathology, scripted for tests.",
        lesson=f"Watch the **{name}** lines.",
        steps=5000,  # more than any test polls, even when the app's timers race it
        model=ModelConfig(hidden=(8, 16, 24), activation="relu" if fix else "sigmoid"),
        train=TrainConfig(lr=0.1, clip="none", clip_threshold=1.0),
        fix=fix,
        fix_summary="Use ReLU and He init.",
        **changes,
    )


def fake_loader(
    ref: str, *, fix: bool = False, seed: int | None = None, steps: int | None = None
) -> Scenario:
    s = make_scenario(ref, fix=fix)
    return s.with_(seed=seed if seed is not None else s.seed, steps=steps or s.steps)


class Sources:
    """Records every FakeSource the app creates, newest last."""

    def __init__(self, **source_kwargs: Any) -> None:
        self.kwargs = source_kwargs
        self.made: list[FakeSource] = []

    def __call__(self, scenario: Scenario) -> FakeSource:
        src = FakeSource(scenario, **self.kwargs)
        self.made.append(src)
        return src

    @property
    def last(self) -> FakeSource:
        return self.made[-1]


@pytest.fixture
def make_app() -> Callable[..., tuple[BpTuiApp, Sources]]:
    def make(
        *,
        initial: str | None = "vanishing",
        names: tuple[str, ...] = ("healthy", "vanishing"),
        speed: float | None = None,
        **source_kwargs: Any,
    ) -> tuple[BpTuiApp, Sources]:
        sources = Sources(**source_kwargs)
        app = BpTuiApp(
            sources,
            [make_scenario(n) for n in names],
            initial=make_scenario(initial) if initial else None,
            fps=6,
            speed=speed,
            loader=fake_loader,
        )
        return app, sources

    return make


async def pump(pilot: Any, times: int = 1) -> Any:
    """Poll the source and redraw ``times`` times, without waiting on the app's timers."""
    dash = pilot.app.dashboard
    for _ in range(times):
        dash.refresh_now()
        await pilot.pause()
    return dash
