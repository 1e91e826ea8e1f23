"""History: bounded memory over a long run, spikes and non-finite steps survive."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bp_tui.tui.history import History


def brute_buckets(
    steps: list[int], values: list[float | None], capacity: int, group: int = 1
) -> tuple[np.ndarray, ...]:
    """Independent reference: the width is the smallest power of two for which the
    pushes fit in ``capacity`` buckets; each bucket (times ``group``) is a chunk of
    consecutive pushes; min/max over its finite values, last over its present values."""
    n, width = len(values), 1
    while n > capacity * width:
        width *= 2
    size = width * group
    out_steps, lo, hi, last = [], [], [], []
    for start in range(0, n, size):
        chunk = values[start : start + size]
        finite = [v for v in chunk if v is not None and math.isfinite(v)]
        present = [v for v in chunk if v is not None and not math.isnan(v)]
        out_steps.append(steps[min(start + size, n) - 1])
        lo.append(min(finite) if finite else math.nan)
        hi.append(max(finite) if finite else math.nan)
        last.append(present[-1] if present else math.nan)
    return tuple(np.array(a, dtype=float) for a in (out_steps, lo, hi, last))


def assert_series_equal(series, expected) -> None:  # type: ignore[no-untyped-def]
    for got, want in zip((series.steps, series.lo, series.hi, series.last), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def random_value(rng: np.random.Generator) -> float | None:
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.15:
        return float("nan")
    if r < 0.18:
        return float(rng.choice([np.inf, -np.inf]))
    return float(rng.standard_normal() * 10.0 ** rng.integers(-3, 4))


@pytest.mark.parametrize(("n", "capacity"), [(1, 8), (37, 8), (64, 8), (1001, 16), (5000, 64)])
def test_series_equals_brute_force_bucketed_min_max(n: int, capacity: int) -> None:
    rng = np.random.default_rng(n)
    h = History(capacity=capacity)
    h.set_run({"type": "run", "layers": [{"name": "a"}, {"name": "b"}]})
    steps = list(range(10, 10 + 3 * n, 3))  # step numbers need not be consecutive
    losses, grads = [], []
    for s in steps:
        loss, g1 = random_value(rng), random_value(rng)
        losses.append(loss)
        grads.append(g1)
        ev: dict = {"step": s, "loss": loss, "grad_norm": [random_value(rng), g1]}
        if rng.random() < 0.1:
            del ev["loss"]
            losses[-1] = None
        h.push(ev)
        if rng.random() < 0.01:  # reading in between must not change what is stored
            h.series("loss")
    assert h.count == n and h.layer_names == ["a", "b"]
    assert_series_equal(h.series("loss"), brute_buckets(steps, losses, capacity))
    assert_series_equal(h.series("grad_norm", layer=1), brute_buckets(steps, grads, capacity))
    for width in (3, 5):
        s = h.series("loss", width=width)
        assert len(s) <= width
        n_buckets = len(h.series("loss"))
        if n_buckets > width:
            group = -(-n_buckets // width)
            assert_series_equal(s, brute_buckets(steps, losses, capacity, group))


@pytest.mark.slow
def test_million_steps_bounded_memory_spike_first_last_and_nonfinite_kept() -> None:
    rng = np.random.default_rng(1)
    total = 10**6
    spike_at = int(rng.integers(100_000, 900_000))
    nan_at, inf_at = 12_345, 777_777
    noise = (rng.random(total) * 0.5 + 0.25).tolist()  # plain floats in [0.25, 0.75)
    h = History()
    h.set_run({"type": "run", "layers": [{"name": "L1"}, {"name": "L2"}]})
    ev: dict = {"type": "step", "step": 0, "loss": 0.0, "grad_norm": [1.0, 1.0], "finite": True}
    nbytes_at_1e4 = None
    for i in range(1, total + 1):
        ev["step"] = i
        ev["loss"] = noise[i - 1]
        if i == 1:
            ev["loss"] = 0.01  # the first step: the run's minimum
        elif i == spike_at:
            ev["loss"] = 1e6
        elif i == total:
            ev["loss"] = 0.9
        elif i == nan_at:
            ev["loss"], ev["finite"] = None, False
        elif i == inf_at:
            ev["grad_norm"] = [1.0, math.inf]
        h.push(ev)
        ev["finite"], ev["grad_norm"] = True, [1.0, 1.0]
        if i == 10**4:
            nbytes_at_1e4 = h.nbytes
    assert h.nbytes == nbytes_at_1e4
    assert h.count == total and h.first_step == 1 and h.last_step == total
    s = h.series("loss")
    assert len(s) <= h.capacity
    assert s.hi.max() == 1e6 and s.lo.min() == 0.01
    assert s.steps[-1] == total and s.last[-1] == 0.9
    spike_bucket = int(np.nanargmax(s.hi))
    assert s.steps[spike_bucket - 1] < spike_at <= s.steps[spike_bucket]
    narrow = h.series("loss", width=80)
    assert len(narrow) <= 80 and narrow.hi.max() == 1e6 and narrow.last[-1] == 0.9
    assert h.nonfinite_steps == [nan_at, inf_at]
    marked = s.steps[s.nonfinite]
    assert len(marked) == 2 and marked[0] >= nan_at and marked[1] >= inf_at
    g = h.series("grad_norm", layer=1)
    assert np.nanmax(g.hi) == 1.0  # inf is not a finite max ...
    assert np.isinf(g.last).sum() <= 1  # ... but it may be a bucket's last value


def test_layer_count_from_first_list_and_odd_lengths_tolerated() -> None:
    h = History(capacity=4)
    h.push({"step": 1, "loss": 1.0})  # no lists yet: scalar only
    h.push({"step": 2, "loss": 2.0, "grad_norm": [1.0, 2.0, 3.0]})
    h.push({"step": 3, "grad_norm": [4.0]})  # short: padded with no data
    h.push({"step": 4, "grad_norm": [5.0, 6.0, 7.0, 8.0], "dead": "garbage"})  # long
    assert h.layer_names == ["L1", "L2", "L3"]
    np.testing.assert_array_equal(h.series("loss").hi, [1.0, 2.0, np.nan, np.nan])
    np.testing.assert_array_equal(h.series("grad_norm", layer=0).last, [np.nan, 1.0, 4.0, 5.0])
    np.testing.assert_array_equal(h.series("grad_norm", layer=2).hi, [np.nan, 3.0, np.nan, 7.0])
    assert np.isnan(h.series("dead", layer=0).hi).all()


def test_missing_step_numbers_and_non_numbers_are_no_data() -> None:
    h = History(capacity=8)
    h.extend([{"loss": "x"}, {"step": None, "loss": 3}, {"step": float("nan"), "loss": [1]}])
    s = h.series("loss")
    assert s.steps.tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(s.hi, [np.nan, 3.0, np.nan])
    assert h.nonfinite_steps == []


def test_set_run_resets_and_last_is_the_latest_dict() -> None:
    h = History(capacity=8)
    h.push({"step": 1, "loss": 5.0})
    latest = {"step": 2, "loss": 6.0}
    h.push(latest)
    assert h.last is latest and h.count == 2
    h.set_run({"type": "run", "layers": [{"name": "in"}, {"name": "out"}]})
    assert h.count == 0 and h.last is None and len(h.series("loss")) == 0
    assert h.layer_names == ["in", "out"]
    h.push({"step": 1, "grad_norm": [1.0, 2.0, 3.0]})  # the run event fixes the layer count
    assert h.layer_names == ["in", "out"]
    assert h.series("grad_norm", layer=1).hi.tolist() == [2.0]


def test_bad_series_requests_say_what_is_wrong() -> None:
    h = History(capacity=8)
    h.set_run({"type": "run", "layers": [{"name": "L1"}]})
    with pytest.raises(KeyError, match="unknown series"):
        h.series("nope")
    with pytest.raises(ValueError, match="per-layer"):
        h.series("grad_norm")
    with pytest.raises(ValueError, match="scalar"):
        h.series("loss", layer=0)
    with pytest.raises(IndexError, match="out of range"):
        h.series("grad_norm", layer=3)
