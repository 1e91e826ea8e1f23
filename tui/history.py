"""A bounded, down-sampling store of step events for plotting (NumPy only, no UI).

The whole run stays visible in fixed memory: pushes fall into a fixed number of
buckets, each ``width`` consecutive pushes wide. When every bucket is full, adjacent
pairs merge and the width doubles. A bucket keeps, per series, the min and max of the
finite values pushed into it and the last value, so a spike survives any number of
merges (min/max, never striding). Non-finite steps survive too: the bucket is marked
and the first ``max_nonfinite`` step numbers are kept.

Ingestion is the hot path (a replay pushes 10^6 events): ``push`` only copies the
event's values into a flat staging list; every ``_BLOCK`` pushes the block is turned
into one array and folded into the buckets with ``reduceat`` (a few NumPy calls per
block, not per push).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bp_tui.core.events import LAYER_KEYS
from bp_tui.core.stream import SCALAR_KEYS

# Series keys: the stream's scalars, and ``clipped`` (a flag) as 0/1; then the per-layer lists.
SERIES_SCALARS = (*SCALAR_KEYS, "clipped")

_BLOCK = 512  # pushes staged before they are folded into the buckets
_NS = len(SERIES_SCALARS)
_NOT_FINITE = 0.0  # value of the hidden "finite" column on a step that says finite: false


@dataclass(frozen=True)
class Series:
    """One series, down-sampled: arrays of equal length ``n`` (one entry per bucket).

    ``steps`` (n,) float64: step number of the bucket's last push.
    ``lo``, ``hi`` (n,) float64: min and max of the finite values in the bucket, NaN if none.
    ``last`` (n,) float64: the bucket's last value that is not missing (may be +-inf), NaN if none.
    ``nonfinite`` (n,) bool: the bucket holds a step that was not finite.
    """

    steps: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    last: np.ndarray
    nonfinite: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


def _last_present(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per segment (rows ``starts[j]:starts[j+1]``) and column, the last non-NaN value.

    values (k, c); starts (s,) ascending, starts[0] == 0. Returns (s, c), NaN where a
    segment's column has no value.
    """
    k = values.shape[0]
    rows = np.arange(k)[:, None]
    idx = np.where(np.isnan(values), -1, rows)
    last_idx = np.maximum.reduceat(idx, starts, axis=0)
    out = np.take_along_axis(values, np.maximum(last_idx, 0), axis=0)
    out[last_idx < 0] = np.nan
    return out


def _fold(
    lo: np.ndarray, hi: np.ndarray, last: np.ndarray, flag: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge consecutive row segments (``starts``) of per-row/per-bucket statistics."""
    return (
        np.fmin.reduceat(lo, starts, axis=0),
        np.fmax.reduceat(hi, starts, axis=0),
        _last_present(last, starts),
        np.logical_or.reduceat(flag, starts),
    )


class History:
    """Bounded store of step events; see the module docstring and ``docs/internals.md``.

    Memory is ``O(capacity * columns)`` whatever the number of pushes, with
    ``columns = 7 + 7 * n_layers`` (+1 hidden column for the ``finite`` flag).
    """

    def __init__(self, capacity: int = 2048, max_nonfinite: int = 1000) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 2, found {capacity}")
        self.capacity = capacity
        self.max_nonfinite = max_nonfinite
        self._names: list[str] | None = None  # from the run event
        self._n_layers = 0
        self.clear()

    # -- state ----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every pushed step (keeps the layer names of the run event)."""
        self.count = 0
        self.last: dict[str, Any] | None = None
        self.first_step: int | None = None
        self.last_step: int | None = None
        self.nonfinite_steps: list[int] = []
        self._layers_known = self._names is not None
        self._alloc(self._n_layers)

    def _alloc(self, n_layers: int) -> None:
        self._n_layers = n_layers
        self._ncols = _NS + 1 + len(LAYER_KEYS) * n_layers
        cap, c = self.capacity, self._ncols
        self._lo = np.full((cap, c), np.nan)
        self._hi = np.full((cap, c), np.nan)
        self._last = np.full((cap, c), np.nan)
        self._bsteps = np.full(cap, np.nan)
        self._bflag = np.zeros(cap, dtype=bool)
        self._width = 1  # pushes per bucket
        self._folded = 0  # pushes already folded into the buckets
        self._buf: list[Any] = []  # staged values, _ncols per push (step kept apart)
        self._buf_steps: list[Any] = []

    def set_run(self, run: dict[str, Any]) -> None:
        """Start a new run: take its layer names and clear the store."""
        layers = run.get("layers") or []
        names = []
        for i, layer in enumerate(layers):
            name = layer.get("name") if isinstance(layer, dict) else None
            names.append(str(name) if name else f"L{i + 1}")
        self._names = names
        self._n_layers = len(names)
        self.clear()

    @property
    def layer_names(self) -> list[str]:
        if self._names is not None:
            return list(self._names)
        return [f"L{i + 1}" for i in range(self._n_layers)]

    @property
    def n_layers(self) -> int:
        return self._n_layers

    @property
    def width(self) -> int:
        """Pushes per bucket (a power of two)."""
        return self._width

    @property
    def nbytes(self) -> int:
        """Bytes held by the bucket arrays (the staging list is bounded by ``_BLOCK``)."""
        arrays = (self._lo, self._hi, self._last, self._bsteps, self._bflag)
        return sum(a.nbytes for a in arrays)

    # -- ingestion ------------------------------------------------------------------

    def push(self, ev: dict[str, Any]) -> None:
        """Add one step dict; missing keys and ``None`` are "no data"."""
        if not self._layers_known:
            self._learn_layers(ev)
        g = ev.get
        step = g("step")
        if type(step) is not int:
            step = _step_number(step, self.last_step)
        self._buf_steps.append(step)
        buf = self._buf
        buf += map(g, SERIES_SCALARS)
        buf.append(_NOT_FINITE if g("finite") is False else None)
        n = self._n_layers
        for v in map(g, LAYER_KEYS):
            if type(v) is list and len(v) == n:
                buf += v
            else:
                buf += _fit(v, n)
        self.count += 1
        if self.first_step is None:
            self.first_step = int(step)
        self.last_step = int(step)
        self.last = ev
        if len(self._buf_steps) >= _BLOCK:
            self._flush()

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        for ev in events:
            self.push(ev)

    def _learn_layers(self, ev: dict[str, Any]) -> None:
        """Without a run event, the first per-layer list seen sets the layer count."""
        for key in LAYER_KEYS:
            v = ev.get(key)
            if isinstance(v, list | tuple):
                self._layers_known = True
                if len(v) != self._n_layers:
                    self._resize_layers(len(v))
                return

    def _resize_layers(self, n_layers: int) -> None:
        """Re-lay the columns for ``n_layers``; scalar series pushed so far are kept."""
        self._flush()
        old = (self._lo, self._hi, self._last, self._bsteps, self._bflag)
        width, folded = self._width, self._folded
        self._alloc(n_layers)
        keep = _NS + 1
        for new, prev in zip((self._lo, self._hi, self._last), old[:3], strict=True):
            new[:, :keep] = prev[:, :keep]
        self._bsteps[:] = old[3]
        self._bflag[:] = old[4]
        self._width, self._folded = width, folded

    def _flush(self) -> None:
        """Fold the staged pushes into the buckets (vectorised, a few calls per block)."""
        k = len(self._buf_steps)
        if k == 0:
            return
        try:
            rows = np.array(self._buf, dtype=np.float64).reshape(k, self._ncols)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int > 1.8e308
            rows = np.array([_num(v) for v in self._buf], dtype=np.float64)
            rows = rows.reshape(k, self._ncols)
        steps = np.array([_num(s) for s in self._buf_steps], dtype=np.float64)
        self._buf.clear()
        self._buf_steps.clear()
        with np.errstate(invalid="ignore"):
            finite_vals = np.where(np.isfinite(rows), rows, np.nan)
            flags = np.isinf(rows).any(axis=1) | (rows[:, _NS] == _NOT_FINITE)
        self._record_nonfinite(steps[flags])
        done = 0
        while done < k:
            if self._folded == self.capacity * self._width:
                self._compact()
            room = self.capacity * self._width - self._folded
            part = slice(done, done + min(room, k - done))
            self._fold_rows(finite_vals[part], rows[part], flags[part], steps[part])
            done = part.stop

    def _fold_rows(
        self, vals: np.ndarray, raw: np.ndarray, flags: np.ndarray, steps: np.ndarray
    ) -> None:
        """Fold rows that all fit in the current buckets (no compaction needed)."""
        k, w = len(steps), self._width
        bucket = (self._folded + np.arange(k)) // w
        starts = np.flatnonzero(np.diff(bucket, prepend=-1))
        lo, hi, last, flag = _fold(vals, vals, raw, flags, starts)
        ids = bucket[starts]
        first = ids[0]
        if self._folded % w:  # the first bucket is open: merge with what it holds
            lo[0] = np.fmin(lo[0], self._lo[first])
            hi[0] = np.fmax(hi[0], self._hi[first])
            last[0] = np.where(np.isnan(last[0]), self._last[first], last[0])
            flag[0] |= self._bflag[first]
        self._lo[ids], self._hi[ids], self._last[ids], self._bflag[ids] = lo, hi, last, flag
        self._bsteps[ids] = steps[np.append(starts[1:], k) - 1]
        self._folded += k

    def _compact(self) -> None:
        """Merge adjacent bucket pairs: half as many buckets, each twice as wide."""
        half = self.capacity // 2
        pairs = np.arange(0, self.capacity, 2)
        lo, hi, last, flag = _fold(self._lo, self._hi, self._last, self._bflag, pairs)
        self._lo[:half], self._hi[:half], self._last[:half], self._bflag[:half] = (
            lo,
            hi,
            last,
            flag,
        )
        self._bsteps[:half] = self._bsteps[1::2]
        for a in (self._lo, self._hi, self._last, self._bsteps):
            a[half:] = np.nan
        self._bflag[half:] = False
        self._width *= 2

    def _record_nonfinite(self, steps: np.ndarray) -> None:
        room = self.max_nonfinite - len(self.nonfinite_steps)
        if room > 0 and len(steps):
            self.nonfinite_steps.extend(int(s) for s in steps[:room])

    # -- reading --------------------------------------------------------------------

    def _column(self, key: str, layer: int | None) -> int:
        if key in SERIES_SCALARS:
            if layer is not None:
                raise ValueError(f"{key} is a scalar series; it takes no layer")
            return SERIES_SCALARS.index(key)
        if key in LAYER_KEYS:
            if layer is None:
                raise ValueError(f"{key} is a per-layer series; pass layer=0..")
            if not -self._n_layers <= layer < self._n_layers:
                raise IndexError(f"layer {layer} out of range for {self._n_layers} layers")
            return _NS + 1 + LAYER_KEYS.index(key) * self._n_layers + layer % self._n_layers
        raise KeyError(f"unknown series {key!r}; known: {', '.join(SERIES_SCALARS + LAYER_KEYS)}")

    def series(
        self, key: str, layer: int | None = None, width: int | None = None, group: int | None = None
    ) -> Series:
        """One series over the whole run, at most ``width`` points (min/max merged).

        ``group``: merge every ``group`` buckets from the first instead (a plot whose
        points keep their steps while the run grows); ``width`` is then ignored.
        """
        col = self._column(key, layer)
        self._flush()
        n = -(-self._folded // self._width)  # buckets in use
        steps = self._bsteps[:n].copy()
        lo, hi = self._lo[:n, col].copy(), self._hi[:n, col].copy()
        last, flag = self._last[:n, col].copy(), self._bflag[:n].copy()
        if group is None and width is not None and n > width > 0:
            group = -(-n // width)
        if group is not None and group > 1 and n > 0:
            starts = np.arange(0, n, group)
            lo, hi, last2, flag = _fold(lo, hi, last[:, None], flag, starts)
            last = last2[:, 0]
            steps = steps[np.append(starts[1:], n) - 1]
        return Series(steps=steps, lo=lo, hi=hi, last=last, nonfinite=flag)


def _fit(v: Any, n: int) -> list[Any]:
    """A per-layer value as exactly ``n`` entries: padded with None, or truncated."""
    if not isinstance(v, list | tuple):
        return [None] * n
    v = list(v[:n])
    return v + [None] * (n - len(v))


def _step_number(v: Any, previous: int | None) -> int:
    """A step number that is not a plain int: a whole finite float, else previous + 1."""
    if isinstance(v, float | int | np.number) and not isinstance(v, bool) and math.isfinite(v):
        return int(v)
    return (previous or 0) + 1


def _num(v: Any) -> float:
    """A staged value as a float; anything that is not a number is "no data" (NaN)."""
    if v is None or isinstance(v, str):
        return math.nan
    try:
        return float(v)
    except OverflowError:  # an int beyond float64 (decode refuses these; in-process pushes)
        return math.inf if v > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan
