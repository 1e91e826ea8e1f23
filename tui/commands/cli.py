"""The ``bp-tui`` command: subcommands, the dashboard, and one-line errors.

::

    bp-tui                          the dashboard (scenario picker)
    bp-tui SCENARIO [options]       the dashboard on a scenario (commands.dashboard)
    bp-tui list                     the built-in scenarios
    bp-tui run SCENARIO [...]       train without the dashboard (commands.headless)
    bp-tui gradcheck SCENARIO       backprop against finite differences
    bp-tui replay FILE / watch FILE a recorded / growing event stream (commands.replay)
    bp-tui doctor FILE              name the pathology of a recorded run (commands.doctor)
    bp-tui serve [...]              the dashboard in a browser, textual-serve (commands.serve)

Every module behind a subcommand is imported only when that subcommand runs: textual
is loaded for the dashboard alone, so the headless commands start fast. Any user
error is one line on stderr (``bp-tui: error: FILE: KEY: found, allowed``) and exit
status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Callable, Sequence

from bp_tui.scenarios import ScenarioError, list_builtin, load
from bp_tui.tui.commands.args import CliParser
from bp_tui.tui.errors import EXIT_INTERRUPTED, EXIT_USAGE, PROG, CliError, error_line

SUBCOMMANDS = ("list", "run", "gradcheck", "replay", "watch", "doctor", "serve", "compare")
# subcommand -> (module, function): parsed by their own module, imported only when run
LAZY = {
    "replay": ("bp_tui.tui.commands.replay", "run_replay"),
    "watch": ("bp_tui.tui.commands.replay", "run_watch"),
    "doctor": ("bp_tui.tui.commands.doctor", "run_doctor"),
    "serve": ("bp_tui.tui.commands.serve", "run_serve"),
    "compare": ("bp_tui.tui.commands.compare", "run_compare"),
}

DESCRIPTION = """\
Watch backpropagation live in the terminal: train a small NumPy MLP on a pathology
scenario and see its gradients vanish, explode or die, then apply the fix.

  bp-tui                       open the dashboard (pick a scenario)
  bp-tui SCENARIO [options]    open the dashboard on a scenario (bp-tui SCENARIO --help)

SCENARIO is a built-in name (bp-tui list) or the path of a scenario .toml file."""


def _parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog=PROG,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("bp-tui")
    except PackageNotFoundError:  # run from a source tree that is not installed
        installed = "unknown"
    parser.add_argument("--version", action="version", version=f"{PROG} {installed}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)

    sub.add_parser("list", help="list the built-in scenarios", description="List the built-ins.")

    run = sub.add_parser(
        "run",
        help="train without the dashboard: a summary, or the event stream with --jsonl",
        description="Train a scenario headless. Prints a summary, or with --jsonl the "
        "event stream (one JSON object per line) and nothing else on stdout. "
        "Ctrl+C, SIGTERM or SIGHUP stops the run cleanly (exit status 130, 143, 129).",
    )
    _scenario_arguments(run)
    run.add_argument("--steps", type=int, metavar="N", help="train N steps (default: the file's)")
    run.add_argument("--jsonl", action="store_true", help="write the event stream to stdout")
    run.add_argument(
        "--out",
        metavar="FILE",
        help="also write the event stream to FILE, in place, line by line as the run goes "
        "(an existing file is overwritten, as cp does)",
    )

    check = sub.add_parser(
        "gradcheck",
        help="compare backprop with finite differences, per layer",
        description="Compare each layer's backprop gradient with central finite "
        "differences, at initialisation and after a few steps. Exit status 1 when any "
        "layer's relative error exceeds 1e-6.",
    )
    _scenario_arguments(check)

    for name, what in (
        ("replay", "show a recorded event stream"),
        ("watch", "show a growing event stream"),
        ("doctor", "name the pathology of a recorded run"),
        ("serve", "the dashboard in a browser, on 127.0.0.1"),
        ("compare", "a scenario beside its fix, or two scenarios or recordings"),
    ):
        sub.add_parser(name, help=f"{what} (bp-tui {name} --help)", add_help=False)
    return parser


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="built-in name or .toml path")
    parser.add_argument("--seed", type=int, metavar="N", help="seed (default: the file's)")
    parser.add_argument("--fix", action="store_true", help="apply the scenario's [fix]")


def _list(stdout: Callable[[str], object]) -> int:
    rows = [("NAME", "TITLE", "SUMMARY")] + [(i.name, i.title, i.summary) for i in list_builtin()]
    widths = [max(len(r[c]) for r in rows) for c in (0, 1)]
    for name, title, summary in rows:
        stdout(f"{name.ljust(widths[0])}  {title.ljust(widths[1])}  {summary}")
    return 0


def _lazy(module: str, function: str, argv: list[str], what: str) -> int:
    """Call ``module.function(argv)``, importing it only now (textual is heavy)."""
    import importlib

    try:
        target = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # a missing dependency inside it: a real problem
            raise
        print(
            f"{PROG}: {what} is not available in this build ({module} is missing)", file=sys.stderr
        )
        return EXIT_USAGE
    return int(getattr(target, function)(argv))


def _misspelt_command(word: str) -> str | None:
    """The subcommand ``word`` is a near miss of (``rnu`` -> ``run``), unless ``word``
    names a scenario (a built-in or a file): then it opens the dashboard as always."""

    from bp_tui.scenarios.loader import BUILTIN_DIR

    if word.startswith("-") or os.path.lexists(word) or (BUILTIN_DIR / f"{word}.toml").exists():
        return None
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    return close[0] if close else None


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in LAZY:
        module, function = LAZY[argv[0]]
        return _lazy(module, function, argv[1:], f"bp-tui {argv[0]}")
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        if argv and (command := _misspelt_command(argv[0])):
            raise CliError(
                None,
                argv[0],
                f'not a command or a scenario (did you mean "{command}"?), '
                f"commands: {', '.join(SUBCOMMANDS)} (see {PROG} --help)",
            )
        return _lazy("bp_tui.tui.commands.dashboard", "run_dashboard", argv, "the dashboard")

    args = _parser().parse_args(argv)
    if args.command == "list":
        return _list(print)
    from bp_tui.tui.commands import headless  # numpy and the core: only for the commands that train

    scenario = load(args.scenario, fix=args.fix, seed=args.seed, steps=getattr(args, "steps", None))
    if args.command == "run":
        if args.out is not None:  # checked before anything is opened or trained
            from bp_tui.tui.output_file import check_output_path

            check_output_path(args.out, "--out", inputs=[scenario.source])
        with headless.stop_on_signals() as stop:
            return headless.run(
                scenario,
                jsonl=args.jsonl,
                out=args.out,
                stdout=sys.stdout,
                stderr=sys.stderr,
                stop=stop,
            )
    return headless.gradcheck(scenario, stdout=sys.stdout, stderr=sys.stderr)


def _discard_stdout() -> None:
    """Stop writing to a stdout whose reader has gone away.

    Python flushes ``sys.stdout`` once more at exit, which would raise again
    ("Exception ignored ... BrokenPipeError", exit status 120). With ``sys.stdout`` set
    to None, print() writes nothing and the exit flush skips it. The signal docs' recipe,
    ``os.dup2`` of /dev/null over fd 1, would change the process's file descriptors
    (and leak the one opened), which ``main()`` called in-process must not do.
    """
    sys.stdout = None  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    """The ``bp-tui`` entry point; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    from bp_tui.core.stream import StreamError

    try:
        return _dispatch(args)
    except SystemExit as exc:  # argparse after --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt as exc:
        # a second stop signal during a run, or Ctrl+C outside it: no traceback
        print(file=sys.stderr)
        signum = getattr(exc, "signum", None)  # headless.Aborted: a second SIGTERM/SIGHUP
        return EXIT_INTERRUPTED if signum is None else 128 + signum
    except BrokenPipeError:
        # the reader of our stdout went away (`bp-tui run x --jsonl | head`): stop quietly
        _discard_stdout()
        return 1
    except (ScenarioError, StreamError, CliError, OSError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
