"""The backprop view (`b`): one training step, forward then backward, stage by stage.

The numbers are the trainer's own for that step: the screen asks the live trainer for a
trace (the ``trace`` command; ``core.backprop_trace`` makes it in the child process)
and only lays it out. `n` reveals the next stage (forward layer by layer, the loss,
then backward from the loss to the input), `p` plays the stages at a slow pace, `t`
traces another step. Small networks (``core.backprop_trace.UNIT_LIMIT``) are shown unit
by unit for one example of the batch (`x` shows the next of the first four); wider
ones per layer.

A recording has no trainer to ask: the view then shows what the recording carries,
the per-layer error signal, mean |f'| and gradient norms of the latest step, and says
that the unit-by-unit trace needs a live run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from bp_tui.core.error_signal import layer_factors
from bp_tui.tui.panes.flow_factors import factor_label
from bp_tui.tui.panes.view import RunView, fmt_num

if TYPE_CHECKING:
    from bp_tui.tui.screens.dashboard import DashboardScreen

PLAY_INTERVAL = 1.2  # s per stage while playing: slow enough to read a layer
POLL_INTERVAL = 0.1  # s between looks for the trainer's answer
FACTOR_WIDTH = 40
MEAN_FPRIME = "mean|f'|"  # characters for "×0.24 = f' 0.24 × W 1.0"

Trace = dict[str, Any]


def _vec(values: list[float]) -> str:
    return "[" + ", ".join(fmt_num(v) for v in values) + "]"


def _shape(*dims: int) -> str:
    return "(" + ", ".join(str(d) for d in dims) + (",)" if len(dims) == 1 else ")")


def stage_titles(trace: Trace) -> list[str]:
    """One title per stage: forward L1..Ln, the loss, backward Ln..L1."""
    names = [lay["name"] for lay in trace["layers"]]
    return [
        *(f"forward {n}" for n in names),
        "loss",
        *(f"backward {n}" for n in reversed(names)),
    ]


def forward_stage(trace: Trace, k: int, ex: int = 0) -> Text:
    lay, m = trace["layers"][k], trace["batch"]
    n_in, n_out = lay["fan_in"], lay["fan_out"]
    text = Text()
    text.append(f"▶ forward {lay['name']}: {n_in} → {n_out} {lay['activation']}", style="bold")
    text.append(
        f"   Z = A_prev·Wᵀ + b {_shape(m, n_out)}, A = f(Z) {_shape(m, n_out)}\n", style="dim"
    )
    z, a = lay["z"], lay["a"]
    fp = lay["fprime_mean"]
    slope = "linear: a = z, the logits" if fp is None else f"mean|f'(z)| {fmt_num(fp)}"
    text.append(
        f"  batch:  z mean {fmt_num(z['mean'])} std {fmt_num(z['std'])} · "
        f"a mean {fmt_num(a['mean'])} std {fmt_num(a['std'])} · {slope}\n"
    )
    unit = lay.get("unit")
    if unit is None:
        return text
    z, a, fprime = unit["z"][ex], unit["a"][ex], unit["fprime"][ex]
    text.append(f"  example {ex + 1}: a_prev = {_vec(unit['a_prev'][ex])}\n")
    text.append("    unit   z            a = f(z)     f'(z)\n", style="dim")
    for j in range(n_out):
        text.append(
            f"    {j + 1:<6} {fmt_num(z[j]):<12} {fmt_num(a[j]):<12} {fmt_num(fprime[j])}\n"
        )
    return text


def loss_stage(trace: Trace, ex: int = 0) -> Text:
    out = trace["layers"][-1]
    m, n_out = trace["batch"], out["fan_out"]
    text = Text()
    text.append(f"■ loss {trace['loss_name']} on the logits {_shape(m, n_out)}", style="bold")
    text.append(f": L = {fmt_num(trace['loss'])} (mean over the batch)\n")
    text.append(
        f"  dL/dlogits {_shape(m, n_out)}, already divided by m = {m}: "
        f"‖dL/dlogits‖ = {fmt_num(out['dA_norm'])}\n"
    )
    unit = out.get("unit")
    if unit is not None:
        text.append(f"  example {ex + 1}: dL/dlogits = {_vec(unit['dA'][ex])}\n")
    return text


def backward_stage(trace: Trace, k: int, ex: int = 0) -> Text:
    layers = trace["layers"]
    lay, m = layers[k], trace["batch"]
    n_in, n_out = lay["fan_in"], lay["fan_out"]
    text = Text()
    text.append(f"◀ backward {lay['name']}: {n_in} → {n_out} {lay['activation']}\n", style="bold")
    fp = "f'(z) = 1 (linear)" if lay["fprime_mean"] is None else "f'(z)"
    text.append(
        f"  dL/da {_shape(m, n_out)} × {fp} = δ = dL/dz {_shape(m, n_out)}:  "
        f"‖dL/da‖ {fmt_num(lay['dA_norm'])} → ‖δ‖ {fmt_num(lay['delta_norm'])}\n"
    )
    if k + 1 < len(layers):
        steps = layer_factors([x["delta_norm"] for x in layers], [x["fprime_mean"] for x in layers])
        label = factor_label(*steps[k], FACTOR_WIDTH)
        text.append(f"  ‖δ_{lay['name']}‖ / ‖δ_{layers[k + 1]['name']}‖ {label}\n", style="yellow")
    text.append(
        f"  dW = δᵀ·a_prev {_shape(n_out, n_in)} ‖dW‖ {fmt_num(lay['dW_norm'])} · "
        f"db = Σδ {_shape(n_out)} ‖db‖ {fmt_num(lay['db_norm'])}\n"
    )
    below = f"to {layers[k - 1]['name']}" if k else "dL/dx, the input's (unused)"
    text.append(
        f"  dL/da_prev = δ·W {_shape(m, n_in)} ‖·‖ {fmt_num(lay['dA_prev_norm'])}, {below}\n"
    )
    unit = lay.get("unit")
    if unit is None:
        return text
    e = ex + 1
    dA, fprime, delta = unit["dA"][ex], unit["fprime"][ex], unit["delta"][ex]
    a_prev, dW_example = unit["a_prev"][ex], unit["dW_example"][ex]
    text.append(f"  example {e}:\n    unit   dL/da        × f'(z)      = δ\n", style="dim")
    for j in range(n_out):
        text.append(
            f"    {j + 1:<6} {fmt_num(dA[j]):<12} {fmt_num(fprime[j]):<12} {fmt_num(delta[j])}\n"
        )
    text.append(f"    weight   {f'δ_j × a_prev_i (example {e})':<34}  dW (batch)\n", style="dim")
    for j in range(n_out):
        for i in range(n_in):
            product = f"{fmt_num(delta[j])} × {fmt_num(a_prev[i])} = {fmt_num(dW_example[j][i])}"
            text.append(f"    w[{j + 1},{i + 1}]   {product:<34}  {fmt_num(unit['dW'][j][i])}\n")
    text.append(f"    db (batch) = {_vec(unit['db'])}\n")
    text.append(f"    dL/da_prev (example {e}) = {_vec(unit['dA_prev'][ex])}\n")
    return text


def stage_text(trace: Trace, stage: int, ex: int = 0) -> Text:
    """Stage ``stage`` (an index into ``stage_titles``) of ``trace``, for example ``ex``."""
    n = len(trace["layers"])
    if stage < n:
        return forward_stage(trace, stage, ex)
    if stage == n:
        return loss_stage(trace, ex)
    return backward_stage(trace, 2 * n - stage, ex)


def recorded_page(view: RunView) -> Text:
    """What a recording carries of the mechanism: the per-layer fields of its last step."""
    text = Text()
    step = view.last("step")
    text.append(f"Per layer at step {fmt_num(step)}, loss → input\n", style="bold")
    names = [str(lay.get("name", f"L{i + 1}")) for i, lay in enumerate(view.layers)]
    n = len(names)
    signal = [view.last("error_signal", i) for i in range(n)]
    fprime = [view.last("fprime_mean", i) for i in range(n)]
    steps = [*layer_factors(signal, fprime), (None, None, None)]
    text.append(
        f"  {'layer':<6} {'‖δ‖':>10} {MEAN_FPRIME:>10} {'‖dW‖':>10} {'‖db‖':>10}  factor\n",
        style="dim",
    )
    for i in reversed(range(n)):
        text.append(
            f"  {names[i]:<6} {fmt_num(signal[i]):>10} {fmt_num(fprime[i]):>10} "
            f"{fmt_num(view.last('grad_norm', i)):>10} "
            f"{fmt_num(view.last('bias_grad_norm', i)):>10}  "
        )
        text.append(factor_label(*steps[i], FACTOR_WIDTH) + "\n", style="yellow")
    if all(v is None for v in signal):
        text.append(
            "  This recording has no error signal (stream version 1): ‖δ‖ and f' are missing.\n",
            style="dim",
        )
    return text


class BackpropScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_stage", "next"),
        Binding("p", "toggle_play", "play"),
        Binding("t", "trace", "trace a step"),
        Binding("x", "next_example", "example"),
        Binding("escape,b", "app.pop_screen", "back"),
    ]

    def __init__(self, dashboard: DashboardScreen) -> None:
        super().__init__()
        self.dashboard = dashboard
        self.trace: Trace | None = None  # the trace shown
        self.stage = 0  # the last stage revealed
        self.example = 0  # which of the trace's examples the unit tables show
        self.playing = False
        self.waiting = False  # a trace was asked for and has not come yet
        self._asked_over: object = None  # the trace that was current when we asked
        self._replay_key: object = None  # the replay's state last shown

    def compose(self) -> ComposeResult:
        yield Static(id="bp-head")
        with VerticalScroll(id="bp-scroll"):
            yield Static(id="bp-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.dashboard.live_trainer:
            self.action_trace()
        self.set_interval(POLL_INTERVAL, self.refresh_now)
        self.set_interval(PLAY_INTERVAL, self._play_tick)
        self.show()

    # -- the trainer's answer -------------------------------------------------------
    def refresh_now(self) -> None:
        """Take in what the source sent (the dashboard keeps the latest trace)."""
        self.dashboard.poll()
        latest = self.dashboard.mechanism.get("trace")
        if self.waiting and latest is not None and latest is not self._asked_over:
            self.waiting = False
            if latest.get("error"):
                self.notify(str(latest["error"]), severity="warning", timeout=3)
            else:
                self.trace, self.stage = latest, 0
            self.show()
        elif not self.dashboard.live_trainer and self._replay_moved():
            self.show()  # a replay moved on: show its latest step

    def _replay_moved(self) -> bool:
        return self._replay_key != self.dashboard.view.state_key()

    def action_trace(self) -> None:
        if not self.dashboard.live_trainer:
            self.notify("A recording has no trainer to trace: per-layer fields only.")
            return
        if self.dashboard.end is not None:
            self.notify("The run has ended: no step left to trace (r restarts it).", timeout=3)
            self.show()
            return
        self._asked_over = self.dashboard.mechanism.get("trace")
        self.waiting = True
        self.dashboard.send("trace")
        self.show()

    # -- stepping through -----------------------------------------------------------
    def action_next_stage(self) -> None:
        if self.trace is None:
            return
        if self.stage + 1 < len(stage_titles(self.trace)):
            self.stage += 1
            self.show()
        else:
            self.playing = False
            self.action_trace()  # past the last stage: the next step

    def action_next_example(self) -> None:
        """Unit by unit: show the next of the traced examples of the batch."""
        if self.trace is not None and self.trace["examples"] > 1:
            self.example = (self.example + 1) % self.trace["examples"]
            self.show()

    def action_toggle_play(self) -> None:
        self.playing = not self.playing

    def _play_tick(self) -> None:
        if self.playing and self.trace is not None and not self.waiting:
            if self.stage + 1 < len(stage_titles(self.trace)):
                self.action_next_stage()
            else:
                self.playing = False

    # -- drawing --------------------------------------------------------------------
    def head_text(self) -> Text:
        text = Text("Backprop view", style="bold")
        trace = self.trace
        if not self.dashboard.live_trainer:
            text.append(
                " · a recording carries the per-layer fields only; the unit-by-unit "
                "trace needs the live trainer (bp-tui SCENARIO)",
                style="yellow",
            )
        elif trace is not None:
            titles = stage_titles(trace)
            text.append(
                f" · step {trace['step']} · stage {self.stage + 1}/{len(titles)}: "
                f"{titles[self.stage]}"
            )
            kind = "per layer"
            if trace["unit_level"]:  # short: the line must fit 80 columns
                kind = f"example {self.example + 1}/{trace['examples']} (x)"
            text.append(f" · batch {trace['batch']} · {kind}", style="dim")
        elif self.dashboard.end is not None:
            text.append(
                " · the run has ended: its last step, per layer (r restarts the run)",
                style="yellow",
            )
        if self.waiting:
            text.append(" · tracing the next step in the trainer…", style="yellow")
        return text

    def body_text(self) -> Text:
        if not self.dashboard.live_trainer or (self.trace is None and self.dashboard.end):
            return recorded_page(self.dashboard.view)  # what the stream says of the last step
        if self.trace is None:
            return Text("waiting for the trainer's trace of a step…", style="dim")
        ex = min(self.example, max(0, self.trace["examples"] - 1))
        return Text("\n").join(stage_text(self.trace, s, ex) for s in range(self.stage + 1))

    def show(self) -> None:
        self._replay_key = self.dashboard.view.state_key()
        self.query_one("#bp-head", Static).update(self.head_text())
        self.query_one("#bp-body", Static).update(self.body_text())
        # After the layout has taken the new text in: the newest stage, at the bottom.
        scroll = self.query_one("#bp-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_end, animate=False)
