"""The event line format: strict JSON, non-finite -> null, stable bytes, strict reader."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bp_tui.core.events import (
    EVENT_VERSION,
    EventDecodeError,
    StepEvent,
    decode,
    encode,
    end_event,
    run_event,
)

DESIGN_STEP_KEYS = [
    "step", "loss", "accuracy", "lr", "grad_norm", "bias_grad_norm", "weight_norm",
    "update_ratio", "dead", "saturated", "global_grad_norm", "clip_threshold", "clipped",
    "clip_steps", "clipped_values", "finite", "error_signal", "fprime_mean",
]  # fmt: skip


def strict_loads(line: str) -> object:
    """An independent strict parser: the stdlib one with NaN/Infinity refused."""

    def refuse(name: str) -> object:
        raise AssertionError(f"non-strict JSON constant {name} in {line!r}")

    return json.loads(line, parse_constant=refuse)


def test_step_event_has_exactly_the_design_fields() -> None:
    # `boundary` is optional (probe steps only) and left out of the dict when None
    assert [f.name for f in dataclasses.fields(StepEvent)] == [*DESIGN_STEP_KEYS, "boundary"]
    d = StepEvent(step=1, loss=0.5).to_dict()
    assert list(d) == ["type", *DESIGN_STEP_KEYS]
    assert d["type"] == "step"
    assert list(StepEvent(step=1, loss=0.5, boundary={}).to_dict())[-1] == "boundary"


def test_step_event_is_keyword_only() -> None:
    """A positional constructor would let a reordered field shift values silently."""
    with pytest.raises(TypeError):
        StepEvent(1, 0.5)  # type: ignore[misc]


def test_non_finite_values_become_null_everywhere() -> None:
    ev = StepEvent(
        step=3,
        loss=float("nan"),
        lr=np.float64(0.1),
        grad_norm=[1.0, float("inf"), np.float64(-np.inf)],
        dead=[np.int64(4), None],
        global_grad_norm=np.float32(np.nan),
        clipped=np.bool_(True),
        clipped_values=list(np.array([2, 0])),
        finite=False,
    ).to_dict()
    ev["nested"] = {"deep": [[np.nan, 2.5]], "arr": np.array([np.inf, 1.0])}
    line = encode(ev)
    assert "\n" not in line
    back = strict_loads(line)
    assert back["loss"] is None
    assert back["lr"] == 0.1
    assert back["grad_norm"] == [1.0, None, None]
    assert back["dead"] == [4, None]
    assert back["global_grad_norm"] is None
    assert back["clipped"] is True
    assert back["clipped_values"] == [2, 0]
    assert back["nested"] == {"deep": [[None, 2.5]], "arr": [None, 1.0]}
    assert back["finite"] is False


def test_encoding_is_byte_stable_and_compact_with_type_first() -> None:
    a = {"step": 1, "type": "step", "loss": 0.25}
    b = {"step": 1, "type": "step", "loss": 0.25}
    assert encode(a) == encode(b) == '{"type":"step","step":1,"loss":0.25}'


def test_float_round_trip_is_exact() -> None:
    rng = np.random.default_rng(0)
    values = [float(v) for v in rng.standard_normal(50) * 10.0 ** rng.integers(-300, 300, 50)]
    back = decode(encode({"type": "step", "v": values, "n": np.float64(values[0])}))
    assert back["v"] == values
    assert back["n"] == values[0]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"type":"step","loss":NaN}', "NaN"),
        ('{"type":"step","loss":Infinity}', "Infinity"),
        ('{"type":"step","loss":-Infinity}', "-Infinity"),
        ("[1, 2]", "object"),
        ('"step"', "object"),
        ('{"step": 1}', '"type"'),
        ('{"type": 3}', "string"),
        ('{"type": "step"', "not valid JSON"),
        ("", "not valid JSON"),
    ],
)
def test_decode_rejects_what_is_not_a_strict_event(line: str, why: str) -> None:
    with pytest.raises(EventDecodeError, match=why) as info:
        decode(line)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_decode_accepts_bytes_and_unknown_types() -> None:
    assert decode(b'{"type":"note","text":"hi"}\n') == {"type": "note", "text": "hi"}


def test_run_and_end_helpers_follow_the_design() -> None:
    layers = [{"name": "L1", "fan_in": 2, "fan_out": 3, "activation": "relu"}]
    run = decode(encode(run_event(scenario="x", title="X", seed=7, layers=layers)))
    assert run == {
        "type": "run", "version": EVENT_VERSION, "scenario": "x", "title": "X",
        "seed": 7, "fix": False, "layers": layers,
    }  # fmt: skip
    assert decode(encode(end_event(np.int64(12), "diverged"))) == {
        "type": "end",
        "step": 12,
        "reason": "diverged",
    }
    with pytest.raises(ValueError, match="completed"):
        end_event(1, "crashed")


def test_encode_refuses_objects_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="object"):
        encode({"type": "step", "x": object()})
