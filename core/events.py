"""The event stream: the contract between the training core and everything else.

One JSON object per line, strict JSON (RFC 8259: no ``NaN`` / ``Infinity`` literals).
Three kinds, told apart by ``"type"``: ``run`` (once, first), ``step`` (one per update)
and ``end`` (once, last). See ``docs/internals.md`` for the keys of each.

``encode`` is the only writer and ``decode`` the only reader of a line, so that a live
run, its recording and a foreign program's stream all go through the same rules:
non-finite numbers become ``null`` (the step says ``"finite": false``), NumPy scalars and
arrays become plain JSON numbers and lists, and the output is byte-identical for equal
input (insertion order of the keys, ``"type"`` first, compact separators).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EVENT_VERSION = 2
# 2 added the per-layer ``error_signal`` and ``fprime_mean``, and the optional probe-step
# ``boundary`` (readers that do not know a key ignore it). Readers accept this version
# and every older one: a version-1 stream lacks those keys, shown as "no data".
EVENT_TYPES = ("run", "step", "end")
END_REASONS = ("completed", "diverged", "stopped")

# The step event's per-layer keys (one list entry per layer, input side first).
LAYER_KEYS = (
    "grad_norm",
    "bias_grad_norm",
    "weight_norm",
    "update_ratio",
    "dead",
    "saturated",
    "clipped_values",
    "error_signal",
    "fprime_mean",
)

_SEPARATORS = (",", ":")


class EventDecodeError(ValueError):
    """A line of an event stream that is not a valid event (message says why, one line)."""


@dataclass(kw_only=True)
class StepEvent:
    """One training update, exactly the design's ``step`` event.

    Lists have one entry per layer, input side first, output layer last. ``None`` (or a
    non-finite float, which ``encode`` writes as ``null``) means "no data". Keyword-only,
    so that adding or reordering a field can never shift a value into the wrong one.
    """

    step: int  # 1 for the first update
    loss: float  # loss of this step's minibatch, before the update
    accuracy: float | None = None  # full-data accuracy at the latest probe
    lr: float | None = None  # learning rate used by this step
    grad_norm: list[float] = field(default_factory=list)  # ||dW_i||_F before clipping
    bias_grad_norm: list[float] = field(default_factory=list)  # ||db_i|| before clipping
    weight_norm: list[float] = field(default_factory=list)  # ||W_i||_F after the update
    update_ratio: list[float | None] = field(default_factory=list)  # ||dW_i step|| / ||W_i before||
    dead: list[int | None] = field(default_factory=list)  # dead ReLU units; None: n/a
    saturated: list[float | None] = field(default_factory=list)  # fraction; None: n/a
    global_grad_norm: float | None = None  # over all parameters, before clipping
    clip_threshold: float | None = None  # None when clipping is off
    clipped: bool = False  # clipping changed this step's gradients
    clip_steps: int = 0  # steps clipped so far, this one included
    clipped_values: list[int] = field(default_factory=list)  # elements clipped per layer
    finite: bool = True  # False when the loss or any gradient is non-finite
    # ||dL/dZ_i||_F over the batch: the error signal (delta) backprop hands from layer
    # to layer, as backward computed it (the loss's batch averaging included).
    error_signal: list[float | None] = field(default_factory=list)
    # mean |f'(Z_i)| over the batch and the units; None for the linear output layer.
    fprime_mean: list[float | None] = field(default_factory=list)
    # Probe steps only: the network's prediction on a grid over the data, quantised
    # (core/boundary.py). Optional in version 2: left out of the dict when None.
    boundary: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as the stream's plain dict, ``"type": "step"`` first.

        Shallow (the dict shares this event's lists): every field is a scalar or a flat
        list, and ``asdict``'s deep copy cost ~30 us a step, a fifth of a small step.
        """
        d = {"type": "step", **vars(self)}
        if d["boundary"] is None:
            del d["boundary"]
        return d


def run_event(
    *,
    scenario: str = "",
    title: str = "",
    seed: int | None = None,
    fix: bool = False,
    layers: list[dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``run`` event that opens a stream.

    ``layers``: one ``{"name", "fan_in", "fan_out", "activation"}`` dict per layer,
    input side first. ``config`` (the resolved scenario) is left out when ``None``.
    """
    ev: dict[str, Any] = {
        "type": "run",
        "version": EVENT_VERSION,
        "scenario": scenario,
        "title": title,
        "seed": seed,
        "fix": fix,
        "layers": list(layers or []),
    }
    if config is not None:
        ev["config"] = config
    return ev


def end_event(step: int, reason: str) -> dict[str, Any]:
    """The ``end`` event that closes a stream; ``reason`` is one of ``END_REASONS``."""
    if reason not in END_REASONS:
        raise ValueError(f"end reason {reason!r} is not one of {', '.join(END_REASONS)}")
    return {"type": "end", "step": int(step), "reason": reason}


def _plain(obj: Any) -> Any:
    """``obj`` as plain JSON data: non-finite floats -> None, NumPy -> Python, recursively."""
    if obj is None or type(obj) in (bool, int, str):
        return obj
    if isinstance(obj, float):  # includes np.float64, a float subclass
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):  # np.int64, np.bool_, np.float32...
        return _plain(obj.item())
    for base in (bool, int, str):  # subclasses such as IntEnum: their plain value
        if isinstance(obj, base):
            return base(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} in an event")


def _type_first(event: dict[str, Any]) -> dict[str, Any]:
    if "type" not in event or next(iter(event)) == "type":
        return event
    return {"type": event["type"], **{k: v for k, v in event.items() if k != "type"}}


def encode(event: dict[str, Any]) -> str:
    """One line of strict JSON (no trailing newline) for an event dict.

    NaN and +-inf anywhere (also inside lists and nested dicts) become ``null``; NumPy
    scalars and arrays become numbers and lists. Keys keep their insertion order with
    ``"type"`` moved first, so equal events always encode to equal bytes.
    """
    if not isinstance(event, dict):
        raise TypeError(f"an event is a dict, not {type(event).__name__}")
    event = _type_first(event)
    try:
        # Fast path: already plain and finite (the usual case for a healthy run).
        return json.dumps(event, allow_nan=False, separators=_SEPARATORS)
    except (ValueError, TypeError):
        return json.dumps(_plain(event), allow_nan=False, separators=_SEPARATORS)


def _reject_constant(name: str) -> Any:
    raise EventDecodeError(f"{name} is not valid JSON (non-finite numbers are written as null)")


# The largest integer a reader can turn into a float64 (History, the plots): a larger one
# would raise OverflowError far from the line that held it.
MAX_JSON_INT = int(np.finfo(np.float64).max)


def _int_in_range(text: str) -> int:
    value = int(text)
    if not -MAX_JSON_INT <= value <= MAX_JSON_INT:
        raise EventDecodeError(
            f"found an integer of {len(text)} digits, allowed numbers within float64's range"
        )
    return value


def decode(line: str | bytes) -> dict[str, Any]:
    """Parse one line of a stream into its event dict.

    Strict: rejects ``NaN`` / ``Infinity`` literals, integers beyond float64's range,
    anything but a JSON object, an object without a string ``"type"``, and nesting too
    deep for Python's parser. Raises ``EventDecodeError`` (a ``ValueError``) with a
    one-line message. Unknown types are accepted (readers skip what they do not know),
    so a newer writer does not break an older reader.
    """
    try:
        obj = json.loads(line, parse_constant=_reject_constant, parse_int=_int_in_range)
    except EventDecodeError:
        raise
    except RecursionError:
        raise EventDecodeError("found arrays or objects nested too deeply to parse") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise EventDecodeError(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise EventDecodeError(f"an event is a JSON object, found {type(obj).__name__}")
    kind = obj.get("type")
    if kind is None:
        raise EventDecodeError('an event needs a "type" key, found none')
    if not isinstance(kind, str):
        raise EventDecodeError(f'"type" must be a string, found {json.dumps(kind)}')
    return obj
