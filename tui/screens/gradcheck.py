"""The gradient-check view (`g`): backprop against finite differences, and what each costs.

The check runs in the trainer's process (the ``gradcheck`` command; the result is
``core.gradcheck.gradcheck_event``), so the UI never waits on the 2n forward passes of
the differences: it shows "running" until the answer arrives. Per layer: the relative
error and the verdict, where "unresolved" (the gradient is below what finite
differences can resolve) is never shown as agreement. Then the cost: one backward pass
against two forward passes per parameter, the lesson's O(n) against O(n²).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from bp_tui.tui.panes.view import fmt_num

if TYPE_CHECKING:
    from bp_tui.tui.screens.dashboard import DashboardScreen

POLL_INTERVAL = 0.1  # s between looks for the trainer's answer
VERDICT_STYLES = {"ok": "green", "ok to rounding noise": "green", "FAIL": "bold red"}


def duration(seconds: float) -> str:
    """``0.103 ms``, ``812 ms``, ``2.16 s``: three digits in the unit that reads best."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1.0 else f"{seconds:.3g} s"


def times(ratio: float) -> str:
    """``20,900x``: a ratio this large reads best as a whole number."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def report_text(report: dict[str, Any]) -> Text:
    """The check's table and its cost, from the trainer's ``gradcheck`` message."""
    text = Text()
    text.append(
        f"Step {report['step']}: {report['examples']} examples"
        f"{' clear of the kink' if report.get('kink_margin') else ''}, central differences "
        f"h = {report['eps']:g}, loss {fmt_num(report['loss'])}\n\n"
    )
    text.append(f"  {'layer':<6} {'params':>7} {'rel. error':>11}  verdict\n", style="dim")
    for lay in report["layers"]:
        verdict = str(lay["verdict"])
        text.append(f"  {lay['name']:<6} {lay['n_params']:>7} {fmt_num(lay['rel_error']):>11}  ")
        text.append(verdict + "\n", style=VERDICT_STYLES.get(verdict, "yellow"))
    failed = [lay["name"] for lay in report["layers"] if lay["verdict"] == "FAIL"]
    unresolved = [lay["name"] for lay in report["layers"] if lay["verdict"] == "unresolved"]
    if failed:
        text.append(f"\n  FAILED: {', '.join(failed)} (backprop disagrees)\n", style="bold red")
    else:
        text.append("\n  passed: backprop agrees with finite differences\n", style="green")
    if unresolved:
        text.append(
            f"  unresolved ({', '.join(unresolved)}): the gradient is below the float64 "
            "noise of the difference quotient; finite differences cannot check it\n",
            style="yellow",
        )
    n = report["n_params"]
    text.append("\nCost\n", style="bold")
    text.append(
        f"  backprop (1 forward + 1 backward pass)  {duration(report['backprop_seconds'])}\n"
        f"  finite differences ({2 * n} forward passes)  {duration(report['fd_seconds'])}\n"
        f"  ratio {times(report['ratio'])} for n = {n} parameters: "
        "O(n) against O(n²)\n"
    )
    return text


class GradcheckScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "run_check", "check again"),
        Binding("escape", "app.pop_screen", "back"),
    ]

    def __init__(self, dashboard: DashboardScreen) -> None:
        super().__init__()
        self.dashboard = dashboard
        self.report: dict[str, Any] | None = None
        self.running = False
        self._asked_over: object = None

    def compose(self) -> ComposeResult:
        yield Static(id="gc-head")
        with VerticalScroll(id="gc-scroll"):
            yield Static(id="gc-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(POLL_INTERVAL, self.refresh_now)
        self.action_run_check()

    def action_run_check(self) -> None:
        if not self.dashboard.live_trainer:
            self.show()
            return
        self._asked_over = self.dashboard.mechanism.get("gradcheck")
        self.running = True
        self.dashboard.send("gradcheck")
        self.show()

    def refresh_now(self) -> None:
        self.dashboard.poll()
        latest = self.dashboard.mechanism.get("gradcheck")
        if self.running and latest is not None and latest is not self._asked_over:
            self.running, self.report = False, latest
            self.show()

    def show(self) -> None:
        head = Text("Gradient check", style="bold")
        if not self.dashboard.live_trainer:
            head.append(
                " · needs the live trainer: a recording has no network to check", style="yellow"
            )
        elif self.running:
            head.append(
                " · running in the trainer process (2 forward passes per parameter)…",
                style="yellow",
            )
        self.query_one("#gc-head", Static).update(head)
        body = report_text(self.report) if self.report is not None else Text()
        self.query_one("#gc-body", Static).update(body)
