"""The Textual app: a scenario picker, a dashboard per run and a help screen.

``BpTuiApp(source_factory, scenarios, initial=None, fps=6, speed=None, loader=None)``

- ``source_factory(scenario) -> EventSource`` makes the source of one run; the CLI
  passes the live (child process) source, tests pass a scripted fake.
- ``scenarios``: the ``Scenario`` objects the picker lists (and the command palette).
- ``initial``: a ``Scenario`` to open the dashboard on at once (picker underneath).
- ``loader(ref, *, fix, seed, steps) -> Scenario`` reloads a scenario for `f` (fix on
  or off); ``ref`` is ``scenario.source or scenario.name``. Default ``scenarios.load``.
- ``seed`` / ``steps``: command-line overrides kept when the fix is toggled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from bp_tui.core.config import Scenario
from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.help import HelpScreen
from bp_tui.tui.screens.picker import PickerScreen

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource

Loader = Callable[..., Scenario]


def scenario_ref(scenario: Scenario) -> str:
    """What ``scenarios.load`` takes to load this scenario again: its file, else its name."""
    return scenario.source or scenario.name


class ScenarioCommands(Provider):
    """Command palette entries: 'Start scenario: <title>' for every picker scenario."""

    def _entries(self) -> list[tuple[str, Scenario]]:
        app: BpTuiApp = self.app  # type: ignore[assignment]
        return [(f"Start scenario: {s.title} ({s.name})", s) for s in app.scenarios]

    async def discover(self) -> Hits:
        app: BpTuiApp = self.app  # type: ignore[assignment]
        for label, scenario in self._entries():
            yield DiscoveryHit(label, partial(app.start_scenario, scenario), help=scenario.summary)

    async def search(self, query: str) -> Hits:
        app: BpTuiApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for label, scenario in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(label),
                    partial(app.start_scenario, scenario),
                    help=scenario.summary,
                )


class BpTuiApp(App[int]):
    # absolute: Textual resolves a relative CSS_PATH beside the module of each subclass
    # (the replay and watch apps live in tui/commands/)
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "bp-tui"
    COMMANDS = App.COMMANDS | {ScenarioCommands}
    # The screen a run is shown on; replay and watch set a subclass with their own keys.
    dashboard_class: ClassVar[type[DashboardScreen]] = DashboardScreen
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        # Textual 8 binds ctrl+c to "help_quit" (a notification only); users expect it to quit.
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        Binding("question_mark", "help", "help", key_display="?"),
    ]

    def __init__(
        self,
        source_factory: Callable[[Scenario], EventSource],
        scenarios: Sequence[Scenario],
        initial: Scenario | None = None,
        fps: float = 6.0,
        speed: float | None = None,
        *,
        loader: Loader | None = None,
        seed: int | None = None,
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.source_factory = source_factory
        self.scenarios = list(scenarios)
        self.initial = initial
        self.fps = fps
        self.speed = speed
        self.loader = loader
        self.seed = seed
        self.steps = steps

    def get_default_screen(self) -> PickerScreen:
        return PickerScreen(self.scenarios)

    def on_mount(self) -> None:
        if self.initial is not None:
            self.start_scenario(self.initial)

    @property
    def dashboard(self) -> DashboardScreen | None:
        """The running dashboard, if any (there is at most one)."""
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    def start_scenario(self, scenario: Scenario) -> None:
        """Open the dashboard on ``scenario``, ending any run already shown."""
        current = self.dashboard
        if current is not None:
            current.close_source()
            while self.screen is not current:
                self.pop_screen()
            self.pop_screen()
        self.push_screen(
            self.dashboard_class(scenario, self.source_factory, fps=self.fps, speed=self.speed)
        )

    def reload_scenario(self, scenario: Scenario, *, fix: bool) -> Scenario:
        """``scenario`` loaded again with its ``[fix]`` merged in (or not)."""
        if self.loader is not None:
            return self.loader(scenario_ref(scenario), fix=fix, seed=self.seed, steps=self.steps)
        from bp_tui.scenarios import load

        return load(scenario_ref(scenario), fix=fix, seed=self.seed, steps=self.steps)

    def close_sources(self) -> None:
        """End the running source (and its child process); safe to call twice."""
        if self.dashboard is not None:
            self.dashboard.close_source()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's system commands, plus the dashboard's two views of the mechanism."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand(
                "Backprop view",
                "Step through one training step: forward, loss, backward (b)",
                screen.action_backprop,
            )
            yield SystemCommand(
                "Gradient check",
                "Backprop vs finite differences per layer, and what each costs (g)",
                screen.action_gradcheck,
            )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        # End the child process before the terminal is restored.
        self.close_sources()
        self.exit(0)
