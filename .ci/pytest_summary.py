"""Check a pytest log: the run ended with its closing summary, and every test collected
was reported.

``python .ci/pytest_summary.py LOG`` exits 0 when it did, else 1 with one line saying
what is wrong. A test run whose process was replaced or killed mid-way (an ``execve``
in code under test once did this with exit status 0) has no closing summary line; a
run that lost tests on the way reports fewer than it collected.
"""

from __future__ import annotations

import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLLECTED = re.compile(r"^collected (\d+) items?(?: / (\d+) deselected)?")
# "==== 310 passed, 2 skipped, 1 warning in 81.2s (0:01:21) ===="
SUMMARY = re.compile(r"^=+ (.+) in [\d.]+s(?: \([\d:]+\))? =+$")
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error", "errors")


def check(log: str) -> str | None:
    """Why the log is not a complete run, or ``None`` when it is."""
    lines = [text for line in log.splitlines() if (text := ANSI.sub("", line).strip())]
    collected = [m for line in lines if (m := COLLECTED.match(line))]
    if not collected:
        return "no 'collected N items' line: pytest did not get as far as collecting"
    expected = int(collected[-1].group(1)) - int(collected[-1].group(2) or 0)
    summaries = [m for line in lines if (m := SUMMARY.match(line))]
    if not summaries:
        return "pytest's closing summary line is missing: the run stopped before its end"
    counts = dict.fromkeys(OUTCOMES, 0)
    for part in summaries[-1].group(1).split(", "):
        number, _, word = part.partition(" ")
        if word in counts and number.isdigit():
            counts[word] += int(number)
    reported = sum(counts.values())
    if reported < expected:
        return f"pytest collected {expected} tests but reported only {reported}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pytest_summary.py LOG", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8", errors="replace") as f:
        problem = check(f.read())
    if problem is not None:
        print(f"ci: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
