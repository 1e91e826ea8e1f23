"""One optimiser step equals the update computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bp_tui.core.mlp import MLP
from bp_tui.core.optim import make_optimizer

P0 = [1.0, -2.0, 0.5]
G1 = [0.5, 0.25, -4.0]
G2 = [-1.0, 0.5, 2.0]
LR = 0.1


def run(name: str, grads: list[list[float]], lr: float = LR) -> np.ndarray:
    """Apply ``name`` to a parameter vector split in two arrays, one step per gradient."""
    opt = make_optimizer(name, lr)
    p = [np.array(P0[:2]), np.array(P0[2:])]
    for g in grads:
        opt.step(p, [np.array(g[:2]), np.array(g[2:])])
    return np.concatenate(p)


def test_sgd():
    np.testing.assert_allclose(run("sgd", [G1]), [1 - 0.05, -2 - 0.025, 0.5 + 0.4])


def test_momentum_two_steps():
    v1 = G1
    v2 = [0.9 * a + b for a, b in zip(v1, G2, strict=True)]
    want = [p - LR * a - LR * b for p, a, b in zip(P0, v1, v2, strict=True)]
    np.testing.assert_allclose(run("momentum", [G1, G2]), want, rtol=1e-15)


def test_adam_two_steps():
    want = []
    for p, g1, g2 in zip(P0, G1, G2, strict=True):
        m = s = 0.0
        for t, g in enumerate((g1, g2), start=1):
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g * g
            p -= LR * (m / (1 - 0.9**t)) / (math.sqrt(s / (1 - 0.999**t)) + 1e-8)
        want.append(p)
    np.testing.assert_allclose(run("adam", [G1, G2]), want, rtol=1e-13)
    # the first Adam step moves every parameter by lr, whatever its gradient's size
    np.testing.assert_allclose(np.abs(run("adam", [G1]) - P0), LR, rtol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_flat_update_equals_per_array_update(name):
    """An MLP's params/grads (one flat vector) update exactly like plain lists."""
    net = MLP([3, 5, 2], bias_init="normal", seed=1)
    rng = np.random.default_rng(0)
    plain_p = [p.copy() for p in net.params()]
    fast, plain = make_optimizer(name, 0.05), make_optimizer(name, 0.05)
    for _ in range(3):
        net.grads().flat[:] = rng.standard_normal(net.n_params)
        plain_g = [g.copy() for g in net.grads()]
        fast.step(net.params(), net.grads())
        plain.step(plain_p, plain_g)
        for g, g_copy in zip(net.grads(), plain_g, strict=True):
            np.testing.assert_array_equal(g, g_copy)  # gradients untouched
    for p, q in zip(net.params(), plain_p, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=1e-16)


def test_learning_rate_change_takes_effect_on_next_step():
    opt = make_optimizer("momentum", 0.1)
    p, g = [np.array([0.0])], [np.array([1.0])]
    opt.step(p, g)
    opt.lr = 1.0
    opt.step(p, g)
    assert p[0][0] == pytest.approx(-0.1 - 1.0 * 1.9)
