"""The backprop view's trace: the trainer's own numbers for one step, checked by hand.

The reference is a plain NumPy forward and backward pass over the same weights and
batch, written here (not ``core``'s layers).
"""

from __future__ import annotations

import numpy as np
import pytest

from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load

F = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
DF = {
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "sigmoid": lambda z: F["sigmoid"](z) * (1 - F["sigmoid"](z)),
}


def reference(ws, act: str, X: np.ndarray, Y: np.ndarray) -> list[dict]:  # type: ignore[no-untyped-def]
    """Per layer: a_prev, z, a, f'(z), dL/da, delta, dW, db, dL/da_prev (bce loss)."""
    out, a = [], X
    for k, (W, b) in enumerate(ws):
        z = a @ W.T + b
        last = k == len(ws) - 1
        out.append({"a_prev": a, "z": z, "a": z if last else F[act](z),
                    "fprime": np.ones_like(z) if last else DF[act](z)})  # fmt: skip
        a = out[-1]["a"]
    dA = (F["sigmoid"](out[-1]["z"]) - Y) / len(X)
    for k in range(len(ws) - 1, -1, -1):
        d = out[k]
        d["dA"] = dA
        d["delta"] = dA * d["fprime"]
        d["dW"] = d["delta"].T @ d["a_prev"]
        d["db"] = d["delta"].sum(axis=0)
        d["dA_prev"] = dA = d["delta"] @ ws[k][0]
    return out


def norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(a * a)))


@pytest.mark.parametrize("name", ["micro", "vanishing"])
def test_trace_is_the_step_as_an_independent_backprop_computes_it(name: str) -> None:
    t = Trainer(load(name))
    for _ in range(3):
        t.step()
    ws = [(lay.W.copy(), lay.b.copy()) for lay in t.net.layers]
    t.request_trace()
    ev = t.step()
    trace = t.last_trace
    assert trace is not None and trace["step"] == ev.step == 4
    assert trace["loss"] == ev.loss
    ref = reference(ws, t.net.activation, t._Xb, t._Yb)
    assert trace["unit_level"] is (name == "micro")
    for k, (got, want) in enumerate(zip(trace["layers"], ref, strict=True)):
        assert got["delta_norm"] == ev.error_signal[k]
        assert got["fprime_mean"] == ev.fprime_mean[k]
        assert got["dW_norm"] == pytest.approx(ev.grad_norm[k], rel=1e-12)
        assert got["db_norm"] == pytest.approx(ev.bias_grad_norm[k], rel=1e-12)
        for key in ("dA", "delta", "dA_prev"):
            assert got[f"{key}_norm"] == pytest.approx(norm(want[key]), rel=1e-9)
        for key in ("z", "a"):
            assert got[key]["mean"] == pytest.approx(want[key].mean(), rel=1e-9, abs=1e-15)
            assert got[key]["std"] == pytest.approx(want[key].std(), rel=1e-9)
        if name != "micro":
            assert "unit" not in got
            continue
        unit = got["unit"]
        assert trace["examples"] == 4  # the first four rows of the batch
        for e in range(trace["examples"]):
            for key in ("a_prev", "z", "a", "fprime", "dA", "delta", "dA_prev"):
                np.testing.assert_allclose(unit[key][e], want[key][e], rtol=1e-9, atol=1e-300)
            np.testing.assert_allclose(
                unit["dW_example"][e], np.outer(want["delta"][e], want["a_prev"][e]), rtol=1e-12
            )
        np.testing.assert_allclose(unit["dW"], want["dW"], rtol=1e-9)
        np.testing.assert_allclose(unit["db"], want["db"], rtol=1e-9)
        np.testing.assert_array_equal(unit["W"], ws[k][0])


def test_only_the_requested_step_is_traced() -> None:
    t = Trainer(load("micro"))
    t.step()
    assert t.last_trace is None
    t.request_trace()
    t.step()
    t.step()
    assert t.last_trace is not None and t.last_trace["step"] == 2


def test_micro_is_traced_unit_by_unit_and_learns_xor() -> None:
    t = Trainer(load("micro"))
    assert t.net.sizes == [2, 3, 3, 1]
    while not t.finished:
        ev = t.step()
    assert t.end_reason == "completed" and ev.accuracy is not None and ev.accuracy > 0.95
