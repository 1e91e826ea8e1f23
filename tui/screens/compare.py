"""Compare mode: two runs side by side (a scenario and its fix), in the same panes.

Each run has its own source (a live trainer child each, or a recording each) and its
own ``History``; the plot panes are the dashboard's own classes: each pane's
``figure(view)`` is taken once per run and the two are drawn as one (``show_pair``):
the first run (``broken``, marked ✗) in warm colours, the second (``fixed``, ✓) in
cool ones, every line labelled at its end with its run's mark, and a legend line
saying which is which. Two decision-boundary panes, one per run. Every key acts on
both runs: pause, step, restart, speed, learning rate, clip mode. As on the
dashboard, what the user controls is reactive state whose watchers tell both sources
and the status lines; the keys are ``keys.COMPARE_KEYS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Static

from bp_tui.core.config import CLIP_MODES, Scenario
from bp_tui.tui.history import History
from bp_tui.tui.panes.boundary import BoundaryPane
from bp_tui.tui.panes.clipping import ClippingPane
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import Figure, GuardedPlot, Line, fit_title
from bp_tui.tui.panes.status import StatusInfo, StatusLine
from bp_tui.tui.panes.view import RunView
from bp_tui.tui.screens.controls import RunControls
from bp_tui.tui.screens.dashboard import (
    HISTORY_CAPACITY,
    POLL_INTERVAL,
    DashboardScreen,
    run_state,
    slow_down,
    speed_up,
)
from bp_tui.tui.screens.keys import COMPARE_KEYS
from bp_tui.tui.sources.base import EventSource

# Per run: its mark (a scenario and its fix; two other runs are "A:" and "B:"), the
# colours of its lines and their name in the legend.
MARKS = ("✗", "✓")
NEUTRAL_MARKS = ("A:", "B:")
PALETTES = (("red", "yellow", "magenta", "orange"), ("cyan", "green", "blue", "white"))
COLOUR_WORDS = ("warm lines", "cool lines")


@dataclass
class Side:
    """One of the two runs: its scenario, source, history and controls."""

    label: str  # "broken" / "fixed", or the file names of two recordings
    scenario: Scenario
    factory: Callable[[Scenario], EventSource]
    mark: str = ""  # put before its lines' labels; "" gives MARKS by position
    history: History = field(default_factory=lambda: History(capacity=HISTORY_CAPACITY))
    source: EventSource | None = None
    error: str | None = None
    lr_target: float | None = None

    def __post_init__(self) -> None:
        self.view = RunView(self.history)

    @property
    def end(self) -> dict[str, Any] | None:
        """The run's end event, None while it runs (kept in the view: the axes use it)."""
        return self.view.end

    @end.setter
    def end(self, ev: dict[str, Any] | None) -> None:
        self.view.end = ev

    def state(self, paused: bool) -> str:
        return run_state(self.source, self.error, self.end, paused)


def show_pair(pane: GuardedPlot, sides: Sequence[Side]) -> None:
    """Draw ``pane``'s own figure of each run as one plot, each run's lines in its
    palette and labelled with its mark."""
    figures = [pane.figure(side.view) for side in sides]
    marks = [side.mark or MARKS[n % 2] for n, side in enumerate(sides)]
    merged: list[Line] = []
    hlines: list[tuple[float, str]] = []
    for n, fig in enumerate(figures):
        palette = PALETTES[n % 2]
        for i, line in enumerate(fig.lines):
            line.label = f"{marks[n]}{line.label}"
            line.color = palette[i % len(palette)]
            merged.append(line)
        hlines += [(value, palette[0]) for value, _ in fig.hlines]
    title = figures[0].title
    titles = [str(fig.title or "") for fig in figures]
    if len(set(titles)) > 1:  # e.g. saturation (sigmoid) beside dead units (relu)
        short = [t.split(" (")[0].split(" per ")[0] for t in titles]
        shortest = [t.split()[0] for t in short]  # "saturated", "dead"
        variants = [
            " · ".join(f"{marks[n]} {t}" for n, t in enumerate(v))
            for v in (titles, short, shortest)
        ]
        variants.append(titles[0])  # too narrow even for that: the first run's
        # plotext drops a title wider than the plot area (the axis labels take ~6)
        title = fit_title(variants, pane.size.width - 8)
    xlims = [fig.xlim for fig in figures if fig.xlim]
    merged_figure: Figure = replace(
        figures[0],
        lines=merged,
        title=title,
        xlim=(min(a for a, _ in xlims), max(b for _, b in xlims)) if xlims else None,
        log_y=any(fig.log_y for fig in figures),
        hlines=tuple(hlines),
        end_labels=True,  # the marks tell the runs apart without colour
    )
    pane.draw(merged_figure)


PLOTS = (LossPane, GradNormsPane, DeadUnitsPane, ClippingPane)


class CompareScreen(RunControls):
    KEYS: ClassVar[list[Binding]] = COMPARE_KEYS  # the help lists these (keys.py)
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)
    # The dashboard's sizes: below them one view at a time (v: plots or boundaries).
    HORIZONTAL_BREAKPOINTS = DashboardScreen.HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = DashboardScreen.VERTICAL_BREAKPOINTS
    DEFAULT_CSS = """
    #cmp-legend { height: 1; background: $panel; }
    .cmp-status { height: 1; background: $panel; }
    #cmp-main { height: 1fr; }
    #cmp-plots { grid-size: 2 2; grid-gutter: 0 1; width: 1fr; }
    #cmp-plots > * { height: 1fr; text-wrap: nowrap; text-overflow: clip; }
    #cmp-boundaries { width: 40; }
    #cmp-boundaries > BoundaryPane { height: 1fr; padding: 0 1; }
    CompareScreen.-narrow #cmp-boundaries, CompareScreen.-short #cmp-boundaries {
        display: none;
    }
    CompareScreen.-narrow.-view-boundary #cmp-plots,
    CompareScreen.-short.-view-boundary #cmp-plots { display: none; }
    CompareScreen.-narrow.-view-boundary #cmp-boundaries,
    CompareScreen.-short.-view-boundary #cmp-boundaries {
        display: block; width: 1fr; layout: horizontal;
    }
    """

    # paused, speed and clip_mode (RunControls) apply to both runs at once.
    view_name: reactive[str] = reactive("plots", init=False)
    """The view a small terminal shows (v): the plots or the two boundaries."""
    log_y: reactive[bool] = reactive(False, init=False)
    """Log scale on the loss plot (l)."""

    def __init__(self, sides: Sequence[Side], *, fps: float = 6.0, speed: float | None = None):
        super().__init__()
        self.sides = list(sides)
        for n, side in enumerate(self.sides):
            side.mark = side.mark or MARKS[n % 2]
        self.fps = fps
        self.set_reactive(CompareScreen.speed, float(speed) if speed else 0.0)
        self.set_reactive(CompareScreen.clip_mode, self.sides[0].scenario.train.clip)
        self._drawn_key: object = None  # what the last frame was drawn from

    def compose(self) -> ComposeResult:
        yield Static(self.legend(), id="cmp-legend")
        for n in range(len(self.sides)):
            yield StatusLine(id=f"cmp-status-{n}", classes="cmp-status")
        with Horizontal(id="cmp-main"):
            with Grid(id="cmp-plots"):
                for kind in PLOTS:
                    pane = kind()
                    pane.own_colours = False  # show_pair draws each run in its palette
                    yield pane
            with Vertical(id="cmp-boundaries"):
                for n, side in enumerate(self.sides):
                    yield BoundaryPane(f"{side.mark} {side.label}", id=f"cmp-boundary-{n}")
        yield Footer(compact=True)

    def legend(self) -> str:
        return "   ".join(
            f"{side.mark} {side.label}: {side.scenario.name}{' + fix' if side.scenario.fix else ''}"
            f" ({COLOUR_WORDS[n]})"
            for n, side in enumerate(self.sides)
        )

    def on_mount(self) -> None:
        for side in self.sides:
            self._start(side)
        self.set_interval(POLL_INTERVAL, self.poll)
        self.set_interval(1.0 / self.fps, self.redraw)

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw, True)  # the panes have their new size then

    @property
    def compact(self) -> bool:
        """Whether the terminal is too small to show every pane at once."""
        return self.has_class("-narrow") or self.has_class("-short")

    def on_unmount(self) -> None:
        self.close_sources()

    # -- reactive state ----------------------------------------------------------------
    def watch_view_name(self, view_name: str) -> None:
        self.set_class(view_name == "boundary", "-view-boundary")
        self.call_after_refresh(self.redraw, True)  # after the layout gave the panes a size

    def watch_log_y(self, log_y: bool) -> None:
        for side in self.sides:
            side.view.log_y = log_y
        self.redraw(force=True)

    def update_status(self) -> None:
        if self.is_mounted:
            for n in range(len(self.sides)):
                self.query_one(f"#cmp-status-{n}", StatusLine).info = self.status_info(n)

    # -- the two sources -----------------------------------------------------------------
    def _start(self, side: Side) -> None:
        side.history.clear()
        side.view.run, side.end, side.error, side.lr_target = None, None, None, None
        side.source = side.factory(side.scenario)
        side.source.start()
        if self.speed > 0:
            side.source.command("speed", self.speed)

    def close_sources(self) -> None:
        """End both runs together: a live source's ``close`` waits for its child to exit,
        and one after the other those waits added up (q took over the design's 2 s on a
        loaded machine)."""
        sources = [side.source for side in self.sides if side.source is not None]
        for side in self.sides:
            side.source = None
        if sources:
            with ThreadPoolExecutor(max_workers=len(sources)) as pool:
                list(pool.map(lambda source: source.close(), sources))

    def send(self, name: str, value: float | str | None = None) -> None:
        for side in self.sides:
            if side.source is not None:
                side.source.command(name, value)

    def poll(self) -> None:
        for n, side in enumerate(self.sides):
            if side.source is None:
                continue
            try:
                events = side.source.poll()
            except Exception as exc:  # shown in the run's status line, never raised
                side.error, events = f"error: {exc}", []
            self.query_one(f"#cmp-boundary-{n}", BoundaryPane).feed(events)
            for ev in events:
                kind = ev.get("type")
                if kind == "step":
                    side.history.push(ev)
                elif kind == "run":
                    side.history.set_run(ev)
                    side.view.run = ev
                elif kind == "end":
                    side.end = ev
                elif kind == "reset":
                    side.history.clear()
                    side.end = None
        self.update_status()

    def status_info(self, n: int) -> StatusInfo:
        side = self.sides[n]
        return StatusInfo(
            state=f"{side.mark} {side.label} {side.state(self.paused)}",
            scenario=side.scenario.name,
            fix=side.scenario.fix,
            step=side.view.last("step"),
            total=side.scenario.steps,
            rate=None,
            speed=self.speed,
            lr=side.view.last("lr"),
            clip=self.clip_mode,
            detail=str(getattr(side.source, "detail", "")),
        )

    def redraw(self, force: bool = False) -> None:
        """Redraw the visible panes when either run changed since the last frame."""
        key = tuple(side.view.state_key() for side in self.sides)
        if key == self._drawn_key and not force:
            return
        self._drawn_key = key
        with self.app.batch_update():
            if not self.compact or self.view_name == "plots":
                for kind in PLOTS:
                    show_pair(self.query_one(kind), self.sides)
            if not self.compact or self.view_name == "boundary":
                for pane in self.query(BoundaryPane):
                    pane.show(force)

    def refresh_now(self) -> None:
        """Poll and redraw at once (tests)."""
        self.poll()
        self.redraw(force=True)

    # -- keys: every one acts on both runs ---------------------------------------------------
    def action_back(self) -> None:
        if isinstance(self.app.screen_stack[-2], DashboardScreen):
            self.app.pop_screen()  # unmounting ends both runs' sources

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_single_step(self) -> None:
        if self.paused:
            self.send("step")
        else:
            self.notify("Pause first (space), then n steps both runs once.", timeout=2)

    def action_restart(self) -> None:
        self.close_sources()
        self.set_reactive(CompareScreen.paused, False)  # the new runs start running
        for n, side in enumerate(self.sides):
            self.query_one(f"#cmp-boundary-{n}", BoundaryPane).feed([{"type": "reset"}])
            self._start(side)
        self.update_status()
        self.redraw(force=True)

    def action_faster(self) -> None:
        self.speed = speed_up(self.speed)

    def action_slower(self) -> None:
        self.speed = slow_down(self.speed)

    def _scale_lr(self, factor: float) -> None:
        # Each run's own rate (a fix may train at another one) times the factor.
        for side in self.sides:
            last = side.view.last("lr")
            current = side.lr_target or (float(last) if last else side.scenario.train.lr)
            side.lr_target = current * factor
            if side.source is not None:
                side.source.command("lr", side.lr_target)
        rates = " · ".join(f"{s.mark} {s.lr_target:.3g}" for s in self.sides)
        self.notify(f"lr → {rates}", timeout=1.5)

    def action_lr_half(self) -> None:
        self._scale_lr(0.5)

    def action_lr_double(self) -> None:
        self._scale_lr(2.0)

    def action_cycle_clip(self) -> None:
        self.clip_mode = CLIP_MODES[(CLIP_MODES.index(self.clip_mode) + 1) % len(CLIP_MODES)]

    def action_toggle_log(self) -> None:
        self.log_y = not self.log_y

    def action_cycle_view(self) -> None:
        if not self.compact:
            self.notify("Every pane is shown at this size.", timeout=2)
            return
        self.view_name = "boundary" if self.view_name == "plots" else "plots"


class CompareApp(App[int]):
    """The app of ``bp-tui compare``: one ``CompareScreen``; q quits, ending both runs."""

    CSS_PATH = Path(__file__).resolve().parent.parent / "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False),
    ]

    def __init__(self, sides: Sequence[Side], *, fps: float = 6.0, speed: float | None = None):
        super().__init__()
        self.compare = CompareScreen(sides, fps=fps, speed=speed)

    def on_mount(self) -> None:
        self.push_screen(self.compare)

    def close_sources(self) -> None:
        self.compare.close_sources()

    def action_help(self) -> None:
        """`?`: the compare screen's keys (``HelpScreen``'s own `?` closes it)."""
        from bp_tui.tui.screens.help import HelpScreen  # markdown-it: only when asked for

        self.push_screen(HelpScreen(self.compare.KEYS, compare=True))

    async def action_quit(self) -> None:
        self.close_sources()  # both children end before the terminal is restored
        self.exit(0)
