"""Clipping: the global norm is capped exactly, the direction kept, elements counted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bp_tui.core.clipping import clip_by_norm, clip_by_value
from bp_tui.core.mlp import MLP

SHAPES = [(4, 3), (4,), (2, 4), (2,)]


def grads(scale: float, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in SHAPES]


def brute_norm(arrays: list[np.ndarray]) -> float:
    return math.sqrt(math.fsum(float(x) ** 2 for a in arrays for x in a.ravel()))


def cosine(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    u = np.concatenate([x.ravel() for x in a])
    v = np.concatenate([x.ravel() for x in b])
    u, v = u / np.abs(u).max(), v / np.abs(v).max()  # no overflow for huge gradients
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.mark.parametrize("scale", [1e-3, 0.3, 1.0, 7.0, 1e6, 1e200])
def test_norm_clipping_caps_the_global_norm(scale):
    g = grads(scale)
    before = [a.copy() for a in g]
    true_norm = brute_norm(before) if scale < 1e150 else scale * brute_norm(grads(1.0))
    threshold = 1.0
    norm, clipped = clip_by_norm(g, threshold)
    assert norm == pytest.approx(true_norm, rel=1e-12)
    assert clipped == (true_norm >= threshold)
    if clipped:
        assert brute_norm(g) == pytest.approx(threshold, rel=1e-12)
        assert cosine(g, before) == pytest.approx(1.0, abs=1e-12)
    else:
        for a, b in zip(g, before, strict=True):
            np.testing.assert_array_equal(a, b)


def test_norm_clipping_fires_at_equality():
    g = [np.array([3.0, 4.0])]
    assert clip_by_norm(g, 5.0) == (5.0, True)
    np.testing.assert_array_equal(g[0], [3.0, 4.0])


def test_norm_clipping_of_mlp_grads_acts_on_every_layer():
    net = MLP([3, 6, 4, 2], seed=0)
    net.grads().flat[:] = np.random.default_rng(1).standard_normal(net.n_params)
    before = [g.copy() for g in net.grads()]
    norm, clipped = clip_by_norm(net.grads(), 0.5)
    assert clipped and norm == pytest.approx(brute_norm(before), rel=1e-12)
    for g, b in zip(net.grads(), before, strict=True):
        np.testing.assert_allclose(g, b * 0.5 / norm, rtol=1e-14)


def test_non_finite_gradient_is_reported_not_clipped():
    g = [np.array([1.0, np.nan]), np.array([2.0])]
    norm, clipped = clip_by_norm(g, 1.0)
    assert math.isnan(norm) and not clipped
    assert g[1][0] == 2.0


@pytest.mark.parametrize("threshold", [0.1, 0.5, 2.0])
def test_value_clipping_counts_exactly_the_changed_elements(threshold):
    g = grads(1.0, seed=2)
    g[0][0, 0] = threshold  # on the boundary: not changed, not counted
    g[1][0] = -threshold
    before = [a.copy() for a in g]
    counts = clip_by_value(g, threshold)
    for a, b, count in zip(g, before, counts, strict=True):
        changed = 0
        for x, x0 in zip(a.ravel(), b.ravel(), strict=True):
            assert -threshold <= x <= threshold
            assert x == min(max(x0, -threshold), threshold)
            changed += x != x0
        assert count == changed
    assert sum(counts) > 0
