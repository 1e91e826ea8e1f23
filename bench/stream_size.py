"""Bytes per step event in the file ``bp-tui run SCENARIO --out FILE`` writes.

Figure ``stream/bytes_per_step``: the mean length of the step lines (newline included)
of a whole ``healthy`` run, the 3-layer network ``[2, 64, 64, 1]``, written by the
command itself (``headless.run`` in-process, as the ``command`` group runs it). Target:
at most 300 bytes. Stream version 2 writes every key on every step line and floats as
Python's shortest round-trip ``repr`` (up to 17 significant digits: reading a line back
gives every value exactly), and boundary probes on some steps; the note gives the
median line and the probe lines' share. A smaller line needs a new stream version
(other programs read version 2), which this project has not made.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import tempfile

from bench.config import BenchConfig
from bench.report import Row

TARGET = 300.0
SCENARIO = "healthy"


def step_line_sizes(path: str) -> tuple[list[int], list[int]]:
    """Bytes of each step line, newline included: (all of them, those without a
    decision-boundary probe)."""
    sizes, plain = [], []
    with open(path, "rb") as f:
        for line in f:
            event = json.loads(line)
            if event.get("type") == "step":
                sizes.append(len(line))
                if "boundary" not in event:
                    plain.append(len(line))
    return sizes, plain


def run(cfg: BenchConfig) -> list[Row]:
    from bp_tui.scenarios import load
    from bp_tui.tui.commands.headless import StopRequest
    from bp_tui.tui.commands.headless import run as run_command

    scenario = load(SCENARIO)
    if cfg.tiny:
        scenario = scenario.with_(steps=20)
    with tempfile.TemporaryDirectory(prefix="bp-bench-") as folder:
        path = os.path.join(folder, "run.jsonl")
        out = io.StringIO()
        run_command(scenario, jsonl=False, out=path, stdout=out, stderr=out, stop=StopRequest())
        sizes, plain = step_line_sizes(path)
    probes = len(sizes) - len(plain)
    return [
        Row(
            "stream/bytes_per_step",
            f"bytes per step event, 3-layer net ({SCENARIO})",
            "B",
            "<=",
            TARGET,
            value=sum(sizes) / len(sizes),
            absolute=f"median {statistics.median(sizes):.0f} B; without the {probes} "
            f"probe lines (decision boundary) {statistics.mean(plain or sizes):.0f} B",
            note=f"{len(sizes)} steps, stream version 2: every key on every line, floats "
            "exact on a round trip (shortest repr)",
        )
    ]
