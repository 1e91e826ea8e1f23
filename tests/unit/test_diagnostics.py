"""Dead and saturated units equal a brute-force count."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bp_tui.core.diagnostics import SquaredNorms, dead_units, layer_norms, saturated_fraction
from bp_tui.core.mlp import MLP


def brute_dead(Z: np.ndarray) -> int:
    dead = 0
    for j in range(Z.shape[1]):
        if all(Z[i, j] <= 0 for i in range(Z.shape[0])):
            dead += 1
    return dead


def brute_saturated(A: np.ndarray, activation: str) -> float:
    hits = 0
    for a in A.ravel():
        if activation == "tanh":
            hits += abs(a) > 0.97
        else:
            hits += a < 0.03 or a > 0.97
    return hits / A.size


@pytest.mark.parametrize("seed", range(4))
def test_dead_units_brute_force(seed):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((50, 30)) + rng.uniform(-3, 1, 30)  # some units mostly off
    Z[:, [2, 7, 11]] = -np.abs(Z[:, [2, 7, 11]])  # constructed dead units...
    Z[:, 7] = 0.0  # ...one exactly at the kink: z <= 0 counts as dead
    Z[3, 11] = 1e-12  # not dead: one example still switches it on
    expected = brute_dead(Z)
    assert dead_units(Z) == expected
    assert expected >= 2


def test_dead_units_in_a_real_layer():
    net = MLP([2, 8, 1], activation="relu", seed=0)
    net.layers[0].b[[1, 5]] = -100.0  # these two can never switch on for this data
    X = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    net.forward(X)
    assert dead_units(net.layers[0].Z) == brute_dead(net.layers[0].Z) >= 2


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_saturated_fraction_brute_force(activation):
    rng = np.random.default_rng(1)
    Z = rng.normal(0, 3, (40, 25))
    A = np.tanh(Z) if activation == "tanh" else 1 / (1 + np.exp(-Z))
    expected = brute_saturated(A, activation)
    assert saturated_fraction(A, activation) == pytest.approx(expected, abs=0)
    assert 0.1 < expected < 0.9  # the data has both kinds of entry


def test_saturation_is_undefined_for_relu():
    with pytest.raises(ValueError):
        saturated_fraction(np.ones((2, 2)), "relu")


def test_layer_norms():
    arrays = [np.array([[3.0, 4.0]]), np.array([1.0, 2.0, 2.0]), np.zeros(3)]
    assert layer_norms(arrays) == pytest.approx([5.0, 3.0, 0.0], rel=1e-15)


@pytest.mark.parametrize(
    "sizes", [[2, 32, 32, 32, 32, 1], [2, 64, 64, 1], [3, 4, 4, 4, 4, 2], [2, 5, 1]]
)
def test_squared_norms_of_a_networks_arrays_match_brute_force(sizes):
    # Equal hidden layers side by side in one buffer: each array must still get its own.
    net = MLP(sizes, bias_init="normal", seed=4)
    params = net.params()
    for arrays in (params[0::2], params[1::2], list(params)):
        flat = [a.reshape(-1) for a in arrays]
        want = [float(np.sum(a.astype(np.float64) ** 2)) for a in arrays]
        np.testing.assert_allclose(SquaredNorms(flat)(), want, rtol=1e-13)
        np.testing.assert_allclose(SquaredNorms(flat).norms(), np.sqrt(want), rtol=1e-13)


def test_squared_norms_of_unrelated_arrays_match_brute_force():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(n) for n in (7, 7, 7, 7, 3)]  # same length, not one buffer
    arrays.append(rng.standard_normal(20)[::2])  # not contiguous
    want = [float(np.sum(a**2)) for a in arrays]
    np.testing.assert_allclose(SquaredNorms(arrays)(), want, rtol=1e-13)


def test_norms_of_finite_arrays_never_overflow():
    """Squares overflow float64 beyond about 1e154: exploding weights reach 1e190 while
    still finite, and their norm was reported as inf. ``math.hypot`` is the independent
    overflow-free reference."""
    rng = np.random.default_rng(1)
    arrays = [
        rng.standard_normal(64) * 1e200,
        rng.standard_normal(7) * 1e-100,  # (below ~1e-154 the squares underflow to 0)
        np.array([1e308, 1e308]),  # the norm itself is finite: 1.414e308
        rng.standard_normal(5),
        np.array([np.inf, 1.0]),
        np.array([np.nan, 1.0]),
    ]
    want = [math.hypot(*a) for a in arrays]
    got = layer_norms(arrays)
    squared = SquaredNorms(arrays)
    with np.errstate(over="ignore", invalid="ignore"):  # as the trainer's step runs it
        from_squares = squared.norms()
    for norms in (got, from_squares):
        np.testing.assert_allclose(norms[:4], want[:4], rtol=1e-13)
        assert norms[4] == math.inf and math.isnan(norms[5])
    with np.errstate(over="ignore", invalid="ignore"):
        assert squared()[0] == math.inf  # the squares themselves do overflow, as they must
        roots = squared.roots()  # their plain square roots: inf where they overflowed
    assert roots[0] == math.inf
    np.testing.assert_allclose(roots[1:4:2], want[1:4:2], rtol=1e-13)


def test_the_core_needs_no_numpy_2_only_function(monkeypatch):
    """``np.vecdot`` (NumPy >= 2.0) crashed vanishing and exploding at their first step
    on NumPy 1.26, which pyproject.toml allows; the floor is tested in CI too."""
    from bp_tui.core.trainer import Trainer
    from bp_tui.scenarios import load

    monkeypatch.delattr(np, "vecdot", raising=False)
    for name in ("vanishing", "exploding", "healthy", "dying-relu"):
        trainer = Trainer(load(name, steps=3))
        events = [trainer.step() for _ in range(3)]
        assert [e.step for e in events] == [1, 2, 3]


def test_exploding_weight_norms_stay_finite_while_the_weights_are():
    """Exploding step 6 reported inf for weights of 9e189 to 5e203."""
    from bp_tui.core.trainer import Trainer
    from bp_tui.scenarios import load

    trainer = Trainer(load("exploding"))
    huge = 0
    while not trainer.finished:
        event = trainer.step()
        weights = [layer.W for layer in trainer.net.layers]
        if not all(np.isfinite(w).all() for w in weights):
            break
        want = [math.hypot(*w.ravel()) for w in weights]
        np.testing.assert_allclose(event.weight_norm, want, rtol=1e-12)
        huge += max(want) > 1e154
    assert huge, "the run never reached weights whose squares overflow"
