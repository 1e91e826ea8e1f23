"""``python -m bench [--quick] [--json FILE] [--markdown FILE] [--only GROUP,...]``.

Runs every benchmark group in one process run (the UI groups start their own children),
prints the table of figures, targets and whether each is met, and writes it as JSON on
request. Exit status 0 whether or not targets are met: the table is the result.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable

from bench.config import BenchConfig
from bench.machine import describe, machine_info
from bench.report import Row, format_json, format_markdown, format_table

# Group name -> module; each module has ``run(cfg) -> list[Row]`` and degrades to rows
# with a status when what it measures is not available.
GROUPS: dict[str, str] = {
    "core": "bench.core_speed",
    "diagnostics": "bench.diagnostics_cost",
    "torch-watch": "bench.torch_watch",
    "boundary": "bench.boundary_cost",
    "frame": "bench.frame_time",
    "ui": "bench.ui_pty",
    "link": "bench.throttled_link",
    "memory": "bench.memory",
    "replay": "bench.replay_long",
    "command": "bench.command_speed",
    "stream": "bench.stream_size",
}


def run_groups(cfg: BenchConfig, names: list[str], log: Callable[[str], None] = print) -> list[Row]:
    """Run the named groups in order; a group that crashes becomes one error row."""
    rows: list[Row] = []
    for name in names:
        t0 = time.perf_counter()
        log(f"[bench] {name} ...")
        try:
            module = importlib.import_module(GROUPS[name])
            got = module.run(cfg)
        except Exception as exc:  # a broken group must not hide the other figures
            traceback.print_exc(file=sys.stderr)
            got = [
                Row(
                    f"{name}/error",
                    f"{name} benchmarks",
                    "",
                    "<=",
                    0.0,
                    status=f"error: {type(exc).__name__}: {exc}",
                )
            ]
        rows.extend(got)
        log(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s")
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (fewer, shorter rounds)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON to FILE")
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write the table as Markdown to FILE"
    )
    parser.add_argument(
        "--only", metavar="GROUP[,GROUP]", help=f"run only these groups: {', '.join(GROUPS)}"
    )
    args = parser.parse_args(argv)
    names = list(GROUPS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in GROUPS]
        if unknown:
            parser.exit(
                2, f"bench: error: --only: {unknown[0]!r} is not one of {', '.join(GROUPS)}\n"
            )
    # The output files are written as every file a user names is (in place, as tee
    # would): checked now, so a path that cannot be written fails before the run.
    from bp_tui.tui.errors import CliError
    from bp_tui.tui.output_file import check_output_path, write_file

    try:
        for option, path in (("--json", args.json), ("--markdown", args.markdown)):
            if path is not None:
                check_output_path(path, option)
    except CliError as exc:
        parser.exit(2, f"bench: error: {exc}\n")
    cfg = BenchConfig.quick() if args.quick else BenchConfig.full()
    info = machine_info()
    print(describe(info), flush=True)
    t0 = time.time()
    rows = run_groups(cfg, names, log=lambda s: print(s, file=sys.stderr, flush=True))
    print()
    print(format_table(rows))
    print("\nRatios: each side measured in alternating blocks within this run, medians shown.")
    try:
        if args.json:
            meta = {"quick": args.quick, "started": t0, "seconds": round(time.time() - t0, 1)}
            write_file(args.json, "--json", format_json(info, rows, meta))
            print(f"wrote {args.json}")
        if args.markdown:
            text = f"{describe(info)}\n\n{format_markdown(rows)}\n"
            write_file(args.markdown, "--markdown", text)
            print(f"wrote {args.markdown}")
    except CliError as exc:  # checked before the run, but e.g. the disk filled up since
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
