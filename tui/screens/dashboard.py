"""The dashboard: one run of one scenario, live.

The screen owns the event source and the ``History``. Two timers drive it: ``poll``
drains the source without ever blocking (often: the trainer child waits while its
pipe is full), and ``redraw`` (``fps`` times a second) redraws the panes when the run
changed since the last frame. What the user controls (pause, pace, clipping, the view)
is reactive state; its watchers tell the source and the status line.

The source is polled by a timer on the UI thread, not read by a worker thread posting
messages: a source's ``command`` drains the same pipe its ``poll`` reads (the live
source must, so that neither side blocks on a full pipe), and two threads would race on
it. ``poll`` never blocks, so the timer costs the UI nothing while no events arrive.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Static

from bp_tui.core.config import CLIP_MODES, Scenario
from bp_tui.tui.history import History
from bp_tui.tui.messages import CompareAsked, FixToggled, PickerAsked, SpeedChanged
from bp_tui.tui.panes.boundary import BoundaryPane
from bp_tui.tui.panes.clipping import ClippingPane
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.diagnosis import DiagnosisPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import GuardedPlot
from bp_tui.tui.panes.status import StatusInfo, StatusLine
from bp_tui.tui.panes.view import RunView
from bp_tui.tui.screens.backpressure import PanePacer, output_fds, tty_full
from bp_tui.tui.screens.controls import RunControls
from bp_tui.tui.screens.keys import LIVE_KEYS, PANES

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource

# docs/performance.md says why 20 ms: the live child blocks on a full pipe until we read.
POLL_INTERVAL = 0.02
# s; the status line's step counter changes at most this often (about the default fps:
# at 20 Hz its line was a tenth of the bytes sent at full speed)
STATUS_INTERVAL = 0.15
HISTORY_CAPACITY = 2048  # buckets per series: memory is flat however long the run
# Target speeds (steps/s) that `+` / `-` walk through; 0 (unlimited) is above the top.
SPEEDS = (1, 2, 5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
# Below this size the plots, the gradient-flow bars with the table, and the lesson do
# not fit at once: the screen shows one view at a time and `v` cycles them. The
# screen's breakpoint classes (-narrow, -short) say so; app.tcss lays the views out.
COMPACT_WIDTH, COMPACT_HEIGHT = 110, 32
# From this width the lesson gets twice the room of the gradient-flow bars.
WIDE_LESSON = 160
VIEWS = ("plots", "flow", "boundary", "lesson")
PANE_VIEW = {"flow": "flow", "table": "flow", "lesson": "lesson"}  # the rest: plots
RATE_WINDOW = 2.0  # s of (time, step) samples the steps/s figure averages over


def speed_up(speed: float) -> float:
    """The next speed on the ladder; unlimited (0) stays unlimited."""
    if speed <= 0:
        return 0.0
    faster = [s for s in SPEEDS if s > speed]
    return float(faster[0]) if faster else 0.0


def slow_down(speed: float) -> float:
    """The previous speed on the ladder; from unlimited, the top of the ladder."""
    if speed <= 0:
        return float(SPEEDS[-1])
    slower = [s for s in SPEEDS if s < speed]
    return float(slower[-1]) if slower else float(SPEEDS[0])


def what_to_watch(lesson: str, bullets: int = 2) -> str:
    """The first ``bullets`` items of a lesson's "What to watch" section, as plain text."""
    match = re.search(r"^#+\s*What to watch\s*$(.*?)(?=^#|\Z)", lesson, re.M | re.S | re.I)
    body = match.group(1) if match else lesson
    items = [i.strip() for i in re.split(r"^\s*[-*]\s+", body, flags=re.M) if i.strip()]
    text = " · ".join(" ".join(i.split()) for i in items[:bullets])
    return text.replace("**", "").replace("*", "")


def run_state(
    source: EventSource | None, error: str | None, end: dict[str, Any] | None, paused: bool
) -> str:
    """The state word of a run's status line: its error, the source's, how it ended
    (DIVERGED and the step), else paused or running. The compare screen shows each of
    its two runs with it too."""
    status = getattr(source, "status", "") if source else ""
    if error:
        return error
    if isinstance(status, str) and status.startswith("error"):
        return status
    if end is not None:
        if end.get("reason") == "diverged":
            return f"DIVERGED at step {end.get('step')}"
        return str(end.get("reason", "ended"))
    return "paused" if paused else "running"


class DashboardScreen(RunControls):
    KEYS: ClassVar[list[Binding]] = LIVE_KEYS  # the help lists these (keys.py)
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)
    # Whether the source is a live trainer that answers "trace" and "gradcheck".
    live_trainer: ClassVar[bool] = True
    # Textual declares these as plain class attributes (not ClassVar) on Screen.
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [  # noqa: RUF012
        (0, "-narrow"),
        (COMPACT_WIDTH, "-wide"),
        (WIDE_LESSON, "-very-wide"),
    ]
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [  # noqa: RUF012
        (0, "-short"),
        (COMPACT_HEIGHT, "-tall"),
    ]

    AUTO_FOCUS = None  # no pane is selected until the user selects one (1-7, tab, click)
    # a zoomed pane keeps the status line and the footer (the state and `z` to go back)
    ALLOW_IN_MAXIMIZED_VIEW: ClassVar[str | None] = "StatusLine, Footer"

    # paused, speed and clip_mode: RunControls (controls.py), shared with compare mode
    view_name: reactive[str] = reactive(VIEWS[0], init=False)
    """The view a small terminal shows (v): plots, flow (bars + table) or lesson."""
    error: reactive[str | None] = reactive(None, init=False)
    """A fault of the source, shown in the status line in place of the state."""

    def __init__(
        self,
        scenario: Scenario,
        source_factory: Callable[[Scenario], EventSource],
        *,
        fps: float = 6.0,
        speed: float | None = None,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.source_factory = source_factory
        self.fps = fps
        self.set_reactive(DashboardScreen.speed, float(speed or 0.0))
        self.set_reactive(DashboardScreen.clip_mode, scenario.train.clip)
        self.history = History(capacity=HISTORY_CAPACITY)
        self.view = RunView(self.history)
        self.source: EventSource | None = None
        self.lr_target: float | None = None
        self.frames = 0  # redraws done
        self._drawn_key: object = None  # what the last frame was drawn from
        self._rate_samples: deque[tuple[float, int]] = deque()
        self._status_at = 0.0  # time of the last status line update from poll
        # fewer pane redraws when the terminal takes bytes slower than we write them
        self.pacer = PanePacer(lambda: False, status_every=STATUS_INTERVAL)
        # The latest "trace" and "gradcheck" messages of a live trainer, by type,
        # for the backprop and gradient-check views.
        self.mechanism: dict[str, dict[str, Any]] = {}
        self._started_at: float | None = None  # time of the run's first step
        self._ended_at: float | None = None
        self._lesson_waiting = True  # its Markdown is mounted after the first frame (redraw)

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Grid(id="plots"):
            yield LossPane(id="loss")
            yield GradNormsPane(id="grad-norms")
            yield BoundaryPane(id="boundary")  # the third column, both rows high
            yield DeadUnitsPane(id="dead")
            yield ClippingPane(id="clipping")
        yield Static(self._watch_text(), id="watch")
        with Horizontal(id="bottom"):
            yield GradFlowPane(id="flow")
            with VerticalScroll(id="table"):  # 11 layers overflow the 80x24 flow view
                yield LayerTable(id="layer-table")
            with VerticalScroll(id="lesson"):
                yield DiagnosisPane(id="diagnosis")
                # then the lesson's Markdown, after the first frame (_show_lesson)
        yield Footer(compact=True, show_command_palette=False)

    def _lesson_markdown(self) -> str:
        s = self.scenario
        body = s.lesson or s.summary
        # Lessons usually open with their own heading; add the title only when not.
        head = "" if body.lstrip().startswith("#") else f"# {s.title}\n\n"
        if s.fix and s.fix_summary:  # what the fix changed comes first, where it is seen
            return f"**Fix on** (`f` turns it off): {s.fix_summary}\n\n{head}{body}"
        fix = f"\n\n**Fix** (`f`): {s.fix_summary}" if s.fix_summary else ""
        return f"{head}{body}{fix}"

    def _show_lesson(self) -> None:
        """Put the scenario's lesson under the diagnosis (the Markdown made at first)."""
        from textual.widgets import Markdown

        box = next(iter(self.query("#lesson")), None)
        if box is None or not box.is_attached:
            # The screen is closing or gone: q or a signal came right after the first
            # frame, before this callback ran (mounting would raise: exit status 1).
            return
        shown = self.query("#lesson-text").results(Markdown)
        lesson = next(shown, None)
        if lesson is None:
            box.mount(Markdown(self._lesson_markdown(), id="lesson-text"))
        else:
            lesson.update(self._lesson_markdown())

    def _watch_text(self) -> str:
        """The strip under the plots on a small terminal: what to watch, or the fix."""
        s = self.scenario
        if s.fix and s.fix_summary:
            return f"Fix on: {s.fix_summary}"
        return f"Watch: {what_to_watch(s.lesson, bullets=1)}" if s.lesson else s.summary

    def on_mount(self) -> None:
        if not self.app.is_headless:
            fds = output_fds()
            self.pacer.probe = lambda: tty_full(fds)
        self._apply_view()
        self._start_source()
        self.set_interval(POLL_INTERVAL, self.poll)
        self.set_interval(1.0 / self.fps, self.redraw)
        # A source started before the UI loaded (bp-tui SCENARIO) has its run event and
        # first step ready: taken once mounted, before the first paint, they are in it.
        self.call_later(self.poll)

    @property
    def compact(self) -> bool:
        """Whether the terminal is too small to show every pane at once."""
        return self.has_class("-narrow") or self.has_class("-short")

    def _apply_view(self) -> None:
        for name in VIEWS:
            self.set_class(self.view_name == name, f"-view-{name}")

    def on_unmount(self) -> None:
        self.close_source()

    # -- reactive state ----------------------------------------------------------------
    def watch_error(self) -> None:
        self.update_status()

    def watch_view_name(self) -> None:
        self._apply_view()
        self.call_after_refresh(self.redraw, True)  # after the layout gave the panes a size

    def update_status(self) -> None:
        if self.is_mounted:
            self.query_one(StatusLine).info = self.status_info()

    # -- the source --------------------------------------------------------------------
    def _start_source(self) -> None:
        self.history.clear()
        self.view.run = None
        self.view.marks.clear()
        self.end = None
        self.error = None
        self.set_reactive(DashboardScreen.paused, False)
        self.set_reactive(DashboardScreen.clip_mode, self.scenario.train.clip)
        self.lr_target = None
        self.mechanism = {}
        self._rate_samples.clear()
        self._started_at = self._ended_at = None
        self.source = self.source_factory(self.scenario)
        self.source.start()
        if self.speed > 0:
            self.source.command("speed", self.speed)
        self.update_status()

    def close_source(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    def send(self, name: str, value: float | str | None = None) -> None:
        if self.source is not None:
            self.source.command(name, value)

    def poll(self) -> None:
        """Drain the source (never blocks) into the history; update the status line."""
        if self.source is None:
            return
        try:
            events = self.source.poll()
        except Exception as exc:  # a broken source is shown, never raised into the UI
            self.error = f"error: {exc}"
            events = []
        self.query_one(BoundaryPane).feed(events)
        first_data = self.history.last is None
        now = time.monotonic()
        for ev in events:
            kind = ev.get("type")
            if kind == "step":
                self.view.note_step(ev)
                self.history.push(ev)
                if self._started_at is None:
                    self._started_at = now
            elif kind == "run":
                self.history.set_run(ev)
                self.view.run = ev
                self.view.marks.clear()
            elif kind == "end":
                self.end = ev
                self._ended_at = now
                if ev.get("reason") == "diverged" and ev.get("step") is not None:
                    self.view.marks.append((int(ev["step"]), "diverged"))
            elif kind in ("trace", "gradcheck"):
                self.mechanism[kind] = ev
            elif kind == "reset":  # a replay seeking back, a followed file started again
                self.history.clear()
                self.view.marks.clear()
                self.end = None
                self._rate_samples.clear()
        if events:
            last = self.history.last
            if first_data and last is not None:
                # the first steps are drawn at once, not at the next fps tick (after the
                # layout: this poll may come before the panes have a size)
                self.call_after_refresh(self.redraw, True)
            if last is not None:
                self._rate_samples.append((now, int(last["step"])))
                while now - self._rate_samples[0][0] > RATE_WINDOW:
                    self._rate_samples.popleft()
        due = not events or now - self._status_at >= self.pacer.status_interval
        if due and self.pacer.has_room():
            self._status_at = now
            self.query_one(DiagnosisPane).show(self.view)
            self.update_status()

    @property
    def end(self) -> dict[str, Any] | None:
        """The run's end event, None while it runs (kept in the view: the axes use it)."""
        return self.view.end

    @end.setter
    def end(self, ev: dict[str, Any] | None) -> None:
        self.view.end = ev

    # -- drawing -----------------------------------------------------------------------
    def state(self) -> str:
        return run_state(self.source, self.error, self.end, self.paused)

    def rate(self) -> float | None:
        if len(self._rate_samples) < 2 or self.end is not None or self.paused:
            return None if len(self._rate_samples) < 2 else 0.0
        (t0, s0), (t1, s1) = self._rate_samples[0], self._rate_samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

    def duration(self) -> float | None:
        """Seconds from the run's first step to its end event (None while it runs)."""
        if self._started_at is None or self._ended_at is None:
            return None
        return self._ended_at - self._started_at

    def status_info(self) -> StatusInfo:
        return StatusInfo(
            state=self.state(),
            scenario=self.scenario.name,
            fix=self.scenario.fix,
            step=self.view.last("step"),
            total=self.scenario.steps,
            rate=self.rate(),
            speed=self.speed,
            lr=self.view.last("lr"),
            clip=self.clip_mode,
            detail=str(getattr(self.source, "detail", "")),
            duration=self.duration(),
        )

    def redraw(self, force: bool = False) -> None:
        """Redraw every visible pane from the history when the run changed."""
        key = (self.view.state_key(), len(self.view.marks))
        if key == self._drawn_key and not force:
            return
        if not (force or self.app.screen is self or self.app.screen.is_modal):
            return  # a full screen (the backprop or gradcheck view) hides us: draw later
        turn = self.pacer.turn(force)
        if turn is None:
            return  # the terminal is behind: the status line (poll) alone shows the step
        self.frames += 1
        compact = self.compact
        with self.app.batch_update():
            # Hidden panes are not drawn (their size is 0); `v` forces a redraw.
            if not compact or self.view_name == "plots" or self.maximized is not None:
                state = self.view.state_key()
                for pane in self.query(GuardedPlot):
                    # A plot is only built again when its data or its size changed
                    # (a theme change redraws it by itself: see GuardedPlot.render).
                    if (state, pane.size) != pane.shown_key and turn.allows(pane.id or ""):
                        pane.show(self.view)
                        pane.shown_key = (state, pane.size)
            flow = not compact or self.view_name == "flow" or self.maximized is not None
            if flow and turn.allows("flow"):
                self.query_one(GradFlowPane).show(self.view)
                self.query_one(LayerTable).show(self.view)
            self.query_one(DiagnosisPane).show(self.view)
            boundary = not compact or self.view_name == "boundary" or self.maximized is not None
            if boundary and turn.allows("boundary"):
                self.query_one(BoundaryPane).show(force=force)
            self.update_status()
        self._drawn_key = None if turn.refused else key  # a pane left waiting: draw again
        if self._lesson_waiting and (self.history.last is not None or not force):
            self._lesson_waiting = False
            # The lesson's Markdown mounts a widget per block (about 40, more than the
            # rest of the screen) and imports markdown-it: it waits for the first frame
            # with a step (or the timer's first, while no step came). Scheduled from
            # on_mount it ran before that frame was written: Textual's start-up batch
            # drops the screen's first paint, and the callbacks after it ran anyway.
            self.call_after_refresh(self._show_lesson)

    def refresh_now(self) -> None:
        """Poll and redraw at once (tests and the screenshot use this, not the timers)."""
        self.poll()
        self.redraw(force=True)

    def on_resize(self) -> None:
        self.refresh_bindings()  # `v` is in the footer only while the panes do not all fit
        self.call_after_refresh(self.redraw, True)  # the panes have their new size then

    # -- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `v` only means something when the panes do not all fit (hidden otherwise).
        if action == "cycle_view":
            return self.compact
        return True

    def action_toggle_pause(self) -> None:
        if self.end is None:
            self.paused = not self.paused

    def action_single_step(self) -> None:
        if self.paused:
            self.send("step")
        else:
            self.notify("Pause first (space), then n steps once.", timeout=2)

    def action_restart(self) -> None:
        self.close_source()
        self._start_source()
        self.redraw(force=True)

    def action_toggle_fix(self) -> None:
        if not self.scenario.has_fix and not self.scenario.fix:
            self.notify(f"{self.scenario.name} has no fix", severity="warning", timeout=2)
            return
        self.post_message(FixToggled(self.scenario, not self.scenario.fix))

    def action_compare(self) -> None:
        if not self.scenario.has_fix:
            self.notify(f"{self.scenario.name} has no fix to compare with", timeout=2)
            return
        self.paused = True  # three trainers on a small machine: this one waits
        self.post_message(CompareAsked(self.scenario))

    def replace_scenario(self, scenario: Scenario, speed: float) -> None:
        """Run ``scenario`` here instead (the fix toggled) at ``speed``, with its lesson."""
        self.scenario = scenario
        self.set_reactive(DashboardScreen.speed, speed)  # sent to the new source at start
        self._show_lesson()
        self.query_one("#watch", Static).update(self._watch_text())
        if scenario.fix and scenario.fix_summary:
            self.notify(f"Fix on: {scenario.fix_summary}", title="f", timeout=6)
        else:
            self.notify("Fix off: the original scenario again.", title="f", timeout=3)
        self.action_restart()

    def _set_speed(self, speed: float) -> None:
        self.speed = speed
        self.post_message(SpeedChanged(speed))

    def action_faster(self) -> None:
        self._set_speed(speed_up(self.speed))

    def action_slower(self) -> None:
        self._set_speed(slow_down(self.speed))

    def _current_lr(self) -> float:
        if self.lr_target is not None:
            return self.lr_target
        last = self.view.last("lr")
        return float(last) if last is not None else self.scenario.train.lr

    def _set_lr(self, lr: float) -> None:
        from bp_tui.tui.sources.live import clamp_lr

        lr = clamp_lr(lr)  # held [ or ] stops at a bound instead of reaching 0 or inf
        self.lr_target = lr
        self.send("lr", lr)
        self.notify(f"lr → {lr:.3g}", timeout=1.5)

    def action_lr_half(self) -> None:
        self._set_lr(self._current_lr() / 2.0)

    def action_lr_double(self) -> None:
        self._set_lr(self._current_lr() * 2.0)

    def action_cycle_clip(self) -> None:
        self.clip_mode = CLIP_MODES[(CLIP_MODES.index(self.clip_mode) + 1) % len(CLIP_MODES)]

    def action_cycle_view(self) -> None:
        """Small terminals: plots -> gradient flow + table -> lesson -> plots."""
        self.view_name = VIEWS[(VIEWS.index(self.view_name) + 1) % len(VIEWS)]

    def action_select_pane(self, index: int) -> None:
        """Focus pane ``index`` (of ``PANES``), switching a small terminal's view to it."""
        name = PANES[index]
        if self.compact:
            self.view_name = PANE_VIEW.get(name, "plots")
        if self.maximized is not None:
            self.maximize(self.query_one(f"#{name}"), container=False)
        self.query_one(f"#{name}").focus()

    def action_zoom(self) -> None:
        """The selected pane (the loss plot if none) on the whole screen, or back."""
        if self.maximized is not None:
            self.minimize()
        else:
            pane = self.focused if self.focused is not None else self.query_one(LossPane)
            self.maximize(pane, container=False)
        self.call_after_refresh(self.redraw, True)

    @on(GuardedPlot.TitleClicked)
    def zoom_clicked(self, event: GuardedPlot.TitleClicked) -> None:
        event.pane.focus()
        self.action_zoom()

    def watch_maximized(self, maximized: Widget | None) -> None:
        self.call_after_refresh(self.redraw, True)

    def action_toggle_log(self) -> None:
        self.view.log_y = not self.view.log_y
        self.redraw(force=True)

    def action_toggle_signal(self) -> None:
        """The gradient panes: ‖dW‖ <-> the error signal ‖δ‖ = ‖dL/dz‖."""
        self.view.signal = "error_signal" if self.view.signal == "grad_norm" else "grad_norm"
        self.redraw(force=True)

    # The full-screen views are imported when their key is pressed: the first frame
    # does without them.
    def action_backprop(self) -> None:
        from bp_tui.tui.screens.backprop import BackpropScreen

        self.app.push_screen(BackpropScreen(self))

    def action_gradcheck(self) -> None:
        from bp_tui.tui.screens.gradcheck import GradcheckScreen

        self.app.push_screen(GradcheckScreen(self))

    def action_picker(self) -> None:
        self.close_source()
        self.post_message(PickerAsked())
