"""The backprop view (`b`), the gradient-check view (`g`) and the ‖δ‖ toggle (`e`).

Driven with Pilot on core's real Trainer (``TrainerSource``, in this process, answering
``trace`` and ``gradcheck`` with the same core functions as the live child). Every
number the backprop view shows is checked against a plain NumPy forward and backward
pass of the same step (weights before it, its batch), and against the step event.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bp_tui.core.error_signal import layer_factors
from bp_tui.core.events import encode
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load
from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.commands.replay import replay_app
from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.flow_factors import factor_label
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.view import fmt_num
from bp_tui.tui.screens.backprop import FACTOR_WIDTH, BackpropScreen, stage_titles
from bp_tui.tui.screens.gradcheck import GradcheckScreen, duration
from bp_tui.tui.sources.replay_index import index_stream
from tests.ui.trainer_source import TrainerSource
from tests.unit.test_backprop_trace import reference
from tests.unit.test_gradcheck_cost import plant_one_percent_error

SIZES = [(80, 24), (120, 40)]


def app_on(name: str, made: list[TrainerSource]) -> BpTuiApp:
    scenario = load(name)

    def factory(s: Any) -> TrainerSource:
        made.append(TrainerSource(s))
        return made[-1]

    return BpTuiApp(factory, [scenario], initial=scenario, fps=6)


async def until(pilot: Any, done: Any, timeout: float = 60.0) -> None:
    """Let the top screen poll (its own refresh_now) until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        screen = pilot.app.screen
        (screen.refresh_now if hasattr(screen, "refresh_now") else pilot.app.dashboard.poll)()
        await pilot.pause()
        await asyncio.sleep(0.01)


def step_reference(src: TrainerSource, step: int) -> list[dict[str, np.ndarray]]:
    weights, X, Y = src.inputs[step]
    ws = list(zip(weights[0::2], weights[1::2], strict=True))
    return reference(ws, src.trainer.net.activation, X, Y)


async def open_backprop(pilot: Any, paused: bool) -> BackpropScreen:
    dash = pilot.app.dashboard
    for _ in range(3):
        dash.refresh_now()
        await pilot.pause()
    if paused:
        await pilot.press("space")
        dash.refresh_now()
    await pilot.press("b")
    view = pilot.app.screen
    assert isinstance(view, BackpropScreen)
    await until(pilot, lambda: view.trace is not None)
    return view


@pytest.mark.parametrize("paused", [True, False], ids=["paused", "running"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_micro_unit_by_unit_every_number_is_the_trainers(size: Any, paused: bool) -> None:
    made: list[TrainerSource] = []
    app = app_on("micro", made)
    async with app.run_test(size=size) as pilot:
        view = await open_backprop(pilot, paused)
        trace = view.trace
        assert trace is not None and trace["unit_level"] and trace["examples"] == 4
        step = trace["step"]
        ref = step_reference(made[-1], step)
        history = app.dashboard.history
        await until(pilot, lambda: (history.last_step or 0) >= step)
        titles = stage_titles(trace)
        for stage in range(len(titles)):
            if stage:
                await pilot.press("n")
            assert view.stage == stage
            e = stage % trace["examples"]  # each stage on another example of the batch
            while view.example != e:
                await pilot.press("x")
            shown = screen_text(app)
            assert f"step {step} · stage {stage + 1}/{len(titles)}: {titles[stage]}" in shown
            assert f"example {e + 1}/4 (x)" in shown
            body = view.body_text().plain
            # forward L1-L3 are stages 0-2, the loss 3, backward L3-L1 stages 4-6
            want = ref[stage if stage < 3 else min(2, 6 - stage)]
            if stage < 3:  # forward
                z, a = want["z"], want["a"]
                assert f"z mean {fmt_num(z.mean())} std {fmt_num(z.std())}" in body
                assert f"a_prev = [{', '.join(fmt_num(v) for v in want['a_prev'][e])}]" in body
                for j in range(z.shape[1]):
                    row = (
                        f"    {j + 1:<6} {fmt_num(z[e, j]):<12} {fmt_num(a[e, j]):<12} "
                        f"{fmt_num(want['fprime'][e, j])}"
                    )
                    assert row in body
            elif stage == 3:  # the loss
                assert f"L = {fmt_num(trace['loss'])}" in body
                assert f"dL/dlogits = [{fmt_num(ref[2]['dA'][e, 0])}]" in body
            else:  # backward
                assert f"→ ‖δ‖ {fmt_num(_norm(want['delta']))}" in body
                for j in range(want["delta"].shape[1]):
                    row = (
                        f"    {j + 1:<6} {fmt_num(want['dA'][e, j]):<12} "
                        f"{fmt_num(want['fprime'][e, j]):<12} {fmt_num(want['delta'][e, j])}"
                    )
                    assert row in body
                    for i in range(want["a_prev"].shape[1]):
                        d, x = want["delta"][e, j], want["a_prev"][e, i]
                        product = f"{fmt_num(d)} × {fmt_num(x)} = {fmt_num(d * x)}"
                        assert f"w[{j + 1},{i + 1}]   {product:<34}  " in body
                        assert f"{fmt_num(want['dW'][j, i])}\n" in body
                assert f"db (batch) = [{', '.join(fmt_num(v) for v in want['db'])}]" in body
        # The step event of that step carries the same error signal the view shows.
        ev = made[-1].events[step]
        for lay, signal in zip(trace["layers"], ev["error_signal"], strict=True):
            assert lay["delta_norm"] == signal


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(a * a)))


@pytest.mark.parametrize("paused", [True, False], ids=["paused", "running"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_vanishing_per_layer_every_number_is_the_trainers(size: Any, paused: bool) -> None:
    made: list[TrainerSource] = []
    app = app_on("vanishing", made)
    async with app.run_test(size=size) as pilot:
        view = await open_backprop(pilot, paused)
        trace = view.trace
        assert trace is not None and not trace["unit_level"]
        step = trace["step"]
        ref = step_reference(made[-1], step)
        ev = made[-1].events[step]
        n = len(ref)
        factors = layer_factors(ev["error_signal"], ev["fprime_mean"])
        for stage in range(2 * n + 1):
            if stage:
                await pilot.press("n")
            body = view.body_text().plain
            assert "example" not in body  # per layer only: no unit table for 32 units
            if stage < n:
                z, a = ref[stage]["z"], ref[stage]["a"]
                assert f"z mean {fmt_num(z.mean())} std {fmt_num(z.std())}" in body
                assert f"a mean {fmt_num(a.mean())} std {fmt_num(a.std())}" in body
                if stage < n - 1:
                    assert f"mean|f'(z)| {fmt_num(ev['fprime_mean'][stage])}" in body
            elif stage > n:
                k = 2 * n - stage
                want = ref[k]
                assert (
                    f"‖dL/da‖ {fmt_num(_norm(want['dA']))} → ‖δ‖ {fmt_num(ev['error_signal'][k])}"
                ) in body
                assert f"‖dW‖ {fmt_num(ev['grad_norm'][k])}" in body
                assert f"‖db‖ {fmt_num(ev['bias_grad_norm'][k])}" in body
                assert f"‖·‖ {fmt_num(_norm(want['dA_prev']))}" in body
                if k < n - 1:
                    assert factor_label(*factors[k], FACTOR_WIDTH) in body
        assert screen_text(app).count("◀ backward L1") == 1  # the last stage is in view


def _record(path: Path, name: str, steps: int, version: int = 2) -> dict:
    """A recording of ``name``'s first ``steps`` steps; version 1 without the new fields."""
    t = Trainer(load(name))
    run = t.run_event() | {"version": version}
    lines = [encode(run)]
    for _ in range(steps):
        ev = t.step().to_dict()
        if version == 1:
            del ev["error_signal"], ev["fprime_mean"]
        lines.append(encode(ev))
    lines.append(encode(t.end_event("stopped")))
    path.write_text("\n".join(lines) + "\n")
    return ev


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_backprop_view_on_a_replay_shows_the_recorded_per_layer_fields(
    tmp_path: Path, size: Any
) -> None:
    path = tmp_path / "vanishing.jsonl"
    last = _record(path, "vanishing", 30)
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=size) as pilot:
        dash = app.dashboard
        await until(pilot, lambda: dash.end is not None and dash.history.last_step == 30)
        await pilot.press("b")
        view = app.screen
        assert isinstance(view, BackpropScreen)
        view.refresh_now()
        await pilot.pause()
        assert "needs the live trainer" in screen_text(app)
        assert ("trace", None) not in getattr(dash.source, "commands", [])
        body = view.body_text().plain
        factors = [*layer_factors(last["error_signal"], last["fprime_mean"]), (None,) * 3]
        for i in range(len(last["error_signal"])):
            row = (
                f"  L{i + 1:<5} {fmt_num(last['error_signal'][i]):>10} "
                f"{fmt_num(last['fprime_mean'][i]):>10} {fmt_num(last['grad_norm'][i]):>10} "
                f"{fmt_num(last['bias_grad_norm'][i]):>10}  {factor_label(*factors[i], 40)}"
            )
            assert row in body


async def test_backprop_view_on_a_version_1_replay_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    _record(path, "healthy", 10, version=1)
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = app.dashboard
        await until(pilot, lambda: dash.end is not None)
        await pilot.press("b")
        assert "no error signal (stream version 1)" in app.screen.body_text().plain
        await pilot.press("escape")
        await pilot.press("e")  # the gradient panes on ‖δ‖: no data, no crash
        dash.redraw(force=True)
        assert "‖δ‖" in dash.query_one(GradNormsPane).drawn.title


async def gradcheck_report(pilot: Any) -> GradcheckScreen:
    dash = pilot.app.dashboard
    dash.refresh_now()
    await pilot.press("g")
    view = pilot.app.screen
    assert isinstance(view, GradcheckScreen)
    await until(pilot, lambda: view.report is not None)
    return view


def layer_rows(text: str) -> dict[str, str]:
    return {ln.split()[0]: ln for ln in text.splitlines() if ln.strip()[:1] == "L"}


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_gradcheck_view_passes_and_shows_the_cost(size: Any) -> None:
    made: list[TrainerSource] = []
    app = app_on("healthy", made)
    async with app.run_test(size=size) as pilot:
        view = await gradcheck_report(pilot)
        report = view.report
        assert report is not None
        shown = screen_text(app)
        rows = layer_rows(shown)
        assert set(rows) == {"L1", "L2", "L3"}
        assert all(row.split()[-1] == "ok" for row in rows.values())
        n = made[-1].trainer.net.n_params
        assert report["n_params"] == n
        assert f"ratio {report['ratio']:,.0f}x for n = {n} parameters" in shown
        assert duration(report["fd_seconds"]) in shown
        assert f"finite differences ({2 * n} forward passes)" in shown
        assert f"{report['examples']} examples clear of the kink" in " ".join(shown.split())
        assert report["fd_seconds"] > report["backprop_seconds"] > 0
        assert duration(0.000103) == "0.103 ms" and duration(2.164) == "2.16 s"


async def test_gradcheck_view_fails_exactly_the_layer_with_a_planted_error(monkeypatch) -> None:
    plant_one_percent_error(monkeypatch, layer=1)
    app = app_on("healthy", [])
    async with app.run_test(size=(120, 40)) as pilot:
        await gradcheck_report(pilot)
        rows = layer_rows(screen_text(app))
        assert rows["L2"].split()[-1] == "FAIL"
        assert rows["L1"].split()[-1] == "ok" and rows["L3"].split()[-1] == "ok"
        assert "FAILED: L2" in screen_text(app)


async def test_gradcheck_view_on_a_replay_says_it_needs_the_trainer(tmp_path: Path) -> None:
    """A replay has no `g` key (keys.py: it lists only keys that work there); the
    palette's gradient check still opens the view, which says why it cannot run."""
    path = tmp_path / "run.jsonl"
    _record(path, "healthy", 5)
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        assert not isinstance(app.screen, GradcheckScreen)
        app.dashboard.action_gradcheck()  # what the palette's "Gradient check" runs
        await pilot.pause()
        assert "needs the live trainer" in screen_text(app)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_e_switches_the_gradient_panes_between_dw_and_delta(size: Any) -> None:
    made: list[TrainerSource] = []
    app = app_on("vanishing", made)
    async with app.run_test(size=size) as pilot:
        dash = app.dashboard
        for _ in range(3):
            dash.refresh_now()
            await pilot.pause()
        await pilot.press("space")
        dash.refresh_now()
        if dash.compact:
            await pilot.press("v")  # the flow bars' view
        await pilot.press("e")
        dash.redraw(force=True)
        await pilot.pause()
        flow = dash.query_one(GradFlowPane)
        ev = dash.history.last
        assert ev is not None
        names = [f"L{i + 1}" for i in range(len(ev["error_signal"]))]
        shown_bars = [(name, value) for name, value, _ in flow.bars]
        assert shown_bars == list(zip(names, ev["error_signal"], strict=True))[::-1]
        shown = screen_text(app)
        assert "‖δ‖ now, loss → input" in shown
        factors = layer_factors(ev["error_signal"], ev["fprime_mean"])
        labels = [factor_label(*f, 1 << 10) for f in factors]
        if size == (80, 24):  # the full decomposition fits beside the bars
            for label in labels:
                assert label in shown
            for factor, fp, gain in factors:  # and the product holds as displayed
                assert float(fmt_num(fp)) * float(fmt_num(gain)) == pytest.approx(
                    float(fmt_num(factor)), rel=0.011
                )
        if not dash.compact:
            assert "‖δ‖" in dash.query_one(GradNormsPane).drawn.title
        await pilot.press("e")
        dash.redraw(force=True)
        assert "‖dW‖ now, loss → input" in screen_text(app)


async def test_the_command_palette_opens_both_views() -> None:
    app = app_on("micro", [])
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.refresh_now()
        await pilot.press("space")  # paused: the palette's search has the CPU to itself
        for title, screen_type in (
            ("Backprop view", BackpropScreen),
            ("Gradient check", GradcheckScreen),
        ):
            await pilot.press("ctrl+p")
            await pilot.press(*title.split()[0])
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert isinstance(app.screen, screen_type)
            await pilot.press("escape")
            await pilot.pause()


async def test_backprop_view_after_the_end_shows_the_last_step_and_does_not_wait() -> None:
    made: list[TrainerSource] = []
    app = BpTuiApp(
        lambda s: made.append(TrainerSource(s)) or made[-1],
        [load("micro", steps=6)],
        initial=load("micro", steps=6),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        dash = app.dashboard
        await until(pilot, lambda: dash.end is not None)
        await pilot.press("b")
        view = app.screen
        assert isinstance(view, BackpropScreen) and not view.waiting
        assert "the run has ended" in screen_text(app)
        last = made[-1].events[6]
        assert f"L1     {fmt_num(last['error_signal'][0]):>10}" in view.body_text().plain
        assert ("trace", None) not in made[-1].commands
