"""Initial weights follow their closed-form distributions and the seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bp_tui.core.config import INITS
from bp_tui.core.initializers import init_bias, init_weights
from bp_tui.core.mlp import MLP

FAN_IN, FAN_OUT = 300, 500  # 150 000 samples: the sample std is within ~0.2% of sigma

NORMAL_STD = {
    "he": math.sqrt(2 / FAN_IN),
    "xavier": math.sqrt(2 / (FAN_IN + FAN_OUT)),
    "lecun": math.sqrt(1 / FAN_IN),
    "normal": 1.0,
}
UNIFORM_BOUND = {
    "xavier_uniform": math.sqrt(6 / (FAN_IN + FAN_OUT)),
    "standard_uniform": 1 / math.sqrt(FAN_IN),
}


@pytest.mark.parametrize("scale", [1.0, 3.0])
@pytest.mark.parametrize("init", INITS)
def test_weights_follow_the_closed_form(init, scale):
    W = init_weights(init, FAN_IN, FAN_OUT, np.random.default_rng(0), scale)
    assert W.shape == (FAN_OUT, FAN_IN) and W.dtype == np.float64
    if init in NORMAL_STD:
        sigma = scale * NORMAL_STD[init]
        assert W.std() == pytest.approx(sigma, rel=0.01)
        # a normal, not a uniform of the same std: the fourth moment is 3 sigma^4
        assert (W**4).mean() / sigma**4 == pytest.approx(3.0, rel=0.05)
    else:
        bound = scale * UNIFORM_BOUND[init]
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.999 * bound  # fills the whole interval
        assert W.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert abs(W.mean()) < 5 * W.std() / math.sqrt(W.size)


def test_bias_constant_and_normal():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(init_bias(0.5, 4, rng), [0.5] * 4)
    b = init_bias("normal", 100_000, rng)
    assert b.std() == pytest.approx(1.0, rel=0.01) and abs(b.mean()) < 0.02


def test_same_seed_same_net_other_seed_other_net():
    def make(seed: int) -> np.ndarray:
        net = MLP([2, 8, 8, 1], init="xavier", bias_init="normal", seed=seed)
        return net.params().flat.copy()

    np.testing.assert_array_equal(make(3), make(3))
    assert not np.isclose(make(3), make(4)).any()


def test_net_layers_get_their_own_fan_in():
    net = MLP([4, 400, 100, 1], init="he", seed=0)
    for layer in net.layers:
        assert layer.W.shape == (layer.fan_out, layer.fan_in)
    assert net.layers[1].W.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
