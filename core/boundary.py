"""The decision boundary: the network's prediction on a grid over the data, quantised.

At each probe the trainer runs one forward pass over ``GRID_W x GRID_H`` points
covering the data (its bounding box, padded by ``PAD`` on each side) and sends the
result in the probe step's optional ``boundary`` field, one byte per cell::

    "boundary": {"w": 32, "h": 24, "x": [lo, hi], "y": [lo, hi], "classes": 2,
                 "p": "<base64 of w*h bytes>"}

Cells are row-major, row 0 at the top (``y = hi``), column 0 on the left (``x = lo``);
cell ``(i, j)`` is the point at its centre (``grid_points``). A byte ``v`` means:

- two classes: the probability of class 1, ``v = round(255 p)``; class 1 when
  ``v >= 128`` (the network says class 1 when ``p > 0.5``).
- ``k > 2`` classes: ``v = c * L + q`` with ``L = 256 // k`` levels per class, ``c``
  the predicted class (the network's own arg-max) and ``q`` its confidence, the
  class's probability rescaled from ``[1/k, 1]`` to ``[0, 1]`` and cut into ``L`` bins.

``p`` for one output unit is ``sigmoid(z)`` (``bce``) or ``z`` clipped to [0, 1]
(``mse``, which regresses the label); for several units it is the softmax
(``softmax_ce``) or each unit's sigmoid / clipped value (``bce`` / ``mse``).
NumPy only; the stream's reader checks the field with ``check_boundary``.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

if TYPE_CHECKING:
    from .layers import Dense

GRID_W, GRID_H = 32, 24  # 768 cells: 1024 base64 characters, about 1.1 KB a probe
PAD = 0.1  # of the data's extent, added on each side
MAX_SIDE = 256  # cells per side a reader accepts (a foreign writer may send a finer grid)
MAX_CLASSES = 256


@dataclass(frozen=True)
class Boundary:
    """A decoded ``boundary`` field: ``values`` (h, w) uint8 as sent, and what they mean."""

    w: int
    h: int
    x: tuple[float, float]
    y: tuple[float, float]
    classes: int
    values: np.ndarray  # (h, w) uint8, row 0 at the top

    @property
    def levels(self) -> int:
        """Confidence levels per class (k > 2), or 256 (two classes: the byte is p)."""
        return 256 if self.classes == 2 else 256 // self.classes

    def labels(self) -> np.ndarray:
        """Predicted class per cell: (h, w) int64."""
        if self.classes == 2:
            return (self.values >= 128).astype(np.int64)
        return (self.values // self.levels).astype(np.int64)

    def confidence(self) -> np.ndarray:
        """How sure the network is of each cell's class, 0 (a toss-up) to 1: (h, w)."""
        v = self.values.astype(np.float64)
        if self.classes == 2:
            return np.abs(v / 255.0 - 0.5) * 2.0
        return (v % self.levels + 0.5) / self.levels

    def probability(self) -> np.ndarray:
        """Two classes: P(class 1) per cell, to within 1/510 plus float32's error: (h, w)."""
        if self.classes != 2:
            raise ValueError("probability() is for two classes; use labels() and confidence()")
        return self.values.astype(np.float64) / 255.0


def grid_extent(X: np.ndarray, pad: float = PAD) -> tuple[tuple[float, float], tuple[float, float]]:
    """The grid's x and y ranges: the data's bounding box, ``pad`` of its extent each side.

    ``X``: (m, 2). A flat extent (one distinct value) is widened to 1 so the grid has area.
    """
    out = []
    for col in (X[:, 0], X[:, 1]):
        lo, hi = float(col.min()), float(col.max())
        span = hi - lo if hi > lo else 1.0
        out.append((lo - pad * span, hi + pad * span))
    return out[0], out[1]


def grid_points(w: int, h: int, x: tuple[float, float], y: tuple[float, float]) -> np.ndarray:
    """The centres of the grid's cells, row-major from the top left: (h * w, 2) float64."""
    xs = x[0] + (np.arange(w) + 0.5) * (x[1] - x[0]) / w
    ys = y[1] - (np.arange(h) + 0.5) * (y[1] - y[0]) / h  # row 0 at the top
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def probabilities(loss: str, logits: np.ndarray) -> np.ndarray:
    """Per-unit probabilities from the network's logits (m, n_out), as the module says.

    In the logits' own float type: the grid's float32 logits keep float32 (tanh costs a
    fifth of float64's), other input is read as float64.
    """
    z = np.asarray(logits)
    if z.dtype != np.float32:
        z = z.astype(np.float64, copy=False)
    with np.errstate(over="ignore"):
        if loss == "mse":
            return np.clip(z, 0.0, 1.0)
        if loss == "softmax_ce":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid, without overflow


def quantise(loss: str, logits: np.ndarray, classes: int) -> np.ndarray:
    """One byte per row of ``logits`` (m, n_out): (m,) uint8, as the module says."""
    p = probabilities(loss, logits)
    if classes == 2:
        p1 = p[:, 0] if p.shape[1] == 1 else p[:, 1]
        return np.rint(p1 * 255.0).astype(np.uint8)
    levels = 256 // classes
    c = logits.argmax(axis=1)  # the network's own prediction (losses.predict)
    conf = p[np.arange(len(c)), c]
    scaled = np.clip((conf - 1.0 / classes) / (1.0 - 1.0 / classes), 0.0, 1.0)
    q = np.minimum((scaled * levels).astype(np.int64), levels - 1)
    return (c * levels + q).astype(np.uint8)


class BoundaryProbe:
    """The trainer's grid: fixed points over its data, encoded after a forward pass."""

    def __init__(self, X: np.ndarray, loss: str, classes: int) -> None:
        self.x, self.y = grid_extent(X)
        self.points = grid_points(GRID_W, GRID_H, self.x, self.y)
        self._columns = np.ascontiguousarray(self.points.T)  # (2, h * w): _forward's layout
        self._columns32 = self._columns.astype(np.float32)
        self.loss = loss
        self.classes = classes

    def logits(self, layers: Sequence[Dense]) -> np.ndarray:
        """The network's outputs on ``self.points``: (h * w, n_out), float32 if it can.

        The map keeps one byte per cell, steps of 1/255 in p. Float32's error in p grows
        with the size of the sums: at every probe of every built-in run to its end, with
        and without its fix, at most 5e-6, and 1.4e-4 on exploding's fix (logits of
        several hundred), where 3 cells of 15 360 came out one step from float64's and
        no cell changed class.
        In exchange the pass costs half to a fifth of float64's: its products
        move half the bytes, and NumPy's tanh and exp are vectorised for float32 only
        on AVX2 CPUs (tanh 2.7 against 13.6 ns a value). A network whose outputs
        overflow float32 (exploding weights reach 1e190 while still finite) is run
        again in float64, so the map is missing only when the network's own outputs
        are not finite.
        """
        logits = _forward(self._columns32, layers)
        return logits if np.isfinite(logits).all() else _forward(self._columns, layers)

    def field(self, logits: np.ndarray) -> dict[str, Any] | None:
        """The ``boundary`` field for the network's ``logits`` on ``self.points``.

        None when an output is not finite (a diverged network predicts nothing).
        """
        if not np.isfinite(logits).all():
            return None
        values = quantise(self.loss, logits, self.classes)
        return {
            "w": GRID_W,
            "h": GRID_H,
            "x": list(self.x),
            "y": list(self.y),
            "classes": self.classes,
            "p": base64.b64encode(values.tobytes()).decode("ascii"),
        }


def _forward(XT: np.ndarray, layers: Sequence[Dense]) -> np.ndarray:
    """The layers' outputs ``(m, n_out)`` for inputs ``XT`` ``(n_in, m)``, in its dtype.

    Laid out one unit per row, one point per column (``Z.T = W @ A.T + b``): the bias
    is then added along rows of m values; along the grid's rows of 16-64 units, NumPy's
    inner loop ran once per point and the bias cost as much as the product (relu nets:
    103 against 68 us a pass). Buffers of its own: the layers' caches are left alone.
    """
    a = XT
    for layer in layers:
        z = layer.W.astype(XT.dtype).dot(a)
        z += layer.b.astype(XT.dtype)[:, None]
        a = layer.activation.forward(z, np.empty_like(z))
    return a.T


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _range_problem(name: str, value: Any) -> str | None:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(v) for v in value)
        and value[0] < value[1]
    )
    return None if ok else f"boundary.{name}: found {value!r:.40}, allowed [lo, hi] with lo < hi"


def check_boundary(value: Any) -> str | None:
    """Why ``value`` is not a valid ``boundary`` field (one line), or None when it is."""
    if not isinstance(value, dict):
        return f"boundary: found {type(value).__name__}, allowed an object"
    for key in ("w", "h"):
        n = value.get(key)
        if not _is_int(n) or not 1 <= n <= MAX_SIDE:
            return f"boundary.{key}: found {n!r:.40}, allowed an integer from 1 to {MAX_SIDE}"
    k = value.get("classes")
    if not _is_int(k) or not 2 <= k <= MAX_CLASSES:
        return f"boundary.classes: found {k!r:.40}, allowed an integer from 2 to {MAX_CLASSES}"
    for key in ("x", "y"):
        problem = _range_problem(key, value.get(key))
        if problem:
            return problem
    p = value.get("p")
    if not isinstance(p, str):
        return f"boundary.p: found {type(p).__name__}, allowed a base64 string"
    cells = value["w"] * value["h"]
    if len(p) != 4 * math.ceil(cells / 3):
        return (
            f"boundary.p: found {len(p)} characters, allowed {4 * math.ceil(cells / 3)} (w*h bytes)"
        )
    try:
        raw = base64.b64decode(p, validate=True)
    except (binascii.Error, ValueError):
        return "boundary.p: found characters outside base64, allowed base64 of w*h bytes"
    if len(raw) != cells:
        return f"boundary.p: found {len(raw)} bytes, allowed w*h = {cells}"
    if k > 2 and max(raw) >= k * (256 // k):
        return f"boundary.p: found byte {max(raw)}, allowed below classes * (256 // classes)"
    return None


def decode_boundary(value: dict[str, Any]) -> Boundary:
    """A checked ``boundary`` field as a ``Boundary`` (raises ValueError if not valid)."""
    problem = check_boundary(value)
    if problem:
        raise ValueError(problem)
    w, h = value["w"], value["h"]
    values = np.frombuffer(base64.b64decode(value["p"]), dtype=np.uint8).reshape(h, w)
    return Boundary(
        w=w,
        h=h,
        x=(float(value["x"][0]), float(value["x"][1])),
        y=(float(value["y"][0]), float(value["y"][1])),
        classes=value["classes"],
        values=values,
    )
