"""Toy two-dimensional classification data sets, generated from a seed.

``make_dataset(cfg, seed) -> (X, y)``: ``X`` ``(samples, 2)`` float64, by default each
column standardised to mean 0 and standard deviation 1 (so no input scale hides or
causes a gradient problem); ``y`` ``(samples,)`` int64 labels ``0 .. classes-1``, as
balanced as the sample count allows (class sizes differ by at most one), in random
order. The same ``(cfg, seed)`` always gives the same arrays.

``cfg.noise`` is the standard deviation of Gaussian noise added to each coordinate
before standardising (the clean shapes have a size of about 1).

- ``spirals``: ``cfg.classes`` interleaved spiral arms (hard: needs depth);
- ``moons``: two interleaving half circles;
- ``circles``: a ring around a disc (radius 1 and 0.5);
- ``xor``: opposite quadrants share a label;
- ``blobs``: ``cfg.classes`` Gaussian clusters around a circle.

``moons``, ``circles`` and ``xor`` always have two classes.

Input scaling (the lesson's "normalise your inputs"): the noisy coordinates are
multiplied by ``cfg.scale`` and shifted by ``cfg.offset``, as raw measurements in some
unit would be; then, if ``cfg.standardize`` (the default), standardised, which undoes
both. ``standardize = false`` hands the network the raw numbers.
"""

from __future__ import annotations

import numpy as np

from .config import DATA_KINDS, DataConfig

TWO_CLASS = ("moons", "circles", "xor")


def n_classes(cfg: DataConfig) -> int:
    """Classes the data set actually has (2 for the two-class kinds)."""
    return 2 if cfg.kind in TWO_CLASS else cfg.classes


def class_sizes(samples: int, classes: int) -> list[int]:
    """Split ``samples`` into ``classes`` counts differing by at most one."""
    base, extra = divmod(samples, classes)
    return [base + (1 if c < extra else 0) for c in range(classes)]


def _spirals(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    k = len(sizes)
    arms = []
    for c, n in enumerate(sizes):
        r = np.linspace(0.05, 1.0, n)  # radius grows along the arm
        theta = 2 * np.pi * c / k + 1.75 * np.pi * r  # each arm winds 7/8 of a turn
        arms.append(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    return arms


def _moons(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    t0 = np.linspace(0.0, np.pi, sizes[0])
    t1 = np.linspace(0.0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return [upper, lower]


def _circles(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    out = []
    for radius, n in zip((1.0, 0.5), sizes, strict=True):
        t = rng.uniform(0.0, 2 * np.pi, n)
        out.append(radius * np.column_stack([np.cos(t), np.sin(t)]))
    return out


def _xor(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    out = []
    for c, n in enumerate(sizes):
        # Points away from the axes in one of the class's two quadrants:
        # class 0 where x*y > 0, class 1 where x*y < 0.
        mag = rng.uniform(0.1, 1.0, size=(n, 2))
        sx = rng.choice([-1.0, 1.0], size=n)
        sy = sx if c == 0 else -sx
        out.append(mag * np.column_stack([sx, sy]))
    return out


def _blobs(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    k = len(sizes)
    out = []
    for c, n in enumerate(sizes):
        # Centres on a unit circle, turned by 45 degrees so that no coordinate is
        # constant (two blobs on the x axis would leave y with zero spread).
        angle = 2 * np.pi * c / k + np.pi / 4
        out.append(np.tile([np.cos(angle), np.sin(angle)], (n, 1)))
    return out


_MAKERS = {
    "spirals": _spirals,
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
    "blobs": _blobs,
}
assert set(_MAKERS) == set(DATA_KINDS)


def standardise(X: np.ndarray) -> np.ndarray:
    """``X`` ``(m, d)`` shifted and scaled to mean 0, std 1 per column (new array).

    A column with no spread is only centred.
    """
    std = X.std(axis=0)
    std[std == 0.0] = 1.0
    return (X - X.mean(axis=0)) / std


def make_dataset(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(X (samples, 2) float64, y (samples,) int64)`` for ``cfg``; see the module."""
    try:
        maker = _MAKERS[cfg.kind]
    except KeyError:
        allowed = ", ".join(DATA_KINDS)
        raise ValueError(f"unknown data kind {cfg.kind!r}; allowed: {allowed}") from None
    k = n_classes(cfg)
    if k < 2 or cfg.samples < k:
        raise ValueError(f"need at least 2 classes and a sample per class, got {cfg}")
    rng = np.random.default_rng(seed)
    sizes = class_sizes(cfg.samples, k)
    parts = maker(rng, sizes)
    X = np.concatenate(parts)
    y = np.concatenate([np.full(n, c, dtype=np.int64) for c, n in enumerate(sizes)])
    X = X + cfg.noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(y))
    X = X[order] * cfg.scale + cfg.offset
    return (standardise(X) if cfg.standardize else X), y[order]
