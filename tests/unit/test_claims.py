"""core.claims on hand-made event streams: each metric, selector and comparison
against the value worked out here by hand."""

from __future__ import annotations

import math

import pytest

from bp_tui.core.claims import check, compare, describe, measure, metric_names, parse_key
from bp_tui.core.config import Claim

RUN = {
    "type": "run",
    "layers": [
        {"name": "L1", "fan_in": 2, "fan_out": 4, "activation": "relu"},
        {"name": "L2", "fan_in": 4, "fan_out": 4, "activation": "relu"},
        {"name": "L3", "fan_in": 4, "fan_out": 4, "activation": "relu"},
        {"name": "L4", "fan_in": 4, "fan_out": 1, "activation": "linear"},
    ],
}


def step(n: int, **fields: object) -> dict:
    ev = {
        "type": "step",
        "step": n,
        "loss": 1.0,
        "accuracy": None,
        "lr": 0.1,
        "grad_norm": [0.01, 0.1, 1.0, 2.0],
        "bias_grad_norm": [0.04, 0.2, 1.0, 1.0],
        "update_ratio": [0.001, 0.01, 0.1, 0.05],
        "dead": [None, None, None, None],
        "saturated": [None, None, None, None],
        "global_grad_norm": 2.0,
        "clipped": False,
        "finite": True,
    }
    ev.update(fields)
    return ev


def stream(*steps: dict, reason: str = "completed") -> list[dict]:
    return [RUN, *steps, {"type": "end", "step": steps[-1]["step"], "reason": reason}]


def test_per_step_metrics_at_a_step() -> None:
    ev = stream(step(1, dead=[1, 2, 0, None], saturated=[0.5, 0.25, None, None], accuracy=0.75))
    assert measure("dead_fraction_at_step1", ev) == 3 / 12
    assert measure("saturation_L1_at_step1", ev) == 0.5
    assert measure("saturation_at_step1", ev) == 0.5  # the largest layer's
    assert measure("accuracy_at_step1", ev) == 0.75
    assert measure("grad_ratio_first_last_at_step1", ev) == 0.01 / 2.0
    # hidden layers 0.01, 0.1, 1.0: a factor 0.1 per layer towards the input
    assert measure("grad_factor_per_layer_at_step1", ev) == pytest.approx(0.1)
    assert measure("bias_grad_factor_per_layer_at_step1", ev) == pytest.approx(0.2)
    assert measure("grad_norm_at_step1", ev) == 2.0
    assert measure("update_ratio_at_step1", ev) == 0.1
    assert measure("lr_at_step1", ev) == 0.1


def test_selectors_end_min_max_and_from_a_step() -> None:
    dead = [[0, 0, 0, None], [1, 1, 1, None], [6, 3, 0, None], [4, 2, 0, None]]
    ev = stream(*(step(i + 1, dead=d) for i, d in enumerate(dead)))
    assert measure("dead_fraction_end", ev) == 6 / 12
    assert measure("dead_fraction_max", ev) == 9 / 12
    assert measure("dead_fraction_min", ev) == 0.0
    assert measure("dead_fraction_min_from_step3", ev) == 6 / 12
    assert measure("dead_fraction_max_from_step4", ev) == 6 / 12
    assert measure("dead_fraction_at_step9", ev) is None  # the run has no step 9


def test_steps_without_data_are_skipped_and_no_data_fails_every_claim() -> None:
    ev = stream(step(1, accuracy=None), step(2, accuracy=0.5), step(3, accuracy=None))
    assert measure("accuracy_max", ev) == 0.5
    assert measure("accuracy_end", ev) is None
    assert measure("dead_fraction_max", ev) is None  # no probe reported dead units
    assert not compare(Claim("accuracy_end", "<", 1.0), None)
    assert not compare(Claim("accuracy_end", ">", 1.0), None)


def test_run_level_metrics() -> None:
    losses = [2.0] * 20 + [1.0] * 10 + [0.5] * 20
    norms = [1.0] * 49 + [math.inf]
    ev = stream(
        *(
            step(i + 1, loss=loss, global_grad_norm=g, clipped=i % 2 == 0)
            for i, (loss, g) in enumerate(zip(losses, norms, strict=True))
        )
    )
    assert measure("loss_fall", ev) == pytest.approx((2.0 - 0.5) / 2.0)
    assert measure("loss_last20", ev) == 0.5
    assert measure("clipped_fraction", ev) == 0.5
    assert measure("diverges", ev) is False
    assert measure("diverged_at_step", ev) is None
    assert measure("grad_growth", ev) == 1.0  # inf is not a finite growth
    ev[-2]["finite"] = False
    ev[-1]["reason"] = "diverged"
    assert measure("diverges", ev) is True
    assert measure("diverged_at_step", ev) == 50


def test_grad_growth_is_the_largest_finite_norm_over_the_first() -> None:
    ev = stream(*(step(i + 1, global_grad_norm=g) for i, g in enumerate([2.0, 8.0, 1e6, None])))
    assert measure("grad_growth", ev) == 5e5


@pytest.mark.parametrize(
    ("claim", "x", "holds"),
    [
        (Claim("m", "<", 1.0), 0.5, True),
        (Claim("m", "<", 1.0), 1.0, False),
        (Claim("m", "<=", 1.0), 1.0, True),
        (Claim("m", ">", 1.0), 1.0, False),
        (Claim("m", ">=", 1.0), 1.0, True),
        (Claim("m", "==", 0.0), 0.0, True),
        (Claim("m", "==", 0.0), 1e-300, False),
        (Claim("m", "between", 0.2, 0.3), 0.2, True),
        (Claim("m", "between", 0.2, 0.3), 0.31, False),
        (Claim("m", ">", 1.0), math.nan, False),
        (Claim("m", ">", 1.0), math.inf, True),
        (Claim("diverges", "==", True), True, True),
        (Claim("diverges", "==", False), True, False),
    ],
)
def test_comparisons(claim: Claim, x: float, holds: bool) -> None:
    assert compare(claim, x) is holds


def test_check_reports_each_claim_with_what_was_measured() -> None:
    ev = stream(step(1, accuracy=0.9), step(2, accuracy=0.95))
    claims = [Claim("accuracy_end", ">=", 0.99), Claim("diverges", "==", False)]
    verdicts = check(claims, ev)
    assert [(v.actual, v.holds) for v in verdicts] == [(0.95, False), (False, True)]
    assert [v.text for v in verdicts] == ["accuracy_end >= 0.99", "diverges = false"]
    assert describe(Claim("x_end", "between", 0.2, 0.3)) == "x_end between 0.2 and 0.3"


def test_key_grammar() -> None:
    assert parse_key("dead_fraction_at_step20") == ("dead_fraction", "at", 20)
    assert parse_key("saturation_L1_max_from_step5") == ("saturation_L1", "max", 5)
    assert parse_key("saturation_L1_end") == ("saturation_L1", "end", None)
    assert parse_key("loss_fall") == ("loss_fall", "run", None)
    for bad in ("dead_fraction", "dead_fraction_at_step", "nope_end", "dead_fraction_mean"):
        assert parse_key(bad) is None
    assert all(parse_key(name) for name in metric_names())
