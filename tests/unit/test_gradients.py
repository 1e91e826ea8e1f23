"""Backprop agrees with central finite differences, for every activation and loss."""

from __future__ import annotations

import numpy as np
import pytest

from bp_tui.core.activations import get_activation
from bp_tui.core.config import ACTIVATIONS, LOSSES
from bp_tui.core.gradcheck import (
    KINK_MARGIN,
    checkable_examples,
    gradcheck,
    min_abs_preactivation,
    numerical_grads,
)
from bp_tui.core.losses import get_loss, n_outputs, targets_for
from bp_tui.core.mlp import MLP

EPS = 1e-6


def test_finite_differences_match_the_closed_form():
    """The estimator used below, on a case solved by hand: one linear layer + mse.

    L = |X W.T + b - Y|^2 / (2m)  =>  dL/dW = (Z - Y).T X / m,  dL/db = sum_i (Z - Y)_i / m.
    """
    rng = np.random.default_rng(5)
    net = MLP([3, 2], bias_init="normal", seed=5)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    residual = X @ net.layers[0].W.T + net.layers[0].b - Y
    dW, db = numerical_grads(net, X, Y, "mse", EPS)
    np.testing.assert_allclose(dW, residual.T @ X / 6, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(db, residual.sum(axis=0) / 6, rtol=1e-8, atol=1e-10)


def small_problem(activation: str, loss: str, depth: int, bias_init: float | str, seed: int):
    """A net of ``depth`` layers (3 inputs, width 4) and 5 random examples."""
    classes = 2 + depth % 2  # both the one-unit and the one-unit-per-class outputs
    sizes = [3] + [4] * (depth - 1) + [n_outputs(loss, classes)]
    init = "he" if activation in ("relu", "leaky_relu") else "xavier"
    # sigmoid's slope is at most 1/4: Glorot's factor 4 keeps six layers of it from
    # shrinking the first layer's gradient into the finite differences' rounding noise.
    scale = 4.0 if activation == "sigmoid" else 1.0
    net = MLP(sizes, activation, init, scale, bias_init, seed)
    rng = np.random.default_rng(100 + seed)
    X = rng.standard_normal((5, 3))
    Y = targets_for(loss, rng.integers(0, classes, 5), classes)
    return net, X, Y


@pytest.mark.parametrize("bias_init", [0.0, "normal"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_matches_finite_differences(activation, loss, depth, bias_init):
    # A ReLU kink within reach of the +-EPS probes makes the *estimate* wrong (with
    # zero biases a layer that is all off for an example puts the next one exactly at
    # z = 0), so take the first seed whose pre-activations all keep clear of 0.
    for seed in range(20):
        net, X, Y = small_problem(activation, loss, depth, bias_init, seed=seed)
        if min_abs_preactivation(net, X) > 1e-4:
            break
    else:
        pytest.fail("no seed keeps the pre-activations away from the ReLU kink")

    expected = numerical_grads(net, X, Y, loss, EPS)
    _, dlogits = get_loss(loss)(net.forward(X), Y)
    net.backward(dlogits)
    for k, layer in enumerate(net.layers):
        bp = np.concatenate([layer.dW.ravel(), layer.db.ravel()])
        fd = np.concatenate([expected[2 * k].ravel(), expected[2 * k + 1].ravel()])
        assert np.abs(fd).max() > 1e-8, "a layer with no gradient checks nothing"
        rel = np.abs(bp - fd).max() / (np.abs(bp).max() + np.abs(fd).max())
        assert rel < 1e-7, f"layer {k}: relative error {rel:.2e}"


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_input_gradient_when_asked(activation):
    net, X, Y = small_problem(activation, "mse", 3, "normal", seed=7)
    fn = get_loss("mse")
    _, dlogits = fn(net.forward(X), Y)
    assert net.backward(dlogits, need_dx=False) is None  # what the trainer asks for
    dX = net.backward(dlogits).copy()  # the design's API: backward returns dL/dX
    fd = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += EPS
        Xm[idx] -= EPS
        fd[idx] = (fn(net.forward(Xp), Y)[0] - fn(net.forward(Xm), Y)[0]) / (2 * EPS)
    assert np.abs(dX - fd).max() / (np.abs(dX).max() + np.abs(fd).max()) < 1e-7


def test_backward_leaves_dlogits_alone():
    net, X, Y = small_problem("tanh", "bce", 3, 0.0, seed=1)
    _, dlogits = get_loss("bce")(net.forward(X), Y)
    before = dlogits.copy()
    net.backward(dlogits, need_dx=True)
    np.testing.assert_array_equal(dlogits, before)


SIMPLE = {
    "linear": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
}


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_is_the_matrix_formula(activation):
    """Z = X @ W.T + b and A = f(Z), also after switching between batch sizes."""
    net = MLP([3, 6, 5, 2], activation=activation, bias_init="normal", seed=3)
    rng = np.random.default_rng(0)
    big, small = rng.standard_normal((9, 3)), rng.standard_normal((4, 3))
    for X in (big, small, big):
        A = X
        for k, layer in enumerate(net.layers):
            f = SIMPLE["linear" if k == len(net.layers) - 1 else activation]
            A = f(A @ layer.W.T + layer.b)
        np.testing.assert_allclose(net.forward(X), A, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_derivative(activation):
    act = get_activation(activation)
    z = np.random.default_rng(1).uniform(-4, 4, (7, 5))
    np.testing.assert_allclose(act.fn(z), SIMPLE[activation](z), rtol=1e-14, atol=1e-15)
    fd = (SIMPLE[activation](z + EPS) - SIMPLE[activation](z - EPS)) / (2 * EPS)
    np.testing.assert_allclose(act.grad(z, act.fn(z)), fd, rtol=1e-7, atol=1e-9)


def test_gradcheck_reports_small_error_and_restores_parameters():
    net, X, Y = small_problem("tanh", "softmax_ce", 4, "normal", seed=2)
    before = net.params().flat.copy()
    checks = gradcheck(net, X, Y, "softmax_ce")
    assert [c.name for c in checks] == ["L1", "L2", "L3", "L4"]
    assert all(c.rel_error < 1e-7 for c in checks)
    assert sum(c.n_params for c in checks) == net.n_params
    np.testing.assert_array_equal(net.params().flat, before)


def test_gradcheck_catches_a_wrong_backprop(monkeypatch):
    net, X, Y = small_problem("sigmoid", "bce", 3, "normal", seed=2)
    sigmoid = net.layers[0].activation
    # The classic bug: using a * (1 - a) with a = z instead of a = sigmoid(z).
    monkeypatch.setattr(
        type(sigmoid), "backward", lambda self, dA, z, a, out: np.multiply(dA, z * (1 - z), out=out)
    )
    checks = gradcheck(net, X, Y, "bce")
    assert checks[-1].rel_error < 1e-7  # the linear output layer is unaffected
    assert checks[0].rel_error > 1e-2


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_checkable_examples_keep_a_correct_backprop_from_failing_at_the_kink(activation):
    """One example put 3e-7 from the kink fails a correct backprop (the dashboard's
    check said FAIL on healthy 2 times in 100); the examples it checks leave it out."""
    rng = np.random.default_rng(7)
    net = MLP([2, 8, 8, 1], activation, "he", seed=7)
    X, Y = rng.standard_normal((200, 2)), targets_for("bce", rng.integers(0, 2, 200), 2)
    net.forward(X)
    first = net.layers[0]
    first.b[3] -= first.Z[0, 3] - 3e-7  # example 0, unit 3: z = 3e-7

    near = gradcheck(net, X[:64], Y[:64], "bce", EPS)
    assert near[0].rel_error > 1e-5  # the estimate crosses the kink: not backprop's fault

    Xc, Yc = checkable_examples(net, X, Y)
    assert Xc.shape == (64, 2) and Yc.shape == (64, 1)
    rows = [i for i in range(200) if any((Xc == X[i]).all(axis=1))]

    def clear(i: int) -> bool:  # brute force, one example at a time
        net.forward(X[i : i + 1])
        return all(np.abs(layer.Z).min() >= KINK_MARGIN for layer in net.layers[:-1])

    assert 0 not in rows and rows == [i for i in range(200) if clear(i)][:64]
    assert all(c.rel_error < 1e-7 for c in gradcheck(net, Xc, Yc, "bce", EPS))


def test_checkable_examples_of_a_smooth_network_are_the_first():
    rng = np.random.default_rng(8)
    net = MLP([2, 8, 1], "tanh", "xavier", seed=8)
    X, Y = rng.standard_normal((100, 2)), rng.standard_normal((100, 1))
    Xc, Yc = checkable_examples(net, X, Y, m=10)
    assert (Xc == X[:10]).all() and (Yc == Y[:10]).all()
