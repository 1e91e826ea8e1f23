"""Losses: the textbook value, the right gradient, and no overflow at +-1000."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bp_tui.core.config import LOSSES
from bp_tui.core.losses import get_loss, n_outputs, predict, targets_for


def textbook(loss: str, Z: np.ndarray, Y: np.ndarray) -> float:
    """Each loss written the direct (unstable) way, fine for moderate logits."""
    m = Z.shape[0]
    if loss == "bce":
        p = 1.0 / (1.0 + np.exp(-Z))
        return float(-(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum() / m)
    if loss == "softmax_ce":
        p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        return float(-(Y * np.log(p)).sum() / m)
    return float(((Z - Y) ** 2).sum() / (2 * m))


def problem(loss: str, classes: int, scale: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, 8)
    Y = targets_for(loss, y, classes)
    return scale * rng.standard_normal(Y.shape), Y


@pytest.mark.parametrize("classes", [2, 4])
@pytest.mark.parametrize("loss", LOSSES)
def test_value_matches_textbook_formula(loss, classes):
    Z, Y = problem(loss, classes, scale=3.0)
    value, _ = get_loss(loss)(Z, Y)
    assert value == pytest.approx(textbook(loss, Z, Y), rel=1e-12)


@pytest.mark.parametrize("classes", [2, 4])
@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_matches_finite_differences(loss, classes):
    Z, Y = problem(loss, classes, scale=3.0, seed=1)
    _, grad = get_loss(loss)(Z, Y)
    eps, fd = 1e-6, np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        up, down = Z.copy(), Z.copy()
        up[idx] += eps
        down[idx] -= eps
        fd[idx] = (textbook(loss, up, Y) - textbook(loss, down, Y)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", LOSSES)
def test_huge_logits_give_finite_values_and_no_warning(loss):
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [1000.0, 1000.0, -1000.0]])
    Y = np.eye(3)  # confidently right, confidently wrong, and a tie
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = get_loss(loss)(Z, Y)
    assert np.isfinite(value) and np.isfinite(grad).all()


def test_huge_logits_give_the_limit_values():
    """Far from 0 the losses become linear in the logit: check the exact limits."""
    Z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    Y = np.array([[1.0], [0.0], [0.0], [1.0]])
    value, grad = get_loss("bce")(Z, Y)
    assert value == pytest.approx(2000.0 / 4)  # two right (0 each), two wrong (1000 each)
    np.testing.assert_allclose(grad.ravel(), [0.0, 0.0, 0.25, -0.25])
    value, grad = get_loss("softmax_ce")(np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]]))
    assert value == pytest.approx(2000.0)
    np.testing.assert_allclose(grad, [[1.0, -1.0]])


def test_outputs_targets_and_predictions():
    y = np.array([0, 1, 1, 0])
    assert n_outputs("bce", 2) == 1 and n_outputs("mse", 2) == 1
    assert n_outputs("softmax_ce", 2) == 2 and n_outputs("bce", 3) == 3
    np.testing.assert_array_equal(targets_for("bce", y, 2), [[0], [1], [1], [0]])
    np.testing.assert_array_equal(targets_for("softmax_ce", y, 2)[:, 1], y)
    np.testing.assert_array_equal(targets_for("bce", np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    # one unit: bce thresholds sigmoid(z) at 1/2 (z > 0); mse the regressed label at 1/2
    z = np.array([[-0.2], [0.2], [0.7]])
    np.testing.assert_array_equal(predict("bce", z), [0, 1, 1])
    np.testing.assert_array_equal(predict("mse", z), [0, 0, 1])
    two_units = np.array([[1.0, 3.0], [2.0, -1.0]])
    np.testing.assert_array_equal(predict("softmax_ce", two_units), [1, 0])


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="allowed: bce, softmax_ce, mse"):
        get_loss("hinge")
