"""``bp-tui doctor FILE``: name the pathology of a recorded run (rules in core/doctor.py).

Prints a short report, or with ``--json`` one JSON object. Exit status: 0 healthy (warnings
may be printed), 1 at least one pathology, 2 bad input (one line on stderr). A damaged
file (a garbage or truncated line) is diagnosed up to the fault, and the report says
where the fault is.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bp_tui.core.doctor import PATHOLOGY, Finding, diagnose, pathologies
from bp_tui.core.safe_text import safe_text
from bp_tui.core.stream import StreamError, read_stream
from bp_tui.tui.commands.args import CliParser
from bp_tui.tui.errors import PROG


def _parse(argv: list[str]) -> argparse.Namespace:
    p = CliParser(
        prog=f"{PROG} doctor",
        description="Diagnose a recorded event stream: vanishing or exploding gradients, "
        "dying or saturated units, non-finite values, clipping on most steps, update "
        "ratios far from 1e-3. Exit status 0 healthy, 1 pathology, 2 bad input.",
    )
    p.add_argument("file", metavar="FILE", help="event stream (JSON Lines)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return p.parse_args(argv)


def run_doctor(argv: list[str], stdout: TextIO | None = None) -> int:
    """The ``bp-tui doctor`` command; returns the exit status."""
    out = stdout or sys.stdout
    args = _parse(argv)
    contents = read_stream(args.file)
    if not contents.events:
        raise contents.error or StreamError(args.file, None, "no step events, allowed 1 or more")
    findings = diagnose(contents.run, contents.events, contents.end)
    fault = str(contents.error) if contents.error else None
    report = {
        "file": args.file,
        "steps": len(contents.events),
        "first_step": contents.events[0]["step"],
        "last_step": contents.events[-1]["step"],
        "end": (contents.end or {}).get("reason"),
        "fault": fault,
        "healthy": not pathologies(findings),
        "pathologies": pathologies(findings),
        "findings": [f.to_dict() for f in findings],
    }
    if args.json:
        out.write(json.dumps(report) + "\n")
    else:
        out.write(_text(report, findings))
    return 1 if pathologies(findings) else 0


def _text(report: dict[str, Any], findings: list[Finding]) -> str:
    end = report["end"] or "no end event"
    lines = [
        safe_text(
            f"{report['file']}: steps {report['first_step']}-{report['last_step']} "
            f"({report['steps']} recorded), {end}"
        )
    ]
    if report["fault"]:
        lines.append(safe_text(f"damaged: {report['fault']}; diagnosed up to the fault"))
    for f in findings:
        where = f" from step {f.step}" if f.step is not None else ""
        lines.append(safe_text(f"{f.severity.upper()} {f.rule}{where}: {f.message}"))
        lines.append(safe_text(f"  try: {f.advice}"))
    n = len(report["pathologies"])
    if n:
        lines.append(
            f"verdict: {n} patholog{'y' if n == 1 else 'ies'} ({', '.join(report['pathologies'])})"
        )
    else:
        warned = sum(f.severity != PATHOLOGY for f in findings)
        lines.append(
            "verdict: healthy" + (f" ({warned} warning{'s' * (warned != 1)})" if warned else "")
        )
    return "\n".join(lines) + "\n"
