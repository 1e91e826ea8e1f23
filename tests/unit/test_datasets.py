"""Data sets: shapes, standardised inputs, balanced labels, determinism per seed."""

from __future__ import annotations

import numpy as np
import pytest

from bp_tui.core.config import DATA_KINDS, DataConfig
from bp_tui.core.datasets import make_dataset

CASES = [
    DataConfig("spirals", 301, 0.1, 3),
    DataConfig("spirals", 200, 0.0, 2),
    DataConfig("moons", 151, 0.1, 2),
    DataConfig("circles", 100, 0.05, 2),
    DataConfig("xor", 257, 0.0, 2),
    DataConfig("blobs", 403, 0.3, 4),
    DataConfig("blobs", 50, 0.0, 2),  # noise-free: every point on its centre
]


@pytest.mark.parametrize("cfg", CASES, ids=lambda c: f"{c.kind}-{c.samples}-{c.classes}")
def test_shape_standardised_balanced(cfg):
    X, y = make_dataset(cfg, seed=0)
    assert X.shape == (cfg.samples, 2) and X.dtype == np.float64
    assert y.shape == (cfg.samples,) and y.dtype == np.int64
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    counts = np.bincount(y)
    assert len(counts) == cfg.classes
    assert counts.max() - counts.min() <= 1
    # shuffled: labels are not in blocks (a sequential minibatch must see every class)
    assert len(set(y[: cfg.samples // 4].tolist())) == cfg.classes


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_deterministic_per_seed(kind):
    cfg = DataConfig(kind, 120, 0.1, 3 if kind in ("spirals", "blobs") else 2)
    X1, y1 = make_dataset(cfg, seed=5)
    X2, y2 = make_dataset(cfg, seed=5)
    X3, _ = make_dataset(cfg, seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_two_class_kinds_ignore_classes():
    _, y = make_dataset(DataConfig("moons", 100, 0.1, 5), seed=0)
    assert set(y.tolist()) == {0, 1}


def test_labels_follow_the_shapes():
    """The label is a function of where the point is, as each kind promises."""
    X, y = make_dataset(DataConfig("xor", 400, 0.0, 2), seed=1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))  # centred data
    X, y = make_dataset(DataConfig("circles", 400, 0.0, 2), seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() < r[y == 0].min()  # the disc sits inside the ring


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="allowed: spirals, moons"):
        make_dataset(DataConfig("swissroll"), seed=0)


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_unstandardised_inputs_are_the_raw_ones_scaled_and_shifted(kind):
    raw, y0 = make_dataset(DataConfig(kind, 200, 0.1, 2, standardize=False), seed=3)
    X, y = make_dataset(DataConfig(kind, 200, 0.1, 2, standardize=False, scale=10, offset=50), 3)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_allclose(X, raw * 10 + 50, rtol=0, atol=1e-12)
    assert abs(X.mean() - 50) < 15  # far from the origin: what the saturation scenario needs
    # standardising undoes the scale and the offset: the default data set, to rounding
    default, _ = make_dataset(DataConfig(kind, 200, 0.1, 2), seed=3)
    standardised, _ = make_dataset(DataConfig(kind, 200, 0.1, 2, scale=10, offset=50), seed=3)
    np.testing.assert_allclose(standardised, default, rtol=0, atol=1e-9)
    by_hand = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    np.testing.assert_allclose(default, by_hand, rtol=0, atol=1e-12)
