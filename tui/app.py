"""The Textual app: a scenario picker, a dashboard per run and a help screen.

``BpTuiApp(source_factory, scenarios, initial=None, fps=6, speed=None, loader=None)``

- ``source_factory(scenario) -> EventSource`` makes the source of one run; the CLI
  passes the live (child process) source, tests pass a scripted fake.
- ``scenarios``: the ``Scenario`` objects the picker lists (and the command palette).
- ``initial``: a ``Scenario`` to open the dashboard on at once (picker underneath).
- ``speed``: steps/s of every run (0: full speed); None: each scenario's own pace until
  the user picks one with ``+``/``-``, which then holds for every later run.
- ``loader(ref, *, fix, seed, steps) -> Scenario`` reloads a scenario for `f` (fix on
  or off); ``ref`` is ``scenario.source or scenario.name``. Default ``scenarios.load``.
- ``seed`` / ``steps``: command-line overrides kept when the fix is toggled.
- ``theme``: a Textual theme name; ``settings``: where the chosen theme is remembered.
- ``screenshot_dir``: the folder the screenshot key saves into.

Screens tell the app what happened through messages (``tui/messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from bp_tui.core.config import Scenario
from bp_tui.tui.messages import (
    CompareAsked,
    FixToggled,
    PickerAsked,
    ScenarioChosen,
    SpeedChanged,
)
from bp_tui.tui.screens.dashboard import DashboardScreen
from bp_tui.tui.screens.picker import PickerScreen
from bp_tui.tui.settings import Settings
from bp_tui.tui.sources.base import run_speed

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource

Loader = Callable[..., Scenario]


def scenario_ref(scenario: Scenario) -> str:
    """What ``scenarios.load`` takes to load this scenario again: its file, else its name."""
    return scenario.source or scenario.name


class ScenarioCommands(Provider):
    """Command palette entries: 'Start scenario: <title>' for every picker scenario."""

    def _entries(self) -> list[tuple[str, Scenario]]:
        app = self.app
        scenarios = app.scenarios if isinstance(app, BpTuiApp) else []
        return [(f"Start scenario: {s.title} ({s.name})", s) for s in scenarios]

    def _start(self, scenario: Scenario) -> None:
        self.app.post_message(ScenarioChosen(scenario))

    async def discover(self) -> Hits:
        for label, scenario in self._entries():
            yield DiscoveryHit(label, lambda s=scenario: self._start(s), help=scenario.summary)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, scenario in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(label),
                    lambda s=scenario: self._start(s),
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
        Binding("ctrl+c", "interrupt", "quit", show=False, priority=True),
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
        theme: str | None = None,
        settings: Settings | None = None,
        screenshot_dir: str = ".",
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
        self.settings = settings
        self.screenshot_dir = screenshot_dir
        chosen = theme or (settings.theme if settings else None)
        if chosen in self.available_themes:
            self.theme = chosen

    def get_default_screen(self) -> Screen:
        if self.initial is not None:
            # Under the dashboard, never shown: the picker is made when `s` asks for it
            # (_picker_asked). Made here, its list, footer and their styles took about
            # 60 ms before the first frame.
            return Screen()
        return PickerScreen(self.scenarios)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.initial is not None:
            self.start_scenario(self.initial)

    def _remember_theme(self, theme: object) -> None:
        if self.settings is not None and self.settings.theme != self.theme:
            self.settings.theme = self.theme
            self.settings.save()

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
            self.dashboard_class(
                scenario,
                self.source_factory,
                fps=self.fps,
                speed=run_speed(self.speed, scenario),
            )
        )

    def reload_scenario(self, scenario: Scenario, *, fix: bool) -> Scenario:
        """``scenario`` loaded again with its ``[fix]`` merged in (or not)."""
        if self.loader is not None:
            return self.loader(scenario_ref(scenario), fix=fix, seed=self.seed, steps=self.steps)
        from bp_tui.scenarios import load

        return load(scenario_ref(scenario), fix=fix, seed=self.seed, steps=self.steps)

    @on(ScenarioChosen)
    def _scenario_chosen(self, message: ScenarioChosen) -> None:
        self.start_scenario(message.scenario)

    @on(PickerAsked)
    def _picker_asked(self, message: PickerAsked) -> None:
        """The picker in place of the dashboard: the one under it, else a new one."""
        if isinstance(self.screen_stack[-2], PickerScreen):
            self.pop_screen()
        else:
            self.switch_screen(PickerScreen(self.scenarios))

    @on(SpeedChanged)
    def _speed_changed(self, message: SpeedChanged) -> None:
        self.speed = message.speed

    @on(FixToggled)
    def _fix_toggled(self, message: FixToggled) -> None:
        try:
            scenario = self.reload_scenario(message.scenario, fix=message.fix)
        except Exception as exc:  # e.g. the .toml file was edited into an invalid one
            self.notify(str(exc), severity="error", timeout=5)
            return
        if self.dashboard is not None:
            # the user's pace holds; else the fixed scenario's own (a fixed run may be long)
            self.dashboard.replace_scenario(scenario, run_speed(self.speed, scenario))

    @on(CompareAsked)
    def _compare_asked(self, message: CompareAsked) -> None:
        """Compare mode over the dashboard: the scenario and its fix, each in its own
        source from the same factory (a child process each, live)."""
        # imported here, as the other screens a key opens: not on the first frame's path
        from bp_tui.tui.screens.compare import CompareScreen, Side

        try:
            broken = self.reload_scenario(message.scenario, fix=False)
            fixed = self.reload_scenario(message.scenario, fix=True)
        except Exception as exc:  # e.g. the .toml file was edited into an invalid one
            self.notify(str(exc), severity="error", timeout=5)
            return
        sides = [
            Side("broken", broken, self.source_factory, "✗"),
            Side("fixed", fixed, self.source_factory, "✓"),
        ]
        speed = max(run_speed(self.speed, broken), run_speed(self.speed, fixed))
        self.push_screen(CompareScreen(sides, fps=self.fps, speed=speed or None))

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

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen in ``screenshot_dir`` and say where (the `w` key and
        the palette's screenshot command; Textual's default folder, ~/Downloads, may not
        exist)."""
        try:
            saved = self.save_screenshot(filename, path or self.screenshot_dir)
        except OSError as exc:
            self.notify(f"screenshot not saved: {exc}", severity="error", timeout=5)
            return
        self.notify(f"saved {saved}", title="screenshot", timeout=5)

    def action_help(self) -> None:
        # imported here: the help's Markdown (markdown-it) and compare mode are not
        # needed for the first frame
        from bp_tui.tui.screens.compare import CompareScreen
        from bp_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            # compare mode (m) has keys of its own; the picker's are the dashboard's
            if isinstance(self.screen, CompareScreen):
                self.push_screen(HelpScreen(self.screen.KEYS, compare=True))
            else:
                self.push_screen(HelpScreen(self.dashboard_class.KEYS))

    async def action_quit(self) -> None:
        # End the child process before the terminal is restored.
        self.close_sources()
        self.exit(0)

    async def action_interrupt(self) -> None:
        """Ctrl+C: quit, with the shell's status for an interrupted program (130), as a
        SIGINT gives (tui/signals.py)."""
        self.close_sources()
        self.exit(return_code=130)
