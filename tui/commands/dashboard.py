"""``bp-tui [SCENARIO ...] [options]``: the dashboard's command line.

One scenario (a built-in name or a .toml path) opens the dashboard on it; none or
several open the picker, listing the built-ins, the .toml files given and those in
``--scenarios DIR``. Every scenario is loaded (and so validated) before the app
starts, so bad input is one line ``bp-tui: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bp_tui.core.config import Scenario
from bp_tui.tui.commands.args import CliParser, positive
from bp_tui.tui.errors import EXIT_USAGE, PROG, CliError, error_line

if TYPE_CHECKING:
    from bp_tui.tui.app import BpTuiApp
    from bp_tui.tui.sources.base import EventSource


MIN_FPS, MAX_FPS = 0.1, 60.0  # redraws per second: 1/fps is the redraw timer's period


def fps_option(text: str) -> float:
    """``--fps``: redraws per second, 0.1 to 60 (``inf`` made the redraw timer's period 0)."""
    try:
        value = float(text)
    except ValueError:
        raise CliError(None, "--fps", f"found {text!r}, expected a number") from None
    if not MIN_FPS <= value <= MAX_FPS:
        raise CliError(None, "--fps", f"found {text}, allowed {MIN_FPS:g} to {MAX_FPS:g}")
    return value


def speed_option(text: str, *, zero: bool = False) -> float:
    """``--speed``: a number of steps/s in the range a source accepts (``zero``: 0 too,
    meaning no limit), checked here so that no run starts with a speed it cannot keep."""
    from bp_tui.tui.sources.live import MAX_SPEED, MIN_SPEED

    try:
        value = float(text)
    except ValueError:
        raise CliError(None, "--speed", f"found {text!r}, expected a number") from None
    if not (MIN_SPEED <= value <= MAX_SPEED or (zero and value == 0)):
        allowed = f"{MIN_SPEED:g} to {MAX_SPEED:g} steps/s" + (" or 0 (no limit)" if zero else "")
        raise CliError(None, "--speed", f"found {text}, allowed {allowed}")
    return value


def parser() -> argparse.ArgumentParser:
    p = CliParser(prog=PROG, description="Watch backpropagation live: the dashboard.")
    p.add_argument(
        "scenario",
        nargs="*",
        help="built-in name or .toml file; one opens the dashboard on it, several the picker",
    )
    p.add_argument("--scenarios", metavar="DIR", help="also list the *.toml files in DIR")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--fix", action="store_true", help="start with the scenario's [fix] applied")
    p.add_argument("--steps", type=positive(int, "--steps"), help="override the number of steps")
    p.add_argument(
        "--speed",
        type=speed_arg,
        metavar="N|max",
        help="training steps per second, or max for full speed (default: the scenario's pace)",
    )
    p.add_argument("--theme", help="Textual theme, e.g. textual-light (remembered)")
    p.add_argument(
        "--screenshot-dir", metavar="DIR", default=".", help="where w saves SVG screenshots"
    )
    p.add_argument("--fps", type=fps_option, default=6.0, help="redraws per second (0.1 to 60)")
    p.add_argument(
        "--record",
        metavar="FILE",
        help="also write the event stream to FILE, in place (overwritten as cp does; "
        "a FIFO once a reader opens it)",
    )
    return p


def speed_arg(text: str) -> float:
    """``--speed``: steps/s in the range a source accepts, or ``max`` (0: no limit)."""
    return 0.0 if text.strip().lower() == "max" else speed_option(text)


def check_theme(name: str | None) -> None:
    """A ``--theme`` that Textual has, else the one-line error listing those it has."""
    if name is None:
        return  # textual is not imported yet: the trainer starts first (see run_dashboard)
    from textual.theme import BUILTIN_THEMES

    if name not in BUILTIN_THEMES:
        allowed = ", ".join(sorted(BUILTIN_THEMES))
        raise CliError(None, "--theme", f"found {name!r}, allowed {allowed}")


def _scenario_files(folder: str) -> list[Path]:
    path = Path(folder)
    if not path.is_dir():
        raise CliError(folder, "--scenarios", "not a folder, expected a folder of .toml files")
    return sorted(path.glob("*.toml"))


def collect(args: argparse.Namespace) -> tuple[list[Scenario], Scenario | None]:
    """(the picker's scenarios, the scenario to open at once or None); loads them all."""
    from bp_tui.scenarios import list_builtin, load

    def get(ref: str | Path, fix: bool = False) -> Scenario:
        return load(ref, fix=fix, seed=args.seed, steps=args.steps)

    if args.fix and len(args.scenario) != 1:
        raise CliError(None, "--fix", "given without a scenario, expected one SCENARIO")
    initial = get(args.scenario[0], fix=args.fix) if len(args.scenario) == 1 else None
    picker = [get(info.name) for info in list_builtin()]
    extra = list(args.scenario) + (_scenario_files(args.scenarios) if args.scenarios else [])
    known = {s.source for s in picker}
    for ref in extra:
        scenario = get(ref)
        if scenario.source not in known:
            known.add(scenario.source)
            picker.append(scenario)
    return picker, initial


def run_dashboard(argv: list[str]) -> int:
    """Parse ``argv``, load the scenarios, run the app; the process exit status."""
    from bp_tui.scenarios import ScenarioError

    try:
        args = parser().parse_args(argv)
        picker, initial = collect(args)
        check_theme(args.theme)
        if not os.path.isdir(args.screenshot_dir):
            raise CliError(args.screenshot_dir, "--screenshot-dir", "not a folder")
        inputs = [s.source for s in picker if s.source]  # never recorded over
        if args.record is not None:
            from bp_tui.tui.output_file import check_output_path

            check_output_path(args.record, "--record", inputs=inputs)
    except (ScenarioError, CliError, OSError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE

    from bp_tui.tui.sources.live import LiveSource

    def factory(s: Scenario, speed: float | None = None) -> EventSource:
        live = LiveSource(s, speed)
        if args.record is None:
            return live
        # each run shown (also after r or f) replaces the last recording
        from bp_tui.tui.sources.record import RecordingSource

        return RecordingSource(live, args.record, inputs=inputs)

    if initial is None:
        return run_app(_app(args, factory, picker, initial))
    # The trainer child starts before the UI is imported: both load at once.
    from bp_tui.tui.sources.base import run_speed
    from bp_tui.tui.sources.early import EarlySource

    early = EarlySource(factory(initial, run_speed(args.speed, initial)), initial, factory)
    try:
        return run_app(_app(args, early, picker, initial))
    finally:
        early.close()


def _app(
    args: argparse.Namespace,
    factory: Callable[[Scenario], EventSource],
    picker: list[Scenario],
    initial: Scenario | None,
) -> BpTuiApp:
    """The app for the parsed command line (imports the UI)."""
    from bp_tui.tui.app import BpTuiApp
    from bp_tui.tui.settings import Settings

    return BpTuiApp(
        factory,
        picker,
        initial=initial,
        fps=args.fps,
        speed=args.speed,
        seed=args.seed,
        steps=args.steps,
        theme=args.theme,
        settings=Settings.load(),
        screenshot_dir=args.screenshot_dir,
    )


def run_app(app: BpTuiApp) -> int:
    """Run ``app`` until it exits, ending its source on every path (signals included)."""
    from bp_tui.tui.signals import install_signal_handlers

    restore = install_signal_handlers(app, cleanup=[app.close_sources])
    try:
        result = app.run()
    finally:
        restore()
        app.close_sources()
    if app.return_code:
        return app.return_code
    return int(result or 0)
