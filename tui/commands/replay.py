"""``bp-tui replay FILE`` and ``bp-tui watch FILE``: the dashboard on an event stream.

``replay`` indexes the whole recording first (``StreamIndex``: 24 bytes per step, the
step lines' numbers read unparsed; each line is checked as it plays): if not one step can be shown
(a missing, empty or unreadable file, a stream of a newer version, a fault before the
first step) it is one line ``bp-tui: error: FILE: line N: ...`` and exit status 2;
otherwise the dashboard opens and shows every valid step, with the fault in the status
line when the replay reaches it. ``watch`` follows a file that another program is still
writing; it waits for a file that does not exist yet (the writer may still be starting up).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from bp_tui.core.config import Scenario
from bp_tui.core.stream import StreamError, StreamParser
from bp_tui.tui.commands.args import CliParser
from bp_tui.tui.commands.dashboard import fps_option, speed_option
from bp_tui.tui.errors import EXIT_USAGE, CliError, error_line
from bp_tui.tui.sources.replay_index import StreamIndex, index_stream

KEYS = (
    "Keys: space pause, n one step (paused), ← → one recorded step, PageUp/PageDown 10 %, "
    "Home/End, + - speed."
)


def recorded_scenario(path: str, run: dict[str, Any] | None, last_step: int, how: str) -> Scenario:
    """The ``Scenario`` the dashboard shows for a stream: its own configuration when a
    bp-tui run wrote it (the run event's ``config``, checked by the scenario loader's
    rules), else a plain one named after the file. ``how`` begins the lesson text
    ("Replay of", "Watching"). The reader has made the run event's text safe to show;
    the file name given on the command line is made safe here."""
    from bp_tui.core.safe_text import safe_text
    from bp_tui.scenarios import ScenarioError
    from bp_tui.scenarios.loader import MAX_TITLE, scenario_from_config

    run = run or {}
    name = safe_text(Path(path).name)
    title = safe_text(str(run.get("title") or name), max_len=MAX_TITLE)
    base: Scenario | None = None
    if run.get("config") is not None:
        try:
            base = scenario_from_config(run["config"], path)
        except ScenarioError:
            base = None  # a foreign writer's config: shown by title only
    shown = safe_text(path)
    lesson = f"{how} `{shown}`.\n\n" + (base.lesson or base.summary if base else "")
    if base is not None:
        return base.with_(name=name, title=title, steps=max(base.steps, last_step), lesson=lesson)
    return Scenario(
        name=name, title=title, steps=last_step, lesson=lesson, fix=run.get("fix") is True
    )


def _parse(command: str, argv: list[str], *, speed: bool) -> Any:
    p = CliParser(prog=f"bp-tui {command}", description=__doc__.split("\n\n")[0])
    p.add_argument("file", metavar="FILE", help="event stream (JSON Lines)")
    if speed:
        p.add_argument(
            "--speed",
            type=lambda text: speed_option(text, zero=True),
            default=None,
            metavar="STEPS_PER_S",
            help="training steps per second (default 100; 0: as fast as possible)",
        )
    p.add_argument("--fps", type=fps_option, default=6.0, help="redraws per second (0.1 to 60)")
    return p.parse_args(argv)


def replay_app(
    path: str, index: StreamIndex | None = None, *, speed: float | None, fps: float = 6.0
):
    """The app that replays the recording at ``path``, given its ``index_stream`` (made
    here when the caller has none); tests drive it with Pilot."""
    from bp_tui.tui.app import BpTuiApp
    from bp_tui.tui.screens.recorded import ReplayScreen
    from bp_tui.tui.sources.replay import DEFAULT_SPEED, ReplaySource

    class ReplayApp(BpTuiApp):
        dashboard_class = ReplayScreen

    if index is None:
        index = index_stream(path)
    scenario = recorded_scenario(path, index.run, index.last_step, "Replay of")
    scenario = scenario.with_(summary=KEYS)
    rate = DEFAULT_SPEED if speed is None else speed
    return ReplayApp(
        lambda _s: ReplaySource(path, speed=rate, index=index),
        [scenario],
        initial=scenario,
        fps=fps,
        speed=rate,
    )


def watch_app(path: str, *, fps: float = 6.0, head: StreamParser | None = None):
    """The app that follows the file at ``path``; ``head``: its first MiB parsed, when the
    caller has read it already (``_head``)."""
    from bp_tui.tui.app import BpTuiApp
    from bp_tui.tui.screens.recorded import RecordedScreen
    from bp_tui.tui.sources.follow import FollowSource

    class WatchApp(BpTuiApp):
        dashboard_class = RecordedScreen

    if head is None:
        head = _head(path)
    scenario = recorded_scenario(path, head.run, 0, "Watching")
    return WatchApp(lambda _s: FollowSource(path), [scenario], initial=scenario, fps=fps, speed=0.0)


def _head(path: str) -> StreamParser:
    """The first MiB of ``path`` parsed: nothing when the file is not there yet, or when
    it is a pipe or FIFO (reading would consume what the dashboard must show, and wait
    for a writer: a stream's title comes with its run event instead)."""
    parser = StreamParser(path)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            parser.feed(f.read(1 << 20))
    return parser


def run_replay(argv: list[str]) -> int:
    """``bp-tui replay FILE [--speed STEPS_PER_S] [--fps N]``; the exit status."""
    try:
        args = _parse("replay", argv, speed=True)
        index = index_stream(args.file)
        if index.error is not None and not len(index):
            raise index.error  # nothing to show: missing, empty, newer version...
    except (CliError, StreamError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    from bp_tui.tui.commands.dashboard import run_app

    return run_app(replay_app(args.file, index, speed=args.speed, fps=args.fps))


def run_watch(argv: list[str]) -> int:
    """``bp-tui watch FILE [--fps N]``; the exit status."""
    try:
        args = _parse("watch", argv, speed=False)
        folder = os.path.dirname(os.path.abspath(args.file))
        if os.path.isdir(args.file) or not os.path.isdir(folder):
            raise CliError(args.file, "FILE", "not a file in an existing folder")
        head = _head(args.file)
        if head.error is not None and head.last_step is None:
            raise head.error  # e.g. a newer version: nothing could ever be shown
    except (CliError, StreamError, OSError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    from bp_tui.tui.commands.dashboard import run_app

    return run_app(watch_app(args.file, fps=args.fps, head=head))
