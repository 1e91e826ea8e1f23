"""Name the pathology of a recorded run: which rule, from which step, in which layers.

``diagnose(run, events)`` turns a stream's run event and step events into a list of
``Finding`` s; ``Trace`` is the table the rules read (one row per step, or per bucket of
a ``History`` for the dashboard's pane), so a live view and ``bp-tui doctor`` apply the
same rules. NumPy only.

Every rule uses the finite steps only (a diverged step's numbers say nothing more than
"non-finite", which is its own rule). Thresholds, and where they come from:

- vanishing: the first layer's gradient is below 10^-3 of the last layer's on the median
  step (``VANISH_DECADES``). Glorot & Bengio (2010) show the back-propagated gradient of
  sigmoid nets shrinking towards the input; the figure is ours: the built-in
  ``vanishing`` (10 sigmoid layers) sits at 10^-5.4..10^-5.9 (seeds 0-5), every other
  built-in and every fix at 10^-1.1..10^0.1. Uses ``error_signal``
  (||dL/dz||, stream version 2) when the stream has it, else ``grad_norm``; a gradient
  of exactly 0 is not "small" (it is dead units, their own rule) and is left out.
- exploding: the gradient grows >= 10^3 towards the input on the median step, or the
  global gradient norm reaches >= 10^3 times its first value (``EXPLODE_DECADES``) and
  stays there or the run goes non-finite; one that comes back down is a
  ``gradient-spike`` warning.
  Pascanu et al. (2013) define exploding gradients as this growth; the figure is ours:
  the built-in ``exploding`` grows by 10^82..10^222 within 7 steps (seeds 0-5), the
  largest growth of any other built-in or fix is 10^1.8 (``vanishing --fix``).
- dying units: >= 50% of all hidden ReLU units dead, or >= 90% of one layer's
  (``DEAD_NETWORK``, ``DEAD_LAYER``), at the last finite step. Lu et al. (2019, "Dying
  ReLU and initialization") show a network with a fully dead layer cannot train; the
  figures are ours: ``dying-relu`` 82-90% (one layer 100%), ``exploding`` at init at
  most 40% (one layer 59%), every healthy run and fix at most 24%. Units dying during
  training count too: up >= 20 points since the first step to >= 30% (``DEAD_RISE``,
  ``DEAD_RISE_FLOOR``; the retuned ``dying-relu`` goes from 4-21% to 60-83%, the
  ``lr-spike`` scenario from <= 15% to > 40%; no healthy run or fix rises by more
  than 8 points). The message says "rising" when the fraction grew by >= 10 points.
- saturation: >= 50% of a sigmoid/tanh layer's outputs within 0.03 of their bounds
  (where f' < 0.06) at the last finite step (``SATURATED``; ours: the team's
  ``saturation`` scenario has > 90% in its first layer, its fix <= 5%). A vanishing
  gradient in saturated layers only is reported as the saturation's effect, not twice.
- clipping (a warning): clipping changed more than half of the steps: the threshold is
  then a fixed step size (``CLIP_MOST``; the built-in ``exploding --fix`` clips 100%).
- update ratio (a warning): a layer's median ||dW|| / ||W|| outside [1e-6, 1e-1]. The
  rule of thumb is ~1e-3 (Karpathy, CS231n notes, "ratio of weights:updates"); the
  built-in healthy runs and fixes have per-layer medians in 1.3e-5..9.4e-3.
- non-finite: the first step marked ``finite: false``, and the first layer whose gradient
  is missing on it.

Warnings are reported but are not pathologies: ``bp-tui doctor`` exits 1 only for a
pathology.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bp_tui.core.safe_text import safe_text

VANISH_DECADES = 3.0
EXPLODE_DECADES = 3.0
DEAD_NETWORK = 0.5
DEAD_LAYER = 0.9
DEAD_RISING = 0.10  # "rising" in the message
DEAD_RISE = 0.20  # dying also when up this much since the first step...
DEAD_RISE_FLOOR = 0.30  # ...to at least this
SATURATED = 0.5
CLIP_MOST = 0.5
UPDATE_RATIO_BAND = (1e-6, 1e-1)

PATHOLOGY = "pathology"
WARNING = "warning"

# Per-layer keys the rules read (``error_signal`` is stream version 2).
TRACE_LAYER_KEYS = ("grad_norm", "error_signal", "update_ratio", "dead", "saturated")
TRACE_SCALAR_KEYS = ("loss", "global_grad_norm", "clip_steps")


@dataclass
class Finding:
    """One diagnosis: ``rule`` (pathologies ``vanishing``, ``exploding``, ``dying``,
    ``saturation``, ``non-finite``; warnings ``gradient-spike``, ``clipping``,
    ``update-ratio``), its severity, the first step where it shows, the layers (names)
    it concerns, what was measured and what to try."""

    rule: str
    severity: str
    step: int | None
    layers: list[str]
    message: str
    advice: str
    value: float | None = None  # the measured figure the threshold is compared with
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("value", "threshold"):
            v = out[key]
            out[key] = v if v is None or math.isfinite(v) else None
        return out


@dataclass
class Trace:
    """What the rules read: ``steps`` (n,), ``finite`` (n,) bool, ``scalars[key]`` (n,)
    and ``layers[key]`` (n, L) float64 arrays, NaN for no data; ``names`` (L,) layer
    names and ``fan_out`` (L,) widths (NaN when unknown), ``activations`` (L,)."""

    steps: np.ndarray
    finite: np.ndarray
    names: list[str]
    fan_out: np.ndarray
    activations: list[str | None]
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    end_reason: str | None = None

    @property
    def n_layers(self) -> int:
        return len(self.names)


def _number(v: Any) -> float:
    if v is None or isinstance(v, bool):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _layer_meta(
    run: dict[str, Any] | None, n_layers: int
) -> tuple[list[str], np.ndarray, list[str | None]]:
    specs = list((run or {}).get("layers") or [])
    specs += [{}] * (n_layers - len(specs))
    # findings reach a terminal: names shown as every string from a file is shown
    names = [safe_text(str(s.get("name") or f"L{i + 1}")) for i, s in enumerate(specs)]
    fan_out = np.array([_number(s.get("fan_out")) for s in specs], dtype=float)
    acts = [s.get("activation") if isinstance(s.get("activation"), str) else None for s in specs]
    return names, fan_out.reshape(len(specs)), acts


def trace_from_events(
    run: dict[str, Any] | None, events: Sequence[dict[str, Any]], end: dict[str, Any] | None
) -> Trace:
    """The trace of a stream's step events (all of them, one row each)."""
    n_layers = len((run or {}).get("layers") or [])
    for ev in events:
        for key in TRACE_LAYER_KEYS:
            value = ev.get(key)
            if isinstance(value, list):
                n_layers = max(n_layers, len(value))
    names, fan_out, acts = _layer_meta(run, n_layers)
    n = len(events)
    trace = Trace(
        steps=np.array([ev.get("step", 0) for ev in events], dtype=float).reshape(n),
        finite=np.array([ev.get("finite") is not False for ev in events], dtype=bool).reshape(n),
        names=names,
        fan_out=fan_out,
        activations=acts,
        end_reason=(end or {}).get("reason"),
    )
    for key in TRACE_SCALAR_KEYS:
        trace.scalars[key] = np.array([_number(ev.get(key)) for ev in events]).reshape(n)
    for key in TRACE_LAYER_KEYS:
        table = np.full((n, n_layers), np.nan)
        for row, ev in enumerate(events):
            value = ev.get(key)
            if isinstance(value, list):
                table[row, : len(value)] = [_number(v) for v in value]
        trace.layers[key] = table
    return trace


def trace_from_history(history: Any, run: dict[str, Any] | None, width: int = 512) -> Trace:
    """The trace of a ``tui.history.History``: one row per bucket (its last value, at
    the bucket's first step), so the rules see the whole run however long, at the
    resolution the plots draw."""
    n_layers = history.n_layers
    names, fan_out, acts = _layer_meta(run, n_layers)
    loss = history.series("loss", width=width)
    n = len(loss)
    # a bucket stands for its first step: a finding "from step N" then holds from the
    # bucket that contains step N (the plots place a bucket at its last step instead)
    starts = loss.steps.copy()
    if n:
        starts[1:] = loss.steps[:-1] + 1
        starts[0] = history.first_step if history.first_step is not None else starts[0]
    trace = Trace(
        steps=starts,
        finite=~loss.nonfinite,
        names=names[:n_layers] if n_layers else names,
        fan_out=fan_out[:n_layers] if n_layers else fan_out,
        activations=acts[:n_layers] if n_layers else acts,
    )
    for key in TRACE_SCALAR_KEYS:
        trace.scalars[key] = _history_column(history, key, None, width, n)
    for key in TRACE_LAYER_KEYS:
        columns = [_history_column(history, key, i, width, n) for i in range(trace.n_layers)]
        trace.layers[key] = np.stack(columns, axis=1) if columns else np.full((n, 0), np.nan)
    return trace


def _history_column(history: Any, key: str, layer: int | None, width: int, n: int) -> np.ndarray:
    try:
        s = history.series(key, layer=layer, width=width)
    except (KeyError, ValueError, IndexError):  # a key this History does not keep
        return np.full(n, np.nan)
    return s.last if len(s) == n else np.full(n, np.nan)


# -- the rules ----------------------------------------------------------------------


def _layer_list(names: Sequence[str]) -> str:
    if len(names) > 3:
        return f"{names[0]}..{names[-1]} ({len(names)} layers)"
    return ", ".join(names)


def _non_finite(trace: Trace) -> list[Finding]:
    bad = ~trace.finite
    if not bad.any():
        if trace.end_reason == "diverged":
            return [
                Finding("non-finite", PATHOLOGY, None, [], "the run ended as diverged", _ADVICE_NAN)
            ]
        return []
    row = int(np.flatnonzero(bad)[0])
    layer = []
    for key in ("grad_norm", "error_signal"):
        values = trace.layers[key][row]
        missing = np.flatnonzero(np.isnan(values))
        if len(missing) and not np.isnan(values).all():
            layer = [trace.names[int(missing[0])]]
            break
    where = f"first in {layer[0]}" if layer else "in the loss or every layer"
    n_bad = int(bad.sum())
    message = (
        f"non-finite values (NaN or inf) at step {int(trace.steps[row])}, {where}; "
        f"{n_bad} non-finite step{'s' if n_bad != 1 else ''}"
    )
    return [Finding("non-finite", PATHOLOGY, int(trace.steps[row]), layer, message, _ADVICE_NAN)]


def _flow_signal(trace: Trace) -> tuple[str, np.ndarray]:
    """``error_signal`` when the stream has it, else ``grad_norm``: (key, (n, L))."""
    es = trace.layers["error_signal"][trace.finite]
    if trace.n_layers >= 2 and np.isfinite(es).any():
        return "error_signal", es
    return "grad_norm", trace.layers["grad_norm"][trace.finite]


def _decades_to_last(values: np.ndarray) -> np.ndarray:
    """log10(layer / last layer) per row and layer, NaN where either is 0 or missing."""
    with np.errstate(all="ignore"):
        positive = np.where(values > 0, values, np.nan)
        return np.log10(positive / positive[:, -1:])


def _gradient_flow(trace: Trace) -> list[Finding]:
    if trace.n_layers < 2:
        return []
    key, values = _flow_signal(trace)
    decades = _decades_to_last(values)
    steps = trace.steps[trace.finite]
    with np.errstate(all="ignore"):
        first = decades[:, 0]
        if not np.isfinite(first).any():
            return []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN layers: no data
            median = np.nanmedian(decades, axis=0)
    what = "error signal ||dL/dz||" if key == "error_signal" else "weight gradient ||dW||"
    findings = []
    m0 = float(np.nanmedian(first))
    if m0 <= -VANISH_DECADES:
        layers = [trace.names[i] for i in range(trace.n_layers - 1) if median[i] <= -VANISH_DECADES]
        findings.append(
            Finding(
                "vanishing",
                PATHOLOGY,
                _first_step_in(steps, first <= -VANISH_DECADES),
                layers,
                f"vanishing gradients in {_layer_list(layers)}: the first layer's {what} is "
                f"10^{m0:.1f} of the last layer's (median step; threshold "
                f"10^-{VANISH_DECADES:g})",
                _ADVICE_VANISH,
                m0,
                -VANISH_DECADES,
            )
        )
    elif m0 >= EXPLODE_DECADES:
        layers = [trace.names[i] for i in range(trace.n_layers - 1) if median[i] >= EXPLODE_DECADES]
        findings.append(
            Finding(
                "exploding",
                PATHOLOGY,
                _first_step_in(steps, first >= EXPLODE_DECADES),
                layers,
                f"exploding gradients towards the input: the first layer's {what} is "
                f"10^{m0:.1f} of the last layer's (median step; threshold 10^{EXPLODE_DECADES:g})",
                _ADVICE_EXPLODE,
                m0,
                EXPLODE_DECADES,
            )
        )
    return findings


def _first_step_in(steps: np.ndarray, mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(steps[hits[0]]) if len(hits) else None


def _growth(trace: Trace) -> list[Finding]:
    g = trace.scalars["global_grad_norm"][trace.finite]
    steps = trace.steps[trace.finite]
    ok = np.isfinite(g) & (g > 0)
    if ok.sum() < 2:
        return []
    g, steps = g[ok], steps[ok]
    with np.errstate(all="ignore"):
        decades = np.log10(g / g[0])
    peak = float(decades.max())
    if peak < EXPLODE_DECADES:
        return []
    step = _first_step_in(steps, decades >= EXPLODE_DECADES)
    growth = (
        f"the global gradient norm grew to 10^{peak:.1f} times its value at step {int(steps[0])}"
    )
    # A norm that stays up, or a run that went non-finite, exploded; one that came back
    # down had a spike (a learning rate too high for a few steps, say): a warning.
    diverged = not trace.finite.all() or trace.end_reason == "diverged"
    if decades[-1] >= EXPLODE_DECADES or diverged:
        return [
            Finding(
                "exploding",
                PATHOLOGY,
                step,
                [],
                f"exploding gradients: {growth} (threshold 10^{EXPLODE_DECADES:g})",
                _ADVICE_EXPLODE,
                peak,
                EXPLODE_DECADES,
            )
        ]
    return [
        Finding(
            "gradient-spike",
            WARNING,
            step,
            [],
            f"gradient spike: {growth} (threshold 10^{EXPLODE_DECADES:g}), then came back to "
            f"10^{float(decades[-1]):.1f}",
            _ADVICE_SPIKE,
            peak,
            EXPLODE_DECADES,
        )
    ]


def _dead_table(trace: Trace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per finite row: ``fractions`` (n, L) dead per layer (NaN: not counted), the
    ``network`` fraction of all counted units (n,), the ``worst`` layer's (n,), and
    whether the row has counts at all (n,) bool."""
    with np.errstate(all="ignore"):
        fractions = trace.layers["dead"][trace.finite] / trace.fan_out
    counted = np.isfinite(fractions)
    widths = np.where(counted, trace.fan_out, 0.0)
    total = widths.sum(axis=1)
    with np.errstate(all="ignore"):
        network = (np.where(counted, fractions, 0.0) * widths).sum(axis=1) / total
    worst = np.where(counted, fractions, -1.0).max(axis=1, initial=-1.0)
    return fractions, network, worst, total > 0


def _dying(trace: Trace) -> list[Finding]:
    fractions, network, worst, has = _dead_table(trace)
    rows = np.flatnonzero(has)
    if not len(rows):
        return []
    start = network[rows[0]]
    rising = (network - start >= DEAD_RISE) & (network >= DEAD_RISE_FLOOR)
    sick = has & ((network >= DEAD_NETWORK) | (worst >= DEAD_LAYER) | rising)
    last = rows[-1]
    if not sick[last]:
        return []
    now = fractions[last]
    shown = [i for i in range(trace.n_layers) if np.isfinite(now[i])]
    layers = [trace.names[i] for i in shown if now[i] >= DEAD_RISE_FLOOR]
    how = (
        f"rising: {100 * start:.0f}% at the first step"
        if network[last] - start >= DEAD_RISING
        else "dead from the first step on"
    )
    per_layer = ", ".join(f"{trace.names[i]} {100 * now[i]:.0f}%" for i in shown)
    return [
        Finding(
            "dying",
            PATHOLOGY,
            _first_step_in(trace.steps[trace.finite], sick),
            layers,
            f"dying units: {100 * network[last]:.0f}% of the hidden ReLU units are dead "
            f"({per_layer}); {how} (threshold {100 * DEAD_NETWORK:.0f}% of all, "
            f"{100 * DEAD_LAYER:.0f}% of one layer, or up {100 * DEAD_RISE:.0f} points "
            f"to {100 * DEAD_RISE_FLOOR:.0f}% or more)",
            _ADVICE_DYING,
            float(network[last]),
            DEAD_NETWORK,
        )
    ]


def _saturation(trace: Trace) -> list[Finding]:
    sat = trace.layers["saturated"][trace.finite]
    rows = np.flatnonzero(np.isfinite(sat).any(axis=1))
    if not len(rows):
        return []
    last = sat[rows[-1]]
    hit = [i for i in range(trace.n_layers) if np.isfinite(last[i]) and last[i] >= SATURATED]
    if not hit:
        return []
    over = np.nan_to_num(sat[:, hit], nan=0.0).max(axis=1) >= SATURATED
    return [
        Finding(
            "saturation",
            PATHOLOGY,
            _first_step_in(trace.steps[trace.finite], over),
            [trace.names[i] for i in hit],
            "saturated units: "
            + ", ".join(f"{trace.names[i]} {100 * last[i]:.0f}%" for i in hit)
            + f" of the outputs at the flat ends (threshold {100 * SATURATED:.0f}%)",
            _ADVICE_SATURATION,
            float(np.nanmax(last[hit])),
            SATURATED,
        )
    ]


def _clipping(trace: Trace) -> list[Finding]:
    clip = trace.scalars["clip_steps"]
    rows = np.flatnonzero(np.isfinite(clip))
    if not len(rows) or trace.steps[rows[-1]] <= 0:
        return []
    share = float(clip[rows[-1]] / trace.steps[rows[-1]])
    if share <= CLIP_MOST:
        return []
    return [
        Finding(
            "clipping",
            WARNING,
            _first_step_in(trace.steps, np.nan_to_num(clip) > 0),
            [],
            f"clipping fired on {100 * share:.0f}% of the steps (threshold {100 * CLIP_MOST:.0f}%)",
            _ADVICE_CLIP,
            share,
            CLIP_MOST,
        )
    ]


def _update_ratio(trace: Trace) -> list[Finding]:
    ratio = trace.layers["update_ratio"][trace.finite]
    if not np.isfinite(ratio).any():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(ratio, axis=0)
    low, high = UPDATE_RATIO_BAND
    findings = []
    for side, mask, advice in (
        ("below", median < low, _ADVICE_RATIO_LOW),
        ("above", median > high, _ADVICE_RATIO_HIGH),
    ):
        idx = [i for i in range(trace.n_layers) if mask[i]]
        if not idx:
            continue
        bound = low if side == "below" else high
        findings.append(
            Finding(
                "update-ratio",
                WARNING,
                None,
                [trace.names[i] for i in idx],
                "update ratio ||dW||/||W|| "
                + ", ".join(f"{trace.names[i]} {median[i]:.1e}" for i in idx)
                + f" (median step), {side} {bound:g}; about 1e-3 is typical",
                advice,
                float(median[idx[0]]),
                bound,
            )
        )
    return findings


RULES = (_gradient_flow, _growth, _dying, _saturation, _non_finite, _clipping, _update_ratio)


def diagnose_trace(trace: Trace) -> list[Finding]:
    """Every rule's findings, pathologies first; one ``exploding`` at most, and no
    ``vanishing`` in layers that are saturated (saturation is its cause: one finding)."""
    findings: list[Finding] = []
    for rule in RULES:
        for f in rule(trace):
            if f.rule == "exploding" and any(x.rule == "exploding" for x in findings):
                continue
            findings.append(f)
    by_rule = {f.rule: f for f in findings}
    vanishing, saturation = by_rule.get("vanishing"), by_rule.get("saturation")
    if vanishing and saturation and set(vanishing.layers) <= set(saturation.layers):
        findings.remove(vanishing)
        saturation.message += (
            f"; the gradient reaching them is 10^{vanishing.value:.1f} of the last layer's"
        )
    return sorted(findings, key=lambda f: f.severity != PATHOLOGY)


def diagnose(
    run: dict[str, Any] | None,
    events: Sequence[dict[str, Any]],
    end: dict[str, Any] | None = None,
) -> list[Finding]:
    """The findings on a stream's step events (see the module docstring)."""
    return diagnose_trace(trace_from_events(run, events, end))


def pathologies(findings: Sequence[Finding]) -> list[str]:
    """The rule names of the pathologies among ``findings``, each once, in order."""
    return list(dict.fromkeys(f.rule for f in findings if f.severity == PATHOLOGY))


_ADVICE_NAN = (
    "lower the learning rate, clip the gradient norm, check the data and the loss for NaN/inf"
)
_ADVICE_VANISH = (
    "use ReLU-family activations with He init (sigmoid's f' is at most 0.25 per layer), "
    "or add residual connections / normalisation"
)
_ADVICE_EXPLODE = "clip the global gradient norm, lower the learning rate, check the init scale"
_ADVICE_SPIKE = "lower the learning rate (or warm it up), or clip the global gradient norm"
_ADVICE_DYING = "lower the learning rate, start biases slightly positive, or use leaky ReLU / GELU"
_ADVICE_SATURATION = "standardise the inputs, use Xavier init, or a ReLU-family activation"
_ADVICE_CLIP = (
    "the threshold is too low or the learning rate too high: clipping every step "
    "turns SGD into a fixed step size"
)
_ADVICE_RATIO_LOW = "the layer barely changes: raise the learning rate or fix the gradient flow"
_ADVICE_RATIO_HIGH = "each step rewrites the weights: lower the learning rate"
