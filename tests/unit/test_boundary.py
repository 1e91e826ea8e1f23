"""core.boundary: the grid in the stream is the network's own prediction, strictly read."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from bp_tui.core.boundary import (
    GRID_H,
    GRID_W,
    check_boundary,
    decode_boundary,
    grid_points,
)
from bp_tui.core.config import DataConfig, ModelConfig, Scenario, TrainConfig
from bp_tui.core.events import decode, encode
from bp_tui.core.stream import read_stream
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load

STEP = 1.0 / 255.0  # one quantisation step of a two-class byte
# The grid's forward pass runs in float32 (BoundaryProbe.logits): its p is within 4e-7
# of float64's on these networks, so a byte may round the other way that close to a
# step's edge.
F32 = 1e-5


def scenario(activation: str, loss: str, classes: int, probe_every: int = 5) -> Scenario:
    return Scenario(
        name="test",
        title="Test",
        steps=30,
        data=DataConfig(
            kind="blobs" if classes > 2 else "moons", samples=200, noise=0.2, classes=classes
        ),
        model=ModelConfig(hidden=(16, 8), activation=activation, init="he", loss=loss),
        train=TrainConfig(batch_size=32, lr=0.3, probe_every=probe_every),
    )


def reference_probabilities(ws, act: str, loss: str, X: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """P(class) per unit from a plain NumPy forward pass on the weights ``ws``: (m, n_out)."""
    f = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }[act]
    a = X
    for i, (W, b) in enumerate(ws):
        z = a @ W.T + b
        a = z if i == len(ws) - 1 else f(z)
    if loss == "softmax_ce":
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if loss == "mse":
        return np.clip(a, 0, 1)
    return 1 / (1 + np.exp(-a))


def probe_steps(t: Trainer):  # type: ignore[no-untyped-def]
    """Run ``t`` to the end; yield (event dict as on the wire, weights after the step)."""
    while not t.finished:
        ev = decode(encode(t.step().to_dict()))
        if "boundary" in ev:
            yield ev, [(layer.W.copy(), layer.b.copy()) for layer in t.net.layers]


@pytest.mark.parametrize(
    ("act", "loss"), [("relu", "bce"), ("tanh", "mse"), ("sigmoid", "softmax_ce")]
)
def test_two_class_grid_is_the_networks_probability_to_one_step(act: str, loss: str) -> None:
    t = Trainer(scenario(act, loss, 2))
    seen = 0
    for ev, ws in probe_steps(t):
        b = decode_boundary(ev["boundary"])
        assert (b.w, b.h, b.classes) == (GRID_W, GRID_H, 2)
        pts = grid_points(b.w, b.h, b.x, b.y)
        p = reference_probabilities(ws, act, loss, pts)
        p1 = (p[:, 0] if p.shape[1] == 1 else p[:, 1]).reshape(b.h, b.w)
        assert np.abs(b.probability() - p1).max() <= STEP / 2 + F32
        sure = np.abs(p1 - 0.5) > STEP  # away from the fence the class is exact
        assert np.array_equal(b.labels()[sure], (p1 > 0.5)[sure])
        seen += 1
    assert seen == 1 + 30 // 5  # step 1 and every 5th (the last among them)


def test_many_class_grid_is_the_argmax_and_its_confidence() -> None:
    t = Trainer(scenario("relu", "softmax_ce", 4))
    for ev, ws in probe_steps(t):
        b = decode_boundary(ev["boundary"])
        assert b.classes == 4 and b.levels == 64
        p = reference_probabilities(ws, "relu", "softmax_ce", grid_points(b.w, b.h, b.x, b.y))
        top = np.sort(p, axis=1)
        clear = (top[:, -1] - top[:, -2]).reshape(b.h, b.w) > F32
        assert np.array_equal(b.labels()[clear], p.argmax(axis=1).reshape(b.h, b.w)[clear])
        conf = (p.max(axis=1).reshape(b.h, b.w) - 0.25) / 0.75
        assert np.abs(b.confidence() - conf)[clear].max() <= 0.5 / 64 + F32


def test_outputs_beyond_float32_get_their_map_from_float64() -> None:
    # Exploding weights pass 3.4e38 (float32's largest) long before float64's 1.8e308:
    # such a network still predicts, and its map comes from the float64 pass.
    t = Trainer(scenario("relu", "bce", 2))
    t.step()
    out = t.net.layers[-1]
    out.W = out.W * 1e60
    out.b = np.array([-1e45])
    ws = [(layer.W.copy(), layer.b.copy()) for layer in t.net.layers]
    t.probe()
    assert t._boundary is not None
    b = decode_boundary(t._boundary)
    with np.errstate(over="ignore"):  # exp(1e45): p is exactly 0 there
        p = reference_probabilities(ws, "relu", "bce", grid_points(b.w, b.h, b.x, b.y))[:, 0]
    assert np.array_equal(b.probability().ravel(), np.rint(p * 255) / 255)
    assert 0 < b.labels().sum() < b.w * b.h  # both classes: the map is not all one value


def test_large_logits_keep_the_class_and_stay_within_one_step_of_float64() -> None:
    # exploding with its fix: the built-in whose float32 grid strays most from float64
    # (logits of several hundred; 1.4e-4 in p, 3 cells a step off, no class changed)
    t = Trainer(load("exploding", fix=True))
    for ev, ws in probe_steps(t):
        b = decode_boundary(ev["boundary"])
        with np.errstate(over="ignore"):  # logits below -709: p is exactly 0 there
            p = reference_probabilities(ws, "relu", "bce", grid_points(b.w, b.h, b.x, b.y))
        p1 = p[:, 0].reshape(b.h, b.w)
        assert np.abs(b.probability() - p1).max() <= STEP / 2 + 2e-4
        sure = np.abs(p1 - 0.5) > 2e-4
        assert np.array_equal(b.labels()[sure], (p1 > 0.5)[sure])


def test_grid_covers_the_data_and_comes_only_on_probe_steps() -> None:
    t = Trainer(scenario("relu", "bce", 2, probe_every=7))
    with_grid = []
    while not t.finished:
        ev = t.step().to_dict()
        if "boundary" in ev:
            with_grid.append(ev["step"])
            b = decode_boundary(ev["boundary"])
    assert with_grid == [1, 7, 14, 21, 28, 30]
    for col, (lo, hi) in ((0, b.x), (1, b.y)):
        assert lo < t.X[:, col].min() and t.X[:, col].max() < hi
    assert "boundary" not in Trainer(scenario("relu", "bce", 2), boundary=False).step().to_dict()


def test_boundary_off_trains_the_same_run() -> None:
    a, b = Trainer(load("healthy")), Trainer(load("healthy"), boundary=False)
    for _ in range(60):
        ea, eb = a.step().to_dict(), b.step().to_dict()
        ea.pop("boundary", None)
        assert encode(ea) == encode(eb)


def test_default_run_stream_grows_at_most_a_quarter_and_bytes_per_probe() -> None:
    # The default scenario (healthy) run to its end, with and without the grid.
    sizes, probes = {}, 0
    for on in (False, True):
        t = Trainer(load("healthy"), boundary=on)
        n = len(encode(t.run_event())) + 1
        while not t.finished:
            ev = t.step().to_dict()
            probes += "boundary" in ev
            n += len(encode(ev)) + 1
        sizes[on] = n + len(encode(t.end_event())) + 1
    growth = sizes[True] / sizes[False] - 1
    assert growth <= 0.25
    per_probe = (sizes[True] - sizes[False]) / probes
    # the README states about 1.2 KB a probe: 1024 base64 characters and the keys
    assert 4 * GRID_W * GRID_H / 3 < per_probe < 1300


GOOD = {"w": 2, "h": 3, "x": [-1.0, 1.0], "y": [0, 2], "classes": 2,
        "p": base64.b64encode(bytes(range(6))).decode()}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"w": 0}, "boundary.w"),
        ({"w": 300}, "boundary.w"),
        ({"h": True}, "boundary.h"),
        ({"h": 2.0}, "boundary.h"),
        ({"classes": 1}, "boundary.classes"),
        ({"x": [1.0, -1.0]}, "boundary.x"),
        ({"y": [0, None]}, "boundary.y"),
        ({"y": [0, 1, 2]}, "boundary.y"),
        ({"p": 12}, "boundary.p"),
        ({"p": base64.b64encode(bytes(5)).decode()}, "boundary.p"),
        ({"p": "!!!!!!!!"}, "boundary.p"),
        ({"classes": 3, "p": base64.b64encode(bytes([0, 1, 2, 3, 4, 255])).decode()}, "boundary.p"),
    ],
)
def test_reader_refuses_a_bad_grid_with_its_line(tmp_path: Path, change: dict, key: str) -> None:
    assert check_boundary(GOOD) is None
    bad = {**GOOD, **change}
    assert check_boundary(bad).startswith(key + ":")
    path = tmp_path / "s.jsonl"
    lines = [
        {"type": "run", "version": 2},
        {"type": "step", "step": 1, "loss": 1.0, "boundary": GOOD},
        {"type": "step", "step": 2, "loss": 1.0, "boundary": bad},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = read_stream(path)
    assert len(got.events) == 1 and got.events[0]["boundary"] == GOOD
    assert got.error is not None and got.error.line == 3 and key in str(got.error)


def test_reader_refuses_a_grid_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"type":"step","step":1,"loss":1,"boundary":"abc"}\n')
    assert "boundary: found str" in str(read_stream(path).error)
