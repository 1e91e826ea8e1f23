"""``bp-tui compare``: a run and its fix (or two scenarios, or two recordings) side by side.

``bp-tui compare SCENARIO`` trains the scenario and the scenario with its ``[fix]``, same
seed and data, each in its own child process (``LiveSource``), in one screen
(``tui/screens/compare.py``). ``bp-tui compare A.toml B.toml`` compares two scenarios,
``bp-tui compare a.jsonl b.jsonl`` two recordings. With ``--summary``, or when stdout
or stdin is not a terminal, it trains both headless and prints the two ``bp-tui run``
summaries side by side (recordings: summarised from their events).
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bp_tui.core.config import Scenario
from bp_tui.tui.commands.args import CliParser, positive
from bp_tui.tui.errors import EXIT_USAGE, PROG, CliError, error_line

RECORDING_SUFFIXES = (".jsonl", ".json", ".ndjson")
GUTTER = "  │  "
NEUTRAL = ("A:", "B:")  # two scenarios or recordings: neither is "the fix"


@dataclass
class Pair:
    """What to compare: two scenarios, or two recordings (paths), and their labels."""

    labels: tuple[str, str]
    scenarios: tuple[Scenario, Scenario] | None = None
    recordings: tuple[str, str] | None = None
    marks: tuple[str, str] = ("✗", "✓")  # a scenario and its fix; "A:", "B:" otherwise


def parser() -> CliParser:
    p = CliParser(prog=f"{PROG} compare", description=__doc__.split("\n\n")[0])
    p.add_argument("what", nargs="+", metavar="SCENARIO|FILE", help="one scenario, or two")
    p.add_argument("--seed", type=int, help="override the scenarios' seed")
    p.add_argument("--steps", type=positive(int, "--steps"), help="override the number of steps")
    p.add_argument("--summary", action="store_true", help="train headless, print both summaries")
    p.add_argument(
        "--speed",
        type=positive(float, "--speed"),
        metavar="STEPS_PER_S",
        help="training steps per second of each run (default: the scenario's pace)",
    )
    p.add_argument("--fps", type=positive(float, "--fps"), default=6.0, help="redraws per second")
    return p


def resolve(args: Any) -> Pair:
    """The pair the arguments name (loading, so validating, every scenario)."""
    from bp_tui.scenarios import load

    what = list(args.what)
    if len(what) > 2:
        raise CliError(None, "arguments", f"found {len(what)} names, expected one or two")
    if len(what) == 1:
        a = load(what[0], seed=args.seed, steps=args.steps)
        if not a.has_fix:
            raise CliError(
                a.source or what[0], "fix", "found no [fix] table, allowed a scenario with one"
            )
        return Pair(
            ("broken", "fixed"), (a, load(what[0], fix=True, seed=args.seed, steps=args.steps))
        )
    recorded = [Path(w).suffix in RECORDING_SUFFIXES for w in what]
    if all(recorded):
        for w in what:
            if not Path(w).is_file():
                raise CliError(w, "file", "not found, expected a recorded event stream")
        names = (Path(what[0]).name, Path(what[1]).name)
        return Pair(names, recordings=(what[0], what[1]), marks=NEUTRAL)
    if any(recorded):
        raise CliError(
            None, "arguments", "found a recording and a scenario, expected two of a kind"
        )
    a, b = (load(w, seed=args.seed, steps=args.steps) for w in what)
    return Pair((a.name, b.name if b.name != a.name else f"{b.name} (2)"), (a, b), marks=NEUTRAL)


def _aligned(left: list[str], right: list[str]) -> list[tuple[str, str]]:
    """Pair the lines of two summaries: "key: value" lines by key (a line only one side
    has faces a blank), then the layer tables row by row."""

    def split(lines: list[str]) -> tuple[list[str], list[str]]:
        cut = lines.index("") if "" in lines else len(lines)
        return lines[:cut], lines[cut:]

    (lh, lt), (rh, rt) = split(left), split(right)

    def key(i: int, line: str) -> str:  # the heading and title lines pair by position
        return line.split(":")[0] if ":" in line and i > 0 else f"#{i}"

    rkeys = [key(i, x) for i, x in enumerate(rh)]
    pairs: list[tuple[str, str]] = []
    j = 0
    for i, line in enumerate(lh):
        k = key(i, line)
        if k in rkeys[j:]:
            at = rkeys.index(k, j)
            pairs += [("", x) for x in rh[j:at]]
            pairs.append((line, rh[at]))
            j = at + 1
        else:
            pairs.append((line, ""))
    pairs += [("", x) for x in rh[j:]]
    rows = max(len(lt), len(rt))
    pairs += list(zip(lt + [""] * (rows - len(lt)), rt + [""] * (rows - len(rt)), strict=True))
    return pairs


def side_by_side(left: str, right: str) -> str:
    """Two ``bp-tui run`` summaries as columns, the left one padded to its widest line."""
    pairs = _aligned(left.rstrip("\n").splitlines(), right.rstrip("\n").splitlines())
    width = max((len(a) for a, _ in pairs), default=0)
    return "\n".join(f"{a.ljust(width)}{GUTTER}{b}".rstrip() for a, b in pairs) + "\n"


def recording_summary(path: str) -> str:
    """``bp-tui run``'s summary of a recorded stream."""
    from bp_tui.core.stream import read_stream
    from bp_tui.tui.commands.headless import summary
    from bp_tui.tui.commands.replay import recorded_scenario

    got = read_stream(path)
    if got.error is not None and not got.events:
        raise got.error
    steps = got.events
    last_step = int(steps[-1]["step"]) if steps else 0
    scenario = recorded_scenario(path, got.run, last_step, "Summary of")
    finite = [e for e in steps if e.get("finite") is not False]
    end = got.end or {"type": "end", "step": last_step, "reason": "stopped"}
    first, last = (steps[0], steps[-1]) if steps else (None, None)
    return summary(scenario, got.run or {}, first, last, finite[-1] if finite else None, end)


def headless(pair: Pair, stdout: TextIO) -> int:
    """Both runs (or recordings) summarised, side by side."""
    from bp_tui.tui.commands import headless as run_headless

    texts = []
    if pair.scenarios is not None:
        with run_headless.stop_on_signals() as stop:
            for scenario in pair.scenarios:
                out = io.StringIO()
                status = run_headless.run(
                    scenario, jsonl=False, out=None, stdout=out, stderr=io.StringIO(), stop=stop
                )
                texts.append(out.getvalue())
                if status:  # stopped by a signal: no second run
                    return status
    else:
        assert pair.recordings is not None
        texts = [recording_summary(p) for p in pair.recordings]
    heads = [f"{mark} {label}" for mark, label in zip(pair.marks, pair.labels, strict=True)]
    stdout.write(side_by_side(*(f"{h}\n{t}" for h, t in zip(heads, texts, strict=True))))
    stdout.flush()
    return 0


def compare_app(pair: Pair, *, fps: float = 6.0, speed: float | None = None, factory=None):  # type: ignore[no-untyped-def]
    """The compare app for ``pair``; ``factory`` (tests) makes each run's source."""
    from bp_tui.tui.screens.compare import CompareApp, Side

    if pair.scenarios is not None:
        from bp_tui.tui.sources.live import LiveSource

        if speed is None:  # the scenario's own viewing pace, as the dashboard starts with
            speed = max(s.speed for s in pair.scenarios) or None

        make = factory or LiveSource
        sides = [
            Side(label, s, make, mark)
            for label, s, mark in zip(pair.labels, pair.scenarios, pair.marks, strict=True)
        ]
    else:
        from bp_tui.tui.commands.replay import recorded_scenario
        from bp_tui.tui.sources.replay import ReplaySource
        from bp_tui.tui.sources.replay_index import index_stream

        assert pair.recordings is not None
        sides = []
        for label, path, mark in zip(pair.labels, pair.recordings, pair.marks, strict=True):
            index = index_stream(path)
            if index.error is not None and len(index) == 0:
                raise index.error
            scenario = recorded_scenario(path, index.run, index.last_step, "Replay of")

            def make(s: Scenario, path: str = path, index: Any = index) -> Any:
                return ReplaySource(path, speed=100.0 if speed is None else speed, index=index)

            sides.append(Side(label, scenario, make, mark))
    return CompareApp(sides, fps=fps, speed=speed)


def run_compare(argv: list[str]) -> int:
    from bp_tui.core.stream import StreamError
    from bp_tui.scenarios import ScenarioError

    try:
        args = parser().parse_args(argv)
        pair = resolve(args)
        if args.summary or not (sys.stdout.isatty() and sys.stdin.isatty()):
            return headless(pair, sys.stdout)
        app = compare_app(pair, fps=args.fps, speed=args.speed)
    except (ScenarioError, StreamError, CliError, OSError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    from bp_tui.tui.commands.dashboard import run_app

    return run_app(app)  # type: ignore[arg-type]
