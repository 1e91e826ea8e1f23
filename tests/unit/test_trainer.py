"""Trainer: what each step event reports, checked against independent computations.

The reference here is a few lines of plain NumPy (forward, backprop, finite
differences) written for these tests, not the ``core`` modules under test.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from bp_tui.core.config import DataConfig, ModelConfig, Scenario, TrainConfig
from bp_tui.core.events import decode, encode
from bp_tui.core.trainer import Trainer

ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}
DACT = {
    "relu": lambda z: (z > 0).astype(float),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.01),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: ACT["sigmoid"](z) * (1.0 - ACT["sigmoid"](z)),
}


def scenario(
    activation: str = "tanh",
    hidden: tuple[int, ...] = (8, 6),
    seed: int = 0,
    steps: int = 100,
    samples: int = 96,
    **train: object,
) -> Scenario:
    return Scenario(
        name="test",
        title="Test",
        seed=seed,
        steps=steps,
        data=DataConfig(kind="moons", samples=samples, noise=0.1, classes=2),
        model=ModelConfig(hidden=hidden, activation=activation, loss="bce"),
        train=TrainConfig(**{"batch_size": 16, "lr": 0.1, **train}),  # type: ignore[arg-type]
    )


def weights(t: Trainer) -> list[tuple[np.ndarray, np.ndarray]]:
    """A copy of the net's (W, b) per layer."""
    return [(layer.W.copy(), layer.b.copy()) for layer in t.net.layers]


def ref_forward(ws, act: str, X: np.ndarray) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """Pre-activations and outputs per layer; the last layer is linear."""
    zs, as_ = [], [X]
    for k, (W, b) in enumerate(ws):
        z = as_[-1] @ W.T + b
        zs.append(z)
        as_.append(z if k == len(ws) - 1 else ACT[act](z))
    return zs, as_


def ref_loss(ws, act: str, X: np.ndarray, y: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Mean binary cross-entropy of one logit per example."""
    z = ref_forward(ws, act, X)[0][-1][:, 0]
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def ref_grads(ws, act: str, X: np.ndarray, y: np.ndarray) -> list:  # type: ignore[no-untyped-def]
    """(dW, db) per layer of ``ref_loss`` by backprop."""
    zs, as_ = ref_forward(ws, act, X)
    dz = (ACT["sigmoid"](zs[-1]) - y[:, None]) / len(y)
    out = []
    for k in range(len(ws) - 1, -1, -1):
        out.append((dz.T @ as_[k], dz.sum(axis=0)))
        if k:
            dz = (dz @ ws[k][0]) * DACT[act](zs[k - 1])
    return out[::-1]


def batch(t: Trainer) -> tuple[np.ndarray, np.ndarray]:
    """The minibatch of the latest step (inputs, 0/1 labels)."""
    return t._Xb.copy(), t._Yb[:, 0].copy()


def norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(a * a)))


def test_step_one_gradient_norms_match_finite_differences() -> None:
    t = Trainer(scenario("tanh"))
    w0 = weights(t)
    ev = t.step()
    X, y = batch(t)
    eps = 1e-6
    fd = []
    for W, b in w0:
        grads = []
        for p in (W, b):
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + eps
                up = ref_loss(w0, "tanh", X, y)
                p[i] = old - eps
                down = ref_loss(w0, "tanh", X, y)
                p[i] = old
                g[i] = (up - down) / (2 * eps)
            grads.append(g)
        fd.append(grads)
    np.testing.assert_allclose(ev.grad_norm, [norm(g[0]) for g in fd], rtol=1e-5)
    np.testing.assert_allclose(ev.bias_grad_norm, [norm(g[1]) for g in fd], rtol=1e-5)
    total = np.sqrt(sum(norm(g[0]) ** 2 + norm(g[1]) ** 2 for g in fd))
    assert ev.global_grad_norm == pytest.approx(total, rel=1e-5)
    assert ev.loss == pytest.approx(ref_loss(w0, "tanh", X, y), rel=1e-12)
    # The reference backprop used below agrees with finite differences too.
    for (dW, db), (fW, fb) in zip(ref_grads(w0, "tanh", X, y), fd, strict=True):
        np.testing.assert_allclose(dW, fW, atol=1e-8)
        np.testing.assert_allclose(db, fb, atol=1e-8)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_update_ratio_and_weight_norm_match_the_weights(optimizer: str) -> None:
    t = Trainer(scenario("relu", optimizer=optimizer))
    for _ in range(4):
        before = weights(t)
        ev = t.step()
        after = weights(t)
        want = [norm(a[0] - b[0]) / norm(b[0]) for a, b in zip(after, before, strict=True)]
        np.testing.assert_allclose(ev.update_ratio, want, rtol=1e-6)
        np.testing.assert_allclose(ev.weight_norm, [norm(a[0]) for a in after], rtol=1e-12)


def test_clip_steps_count_exactly_the_steps_at_or_over_the_threshold() -> None:
    # Threshold near the typical gradient norm, so some steps clip and some do not.
    probe = Trainer(scenario("relu", hidden=(16, 16), seed=3))
    threshold = float(np.median([probe.step().global_grad_norm for _ in range(30)]))
    t = Trainer(scenario("relu", hidden=(16, 16), seed=3, clip="norm", clip_threshold=threshold))
    count, lr = 0, t.lr
    for _ in range(30):
        before = weights(t)
        ev = t.step()
        X, y = batch(t)
        g = ref_grads(before, "relu", X, y)
        gnorm = np.sqrt(sum(norm(dW) ** 2 + norm(db) ** 2 for dW, db in g))
        assert ev.global_grad_norm == pytest.approx(gnorm, rel=1e-9)
        count += gnorm >= threshold
        assert ev.clipped == (gnorm >= threshold)
        assert ev.clip_steps == count
        assert ev.clip_threshold == threshold
        # sgd with norm clipping moves the weights by lr * min(1, thr/||g||) * g.
        scale = min(1.0, threshold / gnorm)
        after = weights(t)
        for (W1, _), (W0, _), (dW, _) in zip(after, before, g, strict=True):
            np.testing.assert_allclose(W1, W0 - lr * scale * dW, rtol=1e-9, atol=1e-12)
        want = [norm(a[0] - b[0]) / norm(b[0]) for a, b in zip(after, before, strict=True)]
        np.testing.assert_allclose(ev.update_ratio, want, rtol=1e-6)
    assert 0 < count < 30


def test_value_clipping_counts_the_elements_it_changed() -> None:
    t = Trainer(scenario("relu", clip="value", clip_threshold=0.02))
    for _ in range(5):
        before = weights(t)
        ev = t.step()
        X, y = batch(t)
        g = ref_grads(before, "relu", X, y)
        want = [int((np.abs(dW) > 0.02).sum() + (np.abs(db) > 0.02).sum()) for dW, db in g]
        assert ev.clipped_values == want
        assert ev.clipped == (sum(want) > 0)
        dw = [norm(a[0] - b[0]) / norm(b[0]) for a, b in zip(weights(t), before, strict=True)]
        np.testing.assert_allclose(ev.update_ratio, dw, rtol=1e-6)


@pytest.mark.parametrize(
    ("activation", "bias_init", "init_scale"),
    [("relu", -0.8, 1.0), ("leaky_relu", -0.8, 1.0), ("tanh", 0.0, 4.0), ("sigmoid", 0.0, 6.0)],
)
def test_probe_counts_dead_and_saturated_units_over_the_full_data(
    activation: str, bias_init: float, init_scale: float
) -> None:
    sc = scenario(activation, hidden=(12, 12, 12), probe_every=5)
    sc = sc.with_(model=ModelConfig(**{**sc.model.__dict__, "bias_init": bias_init,
                                       "init_scale": init_scale}))  # fmt: skip
    t = Trainer(sc)
    for step in range(1, 8):
        ev = t.step()
        if step in (1, 5):
            zs, as_ = ref_forward(weights(t), activation, t.X)
            hidden_z, hidden_a = zs[:-1], as_[1:-1]
            if activation in ("relu", "leaky_relu"):
                want_dead = [int(((z <= 0).all(axis=0)).sum()) for z in hidden_z]
                assert ev.dead == [*want_dead, None]
                assert ev.saturated == [None] * 4
            else:
                a = hidden_a
                sat = [np.abs(x) > 0.97 for x in a] if activation == "tanh" else [
                    (x < 0.03) | (x > 0.97) for x in a
                ]  # fmt: skip
                np.testing.assert_allclose(ev.saturated[:-1], [s.mean() for s in sat])
                assert ev.saturated[-1] is None and ev.dead == [None] * 4
            logits = zs[-1][:, 0]
            assert ev.accuracy == pytest.approx(np.mean((logits > 0) == t.y))
            probed = ev
        else:  # between probes the latest probe is repeated
            assert (ev.dead, ev.saturated, ev.accuracy) == (
                probed.dead,
                probed.saturated,
                probed.accuracy,
            )
    if activation in ("relu", "leaky_relu"):
        assert any(probed.dead[:-1]), "the scenario should have dead units to count"
    else:
        assert max(probed.saturated[:-1]) > 0.1, "the scenario should saturate"


def stream(sc: Scenario, steps: int) -> list[str]:
    t = Trainer(sc)
    lines = [encode(t.run_event())]
    lines += [encode(t.step().to_dict()) for _ in range(steps)]
    return lines


def test_same_seed_gives_a_byte_identical_stream_and_another_seed_does_not() -> None:
    sc = scenario("relu", steps=50, clip="norm", clip_threshold=0.5)
    a, b = stream(sc, 50), stream(sc, 50)
    assert a == b
    other = stream(sc.with_(seed=1), 50)
    assert other[1:] != a[1:]
    assert all(x != y for x, y in zip(a[1:], other[1:], strict=True))


def test_diverging_run_ends_diverged_with_strict_json_and_no_warnings() -> None:
    sc = scenario("relu", hidden=(32, 32, 32, 32), steps=500, lr=50.0)
    sc = sc.with_(model=ModelConfig(hidden=(32, 32, 32, 32), activation="relu", init_scale=8.0))
    t = Trainer(sc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning fails the test
        lines = [encode(t.run_event())]
        while not t.finished:
            lines.append(encode(t.step().to_dict()))
        lines.append(encode(t.end_event()))

    def refuse(name: str) -> object:
        raise AssertionError(f"non-strict constant {name}")

    parsed = [json.loads(line, parse_constant=refuse) for line in lines]
    assert parsed == [decode(line) for line in lines]
    last = parsed[-2]
    assert t.end_reason == "diverged" and last["finite"] is False
    assert last["step"] < 500
    assert all(p["finite"] for p in parsed[1:-2])
    assert parsed[-1] == {"type": "end", "step": last["step"], "reason": "diverged"}
    with pytest.raises(RuntimeError, match="diverged"):
        t.step()


def test_run_completes_after_the_scenario_steps() -> None:
    t = Trainer(scenario("relu", steps=3))
    events = [t.step() for _ in range(3)]
    assert [e.step for e in events] == [1, 2, 3]
    assert t.finished and t.end_reason == "completed"
    assert t.end_event() == {"type": "end", "step": 3, "reason": "completed"}


def test_run_event_describes_the_network_and_the_config() -> None:
    sc = scenario("sigmoid", hidden=(5, 4))
    run = Trainer(sc).run_event()
    assert run["type"] == "run" and run["version"] == 2
    assert run["scenario"] == "test" and run["seed"] == 0 and run["fix"] is False
    assert run["layers"] == [
        {"name": "L1", "fan_in": 2, "fan_out": 5, "activation": "sigmoid"},
        {"name": "L2", "fan_in": 5, "fan_out": 4, "activation": "sigmoid"},
        {"name": "L3", "fan_in": 4, "fan_out": 1, "activation": "linear"},
    ]
    assert run["config"] == sc.to_dict()
    assert decode(encode(run)) == json.loads(json.dumps(run))


def test_set_lr_and_set_clip_apply_from_the_next_step() -> None:
    t = Trainer(scenario("relu"))
    t.step()
    t.set_lr(0.3)
    t.set_clip("norm", 1e-3)
    before = weights(t)
    ev = t.step()
    assert ev.lr == 0.3 and ev.clipped and ev.clip_threshold == 1e-3 and ev.clip_steps == 1
    moved = np.sqrt(sum(norm(a[0] - b[0]) ** 2 + norm(a[1] - b[1]) ** 2
                        for a, b in zip(weights(t), before, strict=True)))  # fmt: skip
    assert moved == pytest.approx(0.3 * 1e-3, rel=1e-6)  # sgd: lr * clipped norm
    t.set_clip("none")
    ev = t.step()
    assert not ev.clipped and ev.clip_threshold is None and ev.clip_steps == 1
    with pytest.raises(ValueError, match="clip mode"):
        t.set_clip("sometimes")
    with pytest.raises(ValueError, match="positive"):
        t.set_lr(-1.0)


def test_diagnostics_off_trains_the_same_run() -> None:
    sc = scenario("relu", optimizer="momentum", clip="norm", clip_threshold=0.3)
    on, off = Trainer(sc), Trainer(sc, diagnostics=False)
    for _ in range(20):
        a, b = on.step(), off.step()
        assert (a.loss, a.finite, a.global_grad_norm) == (b.loss, b.finite, b.global_grad_norm)
        assert b.grad_norm == [] and b.accuracy is None
    for (W1, b1), (W2, b2) in zip(weights(on), weights(off), strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
