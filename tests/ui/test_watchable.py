"""A run you can watch and plots that never mislead (issue: watchable and truthful).

Pilot tests on the fake source: the pace holds across r, f, s; themes switch mid-run
and after a run; NO_COLOR keeps DIVERGED readable; the flow bars' scale never shrinks;
one colour per layer in every pane; zoom, the fix notice, the screenshot key.
"""

from __future__ import annotations

import itertools
import math
import re

from rich.color import Color, ColorSystem
from rich.style import Style
from rich.text import Text

from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.commands.screenshot import screen_text
from bp_tui.tui.panes.colors import PALETTE, hex_color, layer_colors
from bp_tui.tui.panes.dead_units import DeadUnitsPane
from bp_tui.tui.panes.grad_flow import GradFlowPane
from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.layer_table import SWATCH, LayerTable
from bp_tui.tui.panes.loss import LossPane
from bp_tui.tui.panes.plotting import GuardedPlot
from bp_tui.tui.panes.status import StatusLine
from bp_tui.tui.settings import Settings
from tests.ui.conftest import Sources, fake_loader, make_scenario, pump
from tests.ui.fake_source import fake_step


def status(app: BpTuiApp) -> str:
    return app.screen.query_one(StatusLine).plain


def record_notices(app: BpTuiApp) -> list[str]:
    """Every notification's text from now on (the screen's notify goes through the app's)."""
    notices: list[str] = []
    notify = app.notify

    def recording(message: str, *args: object, **kwargs: object) -> None:
        notices.append(message)
        notify(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    return notices


async def test_the_chosen_pace_holds_across_r_f_s_and_another_scenario(make_app):
    app, sources = make_app()
    paced = make_scenario("vanishing").with_(speed=40.0)
    app.initial = paced
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot)
        assert dash.speed == 40.0 and sources.last.speed == 40.0  # the scenario's own pace
        await pilot.press("minus")
        await pump(pilot)
        assert dash.speed == 30.0 and sources.last.speed == 30.0 and app.speed == 30.0
        for key in ("r", "f"):
            await pilot.press(key)
            await pump(pilot)
            assert app.dashboard.speed == 30.0 and sources.last.speed == 30.0, key
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")  # the picker's first scenario: another one
        await pump(pilot)
        assert app.dashboard.scenario.name == "healthy"
        assert app.dashboard.speed == 30.0 and sources.last.speed == 30.0
        assert "≤30" in status(app)


async def test_max_speed_sends_no_limit_and_the_end_says_how_long(make_app):
    app, sources = make_app(diverge_at=7, speed=0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 3)
        assert sources.last.speed is None  # nothing sent: full speed
        line = status(app)
        assert line.lstrip().startswith("DIVERGED at step 7")
        duration = app.dashboard.duration()
        assert duration is not None and f"in {duration:.1f} s" in line


def plots_drawing(app: BpTuiApp) -> None:
    text = screen_text(app)
    assert "cannot draw" not in text
    for pane in app.screen.query(GuardedPlot):
        assert pane.render_error is None, (pane.id, pane.render_error)


async def test_theme_change_mid_run_and_after_the_run_keeps_every_plot_drawing(make_app):
    app, sources = make_app(batch=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        assert app.dashboard.end is None  # mid-run
        for theme in ("textual-light", "nord", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            await pump(pilot)
            plots_drawing(app)
        sources.last.diverge_at = 0  # the next step diverges
        for _ in range(30):
            if app.dashboard.end is not None:
                break
            await pump(pilot)
        assert app.dashboard.end is not None  # after the run (diverged: log plots)
        for theme in ("textual-light", "gruvbox"):
            app.theme = theme
            await pilot.pause()
            await pilot.pause()
            plots_drawing(app)


async def test_no_color_keeps_diverged_readable(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(diverge_at=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        line = app.screen.query_one(StatusLine)
        assert app.no_color
        rendered = line.render()
        assert isinstance(rendered, Text) and rendered.plain.lstrip().startswith("DIVERGED")
        style = rendered.get_style_at_offset(app.console, 2)
        # swapped foreground and background in bold, not two greys made of red
        assert style.reverse and style.bold and style.color is None and style.bgcolor is None


def growing(step: int) -> dict:
    """Gradients that grow by two decades a step, layer i ten times below layer i+1."""
    ev = fake_step(step, 4, 0.1, "none", 1.0)
    ev["grad_norm"] = [3.0 * 10.0 ** (2 * step - (3 - i)) for i in range(4)]
    return ev


async def test_flow_scale_never_shrinks_while_norms_grow_100_decades(make_app):
    app, _ = make_app(step_fn=growing, batch=1)
    app.initial = app.initial.with_(steps=60)
    async with app.run_test(size=(120, 40)) as pilot:
        flow = app.screen.query_one(GradFlowPane)
        scales = []
        for _ in range(55):
            dash = await pump(pilot)
            if flow.scale is not None:
                scales.append(flow.scale)
        steps = range(1, dash.view.last("step") + 1)
        seen = [v for s in steps for v in growing(s)["grad_norm"]]  # every value of the run
        assert len(scales) > 50
        for (lo0, hi0), (lo1, hi1) in itertools.pairwise(scales):
            assert lo1 <= lo0 and hi1 >= hi0  # only ever widens
        lo, hi = scales[-1]
        assert hi - lo >= 100  # the norms grew by 100 decades
        # independently: whole decades around every value of the run, one below the smallest
        assert hi == math.ceil(math.log10(max(seen)))
        assert lo == math.floor(math.log10(min(seen))) - 1
        text = flow.shown_text.plain
        assert f"1e{lo}" in text and f"1e{hi}" in text  # both ends labelled
        assert "L1/L4 ≈ 10^-3.0" in text  # the first-to-last ratio


def span_color(text: Text, needle: str, start: int = 0) -> str | None:
    """The foreground colour (as '#rrggbb') of the first character of ``needle``."""
    at = re.search(rf"(?<![\w]){re.escape(needle)}(?![\d])", text.plain[start:])
    assert at is not None, needle
    at = at.start() + start
    styles = [Style.parse(s.style) if isinstance(s.style, str) else s.style for s in text.spans]
    colors = [st.color for st, s in zip(styles, text.spans, strict=True) if s.start <= at < s.end]
    found = [c for c in colors if c is not None]
    if not found:
        return None
    r, g, b = found[-1].get_truecolor()
    return f"#{r:02x}{g:02x}{b:02x}"


async def test_each_layer_has_one_colour_in_every_pane_of_an_11_layer_net(make_app):
    app, _ = make_app(n_layers=11)
    async with app.run_test(size=(220, 60)) as pilot:
        await pump(pilot, 3)
        expected = layer_colors(11)
        assert len(set(expected)) == 11
        # no two of the first 8 layers look alike in 256 colours
        eight_bit = [Color.parse(hex_color(c)).downgrade(ColorSystem.EIGHT_BIT) for c in expected]
        assert len({c.number for c in eight_bit[:8]}) == 8
        assert all(c.number == n for c, n in zip(eight_bit, expected, strict=True))
        for kind in (GradNormsPane, DeadUnitsPane):
            pane = app.screen.query_one(kind)
            for i, color in enumerate(expected):
                if f"L{i + 1}" in pane.drawn.colors:
                    assert pane.drawn.colors[f"L{i + 1}"] == color
        # end labels: each name has its line's colour, also where names share a row
        grads = app.screen.query_one(GradNormsPane)
        rendered = grads.render()
        assert isinstance(rendered, Text)
        for label in grads.drawn.end_labels:
            first = label.split(",")[0]
            i = int(first[1:]) - 1
            assert span_color(rendered, label) == hex_color(expected[i]), label
        # flow bars: each row's bar and name in the layer's colour (rows: output first)
        flow = app.screen.query_one(GradFlowPane).shown_text
        for i, color in enumerate(expected):
            assert span_color(flow, f"L{i + 1} ") == hex_color(color)
        # the table's swatch before each layer's name
        table = app.screen.query_one(LayerTable)
        lines = [strip for strip in table.render_lines(table.region.reset_offset)]
        swatches = [
            seg.style.color for strip in lines for seg in strip if seg.text == SWATCH and seg.style
        ]
        got = [c.get_truecolor() for c in swatches if c is not None]
        assert [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in got] == [hex_color(c) for c in expected]
    assert layer_colors(4) == list(PALETTE[:4])


async def test_zoom_key_and_title_click_fill_the_screen_and_come_back(make_app):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot)
        loss = app.screen.query_one(LossPane)
        small = loss.region.area
        await pilot.press("1", "z")
        await pump(pilot)
        assert app.screen.maximized is loss and loss.region.area > 2 * small
        await pilot.press("z")
        await pump(pilot)
        assert app.screen.maximized is None and loss.region.area == small
        grads = app.screen.query_one(GradNormsPane)
        await pilot.click(GradNormsPane, offset=(grads.region.width // 2, 0))
        await pump(pilot)
        assert app.screen.maximized is grads and grads.has_focus


async def test_after_f_the_lesson_shows_the_fix_and_a_notice_says_it(make_app):
    app, _ = make_app()
    notices = record_notices(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await pump(pilot)
        await pilot.press("f")
        await pump(pilot)
        text = screen_text(app)
        assert "Fix on" in text and "Use ReLU and He init." in text
        assert any(n.startswith("Fix on: Use ReLU") for n in notices)


async def test_w_saves_an_svg_where_asked_and_says_where(tmp_path):
    s = make_scenario("vanishing")
    app = BpTuiApp(Sources(), [s], initial=s, loader=fake_loader, screenshot_dir=str(tmp_path))
    notices = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pump(pilot)
        await pilot.press("w")
        await pilot.pause()
        saved = list(tmp_path.glob("*.svg"))
        assert len(saved) == 1 and saved[0].read_text().startswith("<svg")
        assert notices == [f"saved {saved[0]}"]


async def test_the_theme_is_remembered_between_launches(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    s = make_scenario("vanishing")
    app = BpTuiApp(Sources(), [s], initial=s, loader=fake_loader, settings=Settings.load())
    async with app.run_test(size=(100, 30)) as pilot:
        await pump(pilot)
        app.theme = "textual-light"
        await pilot.pause()
    assert (tmp_path / "bp-tui" / "settings.json").exists()
    again = BpTuiApp(Sources(), [s], initial=s, loader=fake_loader, settings=Settings.load())
    assert again.theme == "textual-light"
    chosen = BpTuiApp(Sources(), [s], theme="nord", settings=Settings.load())
    assert chosen.theme == "nord"  # --theme wins over the remembered one


async def test_lr_and_clipping_changes_are_marked_on_the_time_plots(make_app):
    app, _ = make_app(batch=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await pump(pilot, 2)
        await pilot.press("space")  # paused: the marks' steps are known exactly
        dash = await pump(pilot)
        before = dash.view.last("step")
        await pilot.press("right_square_bracket", "c")  # lr x2, clipping none -> norm
        await pilot.press("space")
        await pump(pilot, 3)
        marks = dash.view.marks
        kinds = {kind for _, kind in marks}
        assert {"lr", "clip"} <= kinds
        assert all(step > before for step, _ in marks)
        lr_step = min(step for step, kind in marks if kind == "lr")
        ev_lrs = dash.history.series("lr")
        assert float(ev_lrs.hi.max()) == 0.2 and float(ev_lrs.lo.min()) == 0.1
        for pane in (LossPane, GradNormsPane):
            assert float(lr_step) in app.screen.query_one(pane).drawn.vlines


async def test_replay_status_names_the_scenario_counts_steps_once_and_shows_a_bar(tmp_path):
    from bp_tui.core.stream import EventWriter
    from bp_tui.tui.commands.replay import replay_app
    from bp_tui.tui.screens.recorded import progress_bar

    path = tmp_path / "a-recording-named-otherwise.jsonl"
    with EventWriter(path, layers=["a", "b"], scenario="vanishing", title="Vanishing") as w:
        for i in range(1, 101):
            w.step(step=i, loss=1.0 / i, grad_norm=[0.1, 1.0])
    app = replay_app(str(path), speed=0)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pump(pilot)
            if app.dashboard.end is not None:
                break
        line = status(app)
        assert "vanishing" in line and path.name not in line  # the scenario, not the file
        assert line.count("/100") == 1  # one step count: step 100/100
        assert progress_bar(100, 100) in line and line.rstrip().endswith("100%")
    assert progress_bar(25, 100, width=8) == "▕██░░░░░░▏ 25%"
