"""The dashboard: one run of one scenario, live.

The screen owns the event source and the ``History``. Two timers drive it: ``poll``
(every 20 ms) drains the source without ever blocking, and ``redraw`` (``fps`` times a
second) redraws the panes only when new events arrived since the last frame.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from bp_tui.core.config import CLIP_MODES, Scenario
from bp_tui.core.history import History
from bp_tui.tui.panes.boundary import BoundaryPane
from bp_tui.tui.panes.clipping import ClippingPane
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.diagnosis import DiagnosisPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.layer_table import LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.status import StatusInfo, StatusLine
from bp_tui.tui.panes.view import RunView
from bp_tui.tui.screens.backprop import BackpropScreen
from bp_tui.tui.screens.gradcheck import GradcheckScreen

if TYPE_CHECKING:
    from bp_tui.tui.sources.base import EventSource

# s. The live child sends a batch every 50 ms, and at full speed one batch (~200 KB)
# nearly fills the pipe: its next send blocks until we read. Polling every 50 ms made
# the trainer wait for us up to 50 ms a batch: dashboard/headless steps/s 0.65-0.87;
# every 20 ms, 0.84-0.99 (120x40 pty, healthy, full speed, 4 s windows, interleaved).
POLL_INTERVAL = 0.02
STATUS_INTERVAL = 0.05  # s; the status line's step counter changes at most this often
HISTORY_CAPACITY = 2048  # buckets per series: memory is flat however long the run
# Target speeds (steps/s) that `+` / `-` walk through; 0 (unlimited) is above the top.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
# Below this size the plots, the gradient-flow bars with the table, and the lesson do
# not fit at once: the screen shows one of these views at a time and `v` cycles them.
COMPACT_WIDTH, COMPACT_HEIGHT = 110, 32
VIEWS = ("plots", "flow", "boundary", "lesson")
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


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "pause"),
        # Second, so the footer still shows it at 80 columns, where it is needed.
        Binding("v", "cycle_view", "view"),
        Binding("n", "single_step", "step"),
        Binding("r", "restart", "restart"),
        Binding("f", "toggle_fix", "fix"),
        Binding("plus,equals_sign", "faster", "faster", key_display="+"),
        Binding("minus", "slower", "slower", key_display="-"),
        Binding("left_square_bracket", "lr_half", "lr/2", key_display="["),
        Binding("right_square_bracket", "lr_double", "lr×2", key_display="]"),
        Binding("c", "cycle_clip", "clip"),
        Binding("l", "toggle_log", "log"),
        Binding("s", "picker", "picker"),
        Binding("e", "toggle_signal", "δ/dW"),
        Binding("b", "backprop", "backprop"),
        Binding("g", "gradcheck", "gradcheck"),
    ]
    # Whether the source is a live trainer that answers "trace" and "gradcheck".
    live_trainer: ClassVar[bool] = True

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
        self.speed = float(speed) if speed else 0.0
        self.history = History(capacity=HISTORY_CAPACITY)
        self.view = RunView(self.history)
        self.source: EventSource | None = None
        self.end: dict[str, Any] | None = None
        self.paused = False
        self.error: str | None = None
        self.clip_mode = scenario.train.clip
        self.lr_target: float | None = None
        self.dirty = True
        self.frames = 0  # redraws done (tests check that idle frames are skipped)
        self.view_name = VIEWS[0]  # what a small terminal shows (see _apply_size_class)
        self._rate_samples: deque[tuple[float, int]] = deque()
        self._status_at = 0.0  # time of the last status line update from poll
        # The latest "trace" and "gradcheck" messages of a live trainer, by type,
        # for the backprop and gradient-check views.
        self.mechanism: dict[str, dict[str, Any]] = {}

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Grid(id="plots"):
            yield LossPane(id="loss")
            yield GradNormsPane(id="grad-norms")
            yield BoundaryPane(id="boundary")  # the third column, both rows high
            yield DeadUnitsPane(id="dead")
            yield ClippingPane(id="clipping")
        with Horizontal(id="bottom"):
            yield GradFlowPane(id="flow")
            with VerticalScroll(id="table"):  # 11 layers overflow the 80x24 flow view
                yield LayerTable(id="layer-table")
            with VerticalScroll(id="lesson"):
                yield DiagnosisPane(id="diagnosis")
                yield Markdown(self._lesson_markdown(), id="lesson-text")
        yield Footer(compact=True)

    def _lesson_markdown(self) -> str:
        s = self.scenario
        fix = f"\n\n**Fix** (`f`): {s.fix_summary}" if s.fix_summary else ""
        body = s.lesson or s.summary
        # Lessons usually open with their own heading; add the title only when not.
        head = "" if body.lstrip().startswith("#") else f"# {s.title}\n\n"
        return f"{head}{body}{fix}"

    def on_mount(self) -> None:
        self._apply_size_class()
        self._start_source()
        self.set_interval(POLL_INTERVAL, self.poll)
        self.set_interval(1.0 / self.fps, self.redraw)

    def on_resize(self) -> None:
        self._apply_size_class()
        self.dirty = True

    @property
    def compact(self) -> bool:
        """Whether the terminal is too small to show every pane at once."""
        w, h = self.app.size
        return w < COMPACT_WIDTH or h < COMPACT_HEIGHT

    def _apply_size_class(self) -> None:
        self.set_class(self.compact, "-compact")
        for name in VIEWS:
            self.set_class(self.view_name == name, f"-view-{name}")

    def on_unmount(self) -> None:
        self.close_source()

    # -- the source --------------------------------------------------------------------
    def _start_source(self) -> None:
        self.history.clear()
        self.view.run = None
        self.end = None
        self.error = None
        self.paused = False
        self.lr_target = None
        self.clip_mode = self.scenario.train.clip
        self.mechanism = {}
        self._rate_samples.clear()
        self.source = self.source_factory(self.scenario)
        self.source.start()
        if self.speed > 0:
            self.source.command("speed", self.speed)
        self.dirty = True

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
        for ev in events:
            kind = ev.get("type")
            if kind == "step":
                self.history.push(ev)
            elif kind == "run":
                self.history.set_run(ev)
                self.view.run = ev
            elif kind == "end":
                self.end = ev
            elif kind in ("trace", "gradcheck"):
                self.mechanism[kind] = ev
            elif kind == "reset":  # a replay seeking back, a followed file started again
                self.history.clear()
                self.end = None
                self._rate_samples.clear()
        if events:
            self.dirty = True
            last = self.history.last
            if last is not None:
                now = time.monotonic()
                self._rate_samples.append((now, int(last["step"])))
                while now - self._rate_samples[0][0] > RATE_WINDOW:
                    self._rate_samples.popleft()
        now = time.monotonic()
        if not events or now - self._status_at >= STATUS_INTERVAL:
            self._status_at = now
            self.query_one(DiagnosisPane).show(self.view)
            self.query_one(StatusLine).show(self.status_info())

    # -- drawing -----------------------------------------------------------------------
    def state(self) -> str:
        status = getattr(self.source, "status", "") if self.source else ""
        if self.error:
            return self.error
        if isinstance(status, str) and status.startswith("error"):
            return status
        if self.end is not None:
            if self.end.get("reason") == "diverged":
                return f"DIVERGED at step {self.end.get('step')}"
            return str(self.end.get("reason", "ended"))
        return "paused" if self.paused else "running"

    def rate(self) -> float | None:
        if len(self._rate_samples) < 2 or self.end is not None or self.paused:
            return None if len(self._rate_samples) < 2 else 0.0
        (t0, s0), (t1, s1) = self._rate_samples[0], self._rate_samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

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
        )

    def redraw(self, force: bool = False) -> None:
        """Redraw every visible pane from the history, only if something changed."""
        if not (self.dirty or force):
            return
        if not (force or self.app.screen is self or self.app.screen.is_modal):
            return  # a full screen (the backprop or gradcheck view) hides us: draw later
        self.dirty = False
        self.frames += 1
        compact = self.has_class("-compact")
        with self.app.batch_update():
            # Hidden panes are not drawn (their size is 0); `v` forces a redraw.
            if not compact or self.view_name == "plots":
                key = self.view.state_key()
                for kind in (LossPane, GradNormsPane, DeadUnitsPane, ClippingPane):
                    pane = self.query_one(kind)
                    # A plot is only built again when its data or its size changed.
                    if (key, pane.size, self.app.theme) != pane.shown_key:
                        pane.show(self.view)
                        pane.shown_key = (key, pane.size, self.app.theme)
            if not compact or self.view_name == "flow":
                self.query_one(GradFlowPane).show(self.view)
                self.query_one(LayerTable).show(self.view)
            self.query_one(DiagnosisPane).show(self.view)
            if not compact or self.view_name == "boundary":
                self.query_one(BoundaryPane).show()
            self.query_one(StatusLine).show(self.status_info())

    def refresh_now(self) -> None:
        """Poll and redraw at once (tests and the screenshot use this, not the timers)."""
        self.poll()
        self.redraw(force=True)

    # -- actions -----------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        if self.end is not None:
            return
        self.paused = not self.paused
        self.send("pause" if self.paused else "resume")
        self.query_one(StatusLine).show(self.status_info())

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
        try:
            self.scenario = self.app.reload_scenario(self.scenario, fix=not self.scenario.fix)  # type: ignore[attr-defined]
        except Exception as exc:  # e.g. the .toml file was edited into an invalid one
            self.notify(str(exc), severity="error", timeout=5)
            return
        self.query_one("#lesson-text", Markdown).update(self._lesson_markdown())
        self.action_restart()

    def action_faster(self) -> None:
        self.speed = speed_up(self.speed)
        self.send("speed", self.speed)

    def action_slower(self) -> None:
        self.speed = slow_down(self.speed)
        self.send("speed", self.speed)

    def _current_lr(self) -> float:
        if self.lr_target is not None:
            return self.lr_target
        last = self.view.last("lr")
        return float(last) if last is not None else self.scenario.train.lr

    def _set_lr(self, lr: float) -> None:
        self.lr_target = lr
        self.send("lr", lr)
        self.notify(f"lr → {lr:.3g}", timeout=1.5)

    def action_lr_half(self) -> None:
        self._set_lr(self._current_lr() / 2.0)

    def action_lr_double(self) -> None:
        self._set_lr(self._current_lr() * 2.0)

    def action_cycle_clip(self) -> None:
        self.clip_mode = CLIP_MODES[(CLIP_MODES.index(self.clip_mode) + 1) % len(CLIP_MODES)]
        self.send("clip", self.clip_mode)
        self.query_one(StatusLine).show(self.status_info())

    def action_cycle_view(self) -> None:
        """Small terminals: plots -> gradient flow + table -> lesson -> plots."""
        if not self.compact:
            self.notify(
                f"Every pane is shown at this size; v switches views below "
                f"{COMPACT_WIDTH}x{COMPACT_HEIGHT}.",
                timeout=2,
            )
            return
        self.view_name = VIEWS[(VIEWS.index(self.view_name) + 1) % len(VIEWS)]
        self._apply_size_class()
        self.call_after_refresh(self.redraw, True)  # after the layout gave the panes a size

    def action_toggle_log(self) -> None:
        self.view.log_y = not self.view.log_y
        self.redraw(force=True)

    def action_toggle_signal(self) -> None:
        """The gradient panes: ‖dW‖ <-> the error signal ‖δ‖ = ‖dL/dz‖."""
        self.view.signal = "error_signal" if self.view.signal == "grad_norm" else "grad_norm"
        self.redraw(force=True)

    def action_backprop(self) -> None:
        self.app.push_screen(BackpropScreen(self))

    def action_gradcheck(self) -> None:
        self.app.push_screen(GradcheckScreen(self))

    def action_picker(self) -> None:
        self.close_source()
        self.app.pop_screen()
