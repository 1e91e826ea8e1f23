"""Interleaved timing: the two sides of a ratio measured turn about, medians reported.

The machines are shared (two cores, other engineers' test runs), so load changes over
seconds. Timing side A for a minute and then side B would fold that drift into the
ratio; alternating short blocks A, B, B, A, ... exposes both sides to the same load.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_block(fn: Callable[[], object], inner: int) -> float:
    """Seconds per call of ``fn``, over ``inner`` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def calibrate(fn: Callable[[], object], block_seconds: float) -> int:
    """Calls of ``fn`` that fill about ``block_seconds`` (at least 1)."""
    fn()  # warm-up: first call allocates, imports, fills caches
    n, elapsed = 1, 0.0
    while True:
        elapsed = time_block(fn, n)
        if elapsed * n >= block_seconds / 4 or n >= 1 << 20:
            break
        n *= 4
    return max(1, int(block_seconds / max(elapsed, 1e-9)))


def interleave(
    sides: dict[str, Callable[[], object]], *, rounds: int, block_seconds: float
) -> dict[str, list[float]]:
    """Seconds per call of each side, one sample per round, sides alternating order.

    Returns ``{name: [seconds_per_call, ...]}`` with ``rounds`` samples each.
    """
    names = list(sides)
    inner = {n: calibrate(sides[n], block_seconds) for n in names}
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            samples[n].append(time_block(sides[n], inner[n]))
    return samples


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ratio_samples(num: list[float], den: list[float]) -> list[float]:
    """Per-round ratios num[i] / den[i] (the two were measured back to back)."""
    return [a / b for a, b in zip(num, den, strict=True) if b > 0]


def fmt_time(seconds: float) -> str:
    """Human units: ns, us, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"
