"""Claims: the sentences of a lesson, as statements a finished run's events can check.

A scenario file's ``[claims]`` table (and ``[fix.claims]`` for the fixed run) holds
entries like ``dead_fraction_end = [">", 0.5]``. The key names a quantity, the value
how it compares. ``check(claims, events)`` evaluates them on the event dicts of one
run (``run``, ``step``..., ``end``, as the stream carries them), with NumPy only, so
that a test, ``bp-tui`` or any reader of a recording gets the same verdict.

Keys are ``METRIC_SELECTOR`` for a quantity measured on every step, or one of the
run-level names below.

Per-step metrics (``None`` where a step has no data, e.g. before the first probe):

- ``loss``: the step's minibatch loss; ``accuracy``: full-data accuracy (latest probe);
  ``lr``: the learning rate the step used; ``global_grad_norm``: ||g|| before clipping.
- ``dead_fraction``: dead hidden ReLU-family units / all such units (latest probe).
- ``saturation``: the largest saturated fraction of any hidden layer;
  ``saturation_L1``: the first hidden layer's.
- ``grad_ratio_first_last``: ||dW|| of the first layer / ||dW|| of the output layer.
- ``grad_factor_per_layer``: the factor by which ||dW|| changes from one hidden layer
  to the one below it, geometric mean over the hidden layers,
  ``(||dW_1|| / ||dW_H||) ** (1 / (H - 1))``: below 1 it shrinks towards the input.
- ``bias_grad_factor_per_layer``: the same for ||db|| (the error signal's sum over
  the batch).
- ``grad_norm``: the largest ||dW|| of any layer (0: no weight gets any gradient).
- ``update_ratio``: the largest ||delta W|| / ||W|| of any layer this step.

Selectors: ``at_stepN`` (the value at step N), ``end`` (the last step), ``min`` and
``max`` (over the run, ignoring steps with no data), ``min_from_stepN`` and
``max_from_stepN`` (over steps N and later).

Run-level: ``diverges`` (bool: the run ended non-finite), ``diverged_at_step`` (the
first non-finite step), ``loss_fall`` (how much lower the mean loss of the last 20
steps is than that of the first 20, as a fraction of the latter), ``loss_last20`` (the
mean loss of the last 20 steps), ``clipped_fraction`` (clipped steps / steps),
``grad_growth`` (the largest finite ||g|| / ||g|| at step 1).

Comparisons: ``["<", x]``, ``["<=", x]``, ``[">", x]``, ``[">=", x]``, ``["==", x]``,
``["between", lo, hi]`` (inclusive); ``diverges = true`` / ``false``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bp_tui.core.config import Claim

Event = dict[str, Any]
K = 20  # steps averaged at each end of the run for loss_fall and loss_last20
OPS = ("<", "<=", ">", ">=", "==", "between")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b:
        return None
    return a / b


def _hidden(values: Sequence[Any]) -> list[Any]:
    return list(values[:-1])  # the last layer is the linear output layer


def _factor(norms: Sequence[float | None]) -> float | None:
    hidden = _hidden(norms)
    if len(hidden) < 2 or hidden[0] is None or not hidden[-1]:
        return None
    return (hidden[0] / hidden[-1]) ** (1.0 / (len(hidden) - 1))


def _dead_fraction(e: Event, widths: Sequence[int]) -> float | None:
    pairs = [(d, w) for d, w in zip(e.get("dead") or [], widths, strict=False) if d is not None]
    if not pairs:
        return None
    return sum(d for d, _ in pairs) / sum(w for _, w in pairs)


def _largest(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _first(values: Sequence[Any] | None) -> Any:
    return values[0] if values else None


# metric name -> (step event, hidden widths) -> value
STEP_METRICS: dict[str, Callable[[Event, Sequence[int]], float | None]] = {
    "loss": lambda e, w: e.get("loss"),
    "accuracy": lambda e, w: e.get("accuracy"),
    "lr": lambda e, w: e.get("lr"),
    "global_grad_norm": lambda e, w: e.get("global_grad_norm"),
    "dead_fraction": _dead_fraction,
    "saturation": lambda e, w: _largest(e.get("saturated") or []),
    "saturation_L1": lambda e, w: _first(e.get("saturated")),
    "grad_ratio_first_last": lambda e, w: _ratio(
        _first(e.get("grad_norm")), (e.get("grad_norm") or [None])[-1]
    ),
    "grad_factor_per_layer": lambda e, w: _factor(e.get("grad_norm") or []),
    "bias_grad_factor_per_layer": lambda e, w: _factor(e.get("bias_grad_norm") or []),
    "grad_norm": lambda e, w: _largest(e.get("grad_norm") or []),
    "update_ratio": lambda e, w: _largest(e.get("update_ratio") or []),
}
SELECTOR = re.compile(r"_(at_step(?P<at>\d+)|end|(?P<agg>min|max)(_from_step(?P<from>\d+))?)$")
RUN_METRICS = (
    "diverges",
    "diverged_at_step",
    "loss_fall",
    "loss_last20",
    "clipped_fraction",
    "grad_growth",
)
BOOLEAN_METRICS = ("diverges",)
EXAMPLES = (
    "dead_fraction_end",
    "dead_fraction_at_step1",
    "dead_fraction_min_from_step20",
    "grad_ratio_first_last_at_step1",
    "saturation_L1_max",
)


def metric_names() -> list[str]:
    """Every metric and selector form, for error messages and suggestions."""
    return [*RUN_METRICS, *(f"{m}_{s}" for m in STEP_METRICS for s in ("end", "min", "max"))]


def parse_key(key: str) -> tuple[str, str, int | None] | None:
    """``(metric, selector, step)`` for a claim key, or None if it is not one.

    ``selector`` is ``run`` (run-level), ``at``, ``end``, ``min`` or ``max``; ``step`` the
    N of ``at_stepN`` / ``*_from_stepN`` (None otherwise).
    """
    if key in RUN_METRICS:
        return key, "run", None
    m = SELECTOR.search(key)
    if not m or key[: m.start()] not in STEP_METRICS:
        return None
    metric = key[: m.start()]
    if m["at"] is not None:
        return metric, "at", int(m["at"])
    if m["agg"] is not None:
        return metric, m["agg"], int(m["from"]) if m["from"] is not None else None
    return metric, "end", None


@dataclass(frozen=True)
class Verdict:
    """One claim checked: ``text`` as written, the measured ``actual`` (None: no data)."""

    claim: Claim
    actual: float | bool | None
    holds: bool

    @property
    def text(self) -> str:
        return describe(self.claim)


def describe(c: Claim) -> str:
    """The claim as one line, e.g. ``dead_fraction_end > 0.5``."""
    if c.op == "between":
        return f"{c.metric} between {c.value:g} and {c.high:g}"
    if isinstance(c.value, bool):
        return f"{c.metric} = {'true' if c.value else 'false'}"
    return f"{c.metric} {c.op} {c.value:g}"


def compare(c: Claim, x: float | bool | None) -> bool:
    """Whether the measured ``x`` satisfies ``c``; no data or NaN never does."""
    if x is None:
        return False
    if isinstance(c.value, bool):
        return bool(x) is c.value
    x = float(x)
    if math.isnan(x):
        return False
    if c.op == "between":
        return c.value <= x <= (c.high if c.high is not None else math.nan)
    return {
        "<": x < c.value,
        "<=": x <= c.value,
        ">": x > c.value,
        ">=": x >= c.value,
        "==": x == c.value,
    }[c.op]


def _step_value(steps: list[Event], widths: Sequence[int], key: str) -> float | None:
    parsed = parse_key(key)
    if parsed is None:
        raise ValueError(f"unknown claim {key!r}")
    metric, selector, n = parsed
    fn = STEP_METRICS[metric]
    if selector == "at":
        hits = [e for e in steps if e.get("step") == n]
        return fn(hits[0], widths) if hits else None
    if selector == "end":
        return fn(steps[-1], widths) if steps else None
    start = n or 0
    values = [fn(e, widths) for e in steps if e.get("step", 0) >= start]
    finite = np.array([v for v in values if v is not None], dtype=float)
    finite = finite[~np.isnan(finite)]
    if finite.size == 0:
        return None
    return float(finite.min() if selector == "min" else finite.max())


def _run_value(steps: list[Event], end: Event | None, metric: str) -> float | bool | None:
    if metric == "diverges":
        reason = end.get("reason") if end else None
        return reason == "diverged" or any(e.get("finite") is False for e in steps)
    if metric == "diverged_at_step":
        bad = [e["step"] for e in steps if e.get("finite") is False]
        return float(bad[0]) if bad else None
    if not steps:
        return None
    if metric in ("loss_fall", "loss_last20"):
        losses = np.array([_num(e.get("loss")) for e in steps], dtype=float)
        k = min(K, len(losses))
        first, last = float(np.mean(losses[:k])), float(np.mean(losses[-k:]))
        return last if metric == "loss_last20" else (first - last) / first
    if metric == "clipped_fraction":
        return sum(bool(e.get("clipped")) for e in steps) / len(steps)
    if metric == "grad_growth":
        norms = np.array([_num(e.get("global_grad_norm")) for e in steps], dtype=float)
        finite = norms[np.isfinite(norms)]
        return float(finite.max() / norms[0]) if finite.size and norms[0] > 0 else None
    raise ValueError(f"unknown claim {metric!r}")


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def measure(key: str, events: Sequence[Event]) -> float | bool | None:
    """The value of claim key ``key`` on one run's events (None: no data for it)."""
    run = next((e for e in events if e.get("type") == "run"), {})
    end = next((e for e in events if e.get("type") == "end"), None)
    steps = [e for e in events if e.get("type") == "step"]
    widths = [layer.get("fan_out", 0) for layer in run.get("layers", [])]
    if key in RUN_METRICS:
        return _run_value(steps, end, key)
    return _step_value(steps, widths, key)


def check(claims: Iterable[Claim], events: Sequence[Event]) -> list[Verdict]:
    """Each claim measured on ``events`` (one finished run) and compared."""
    verdicts = []
    for c in claims:
        actual = measure(c.metric, events)
        verdicts.append(Verdict(c, actual, compare(c, actual)))
    return verdicts
