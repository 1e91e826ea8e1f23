"""Rows of the benchmark table: a figure, its measured value, its target, whether met.

Every benchmark returns ``Row`` objects. A row that could not be measured (PyTorch not
installed, the app not importable, a child that failed) keeps its target and says why
in ``status`` instead of a value, so the table always has every figure.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One figure of the performance table.

    ``value`` is compared with ``target`` by ``op`` (``"<="`` or ``">="``); ``absolute``
    holds the raw times beside the ratio (for reading only, never compared).
    """

    key: str  # stable id, e.g. "torch_ratio/healthy"
    figure: str  # what is measured, for people
    unit: str  # "x", "ms", "%", "KB/s", "s", "MB"
    op: str  # "<=" or ">="
    target: float
    value: float | None = None
    absolute: str = ""  # e.g. "numpy 85 us/step, torch 310 us/step"
    status: str = "ok"  # "ok", or why there is no value ("torch not installed")
    note: str = ""
    samples: list[float] = field(default_factory=list)  # the repeated measurements

    @property
    def met(self) -> bool | None:
        """True/False when measured, None when not (status says why)."""
        if self.value is None or not math.isfinite(self.value):
            return None
        return self.value <= self.target if self.op == "<=" else self.value >= self.target

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["met"] = self.met
        return d


def unavailable(key: str, figure: str, unit: str, op: str, target: float, why: str) -> Row:
    """A row whose figure could not be measured in this run."""
    return Row(key, figure, unit, op, target, status=why)


def _fmt(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:.0f} {unit}"
    return f"{value:.3g} {unit}"


def format_table(rows: list[Row]) -> str:
    """A plain-text table: figure | measured | target | met | absolute / note."""
    header = ("figure", "measured", "target", "met", "absolute (median) / note")
    body = []
    for r in rows:
        met = {True: "yes", False: "NO", None: "n/a"}[r.met]
        tail = r.absolute if r.status == "ok" else r.status
        if r.note:
            tail = f"{tail}; {r.note}" if tail else r.note
        body.append(
            (r.figure, _fmt(r.value, r.unit), f"{r.op} {_fmt(r.target, r.unit)}", met, tail)
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]
    out = []
    for i, line in enumerate([header, *body]):
        out.append(
            " | ".join(c.ljust(w) for c, w in zip(line[:4], widths, strict=True)) + " | " + line[4]
        )
        if i == 0:
            out.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 24)
    return "\n".join(out)


def format_markdown(rows: list[Row]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    out = [
        "| figure | measured | target | met | absolute (median) / note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "n/a"}[r.met]
        tail = r.absolute if r.status == "ok" else r.status
        if r.note:
            tail = f"{tail}; {r.note}" if tail else r.note
        target = f"{r.op} {_fmt(r.target, r.unit)}"
        out.append(f"| {r.figure} | {_fmt(r.value, r.unit)} | {target} | {met} | {tail} |")
    return "\n".join(out)


def format_json(machine: dict[str, Any], rows: list[Row], meta: dict[str, Any]) -> str:
    """The run as a JSON document (machine, meta, rows) on one line: the file is written
    in whole lines (``tui.output_file``), so a failed write leaves nothing, never half a
    document."""
    doc = {"machine": machine, **meta, "rows": [r.to_dict() for r in rows]}
    return json.dumps(doc, allow_nan=False, default=_json_default) + "\n"


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    raise TypeError(f"not JSON-able: {type(o).__name__}")


def ratio_row(
    key: str,
    figure: str,
    op: str,
    target: float,
    samples: dict[str, list[float]],
    num: str,
    den: str,
    note: str = "",
    per: str = "",
) -> Row:
    """A ratio row from interleaved per-call times: median of ``num[i] / den[i]``.

    ``samples`` is ``timing.interleave``'s result; the absolute column shows both
    sides' median times (``per`` appended, e.g. ``"/step"``).
    """
    from bench.timing import fmt_time, median, ratio_samples

    ratios = ratio_samples(samples[num], samples[den])
    absolute = ", ".join(f"{side} {fmt_time(median(samples[side]))}{per}" for side in samples)
    return Row(
        key,
        figure,
        "x",
        op,
        target,
        value=median(ratios),
        samples=ratios,
        absolute=absolute,
        note=note,
    )
