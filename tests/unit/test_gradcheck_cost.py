"""The gradient check's cost (O(n) backprop vs O(n^2) differences) and its verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from bp_tui.core import mlp as core_mlp
from bp_tui.core.gradcheck import timed_gradcheck, verdict
from bp_tui.core.losses import get_loss
from bp_tui.core.mlp import MLP


def problem(hidden: list[int], seed: int = 0) -> tuple[MLP, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 2))
    Y = (rng.random((16, 1)) > 0.5).astype(float)
    return MLP([2, *hidden, 1], activation="tanh", init="xavier", seed=seed), X, Y


def test_cost_ratio_grows_with_the_parameter_count() -> None:
    costs = [timed_gradcheck(*problem(h), "bce")[1] for h in ([4], [16, 16], [48, 48, 48])]
    counts = [c.n_params for c in costs]
    assert counts == sorted(counts) and counts[0] < 50 < counts[1] < 500 < counts[2]
    ratios = [c.ratio for c in costs]
    assert ratios[0] < ratios[1] < ratios[2], ratios
    for c in costs:
        assert 0 < c.backprop_seconds < c.fd_seconds
        assert c.ratio == pytest.approx(c.fd_seconds / c.backprop_seconds)


def plant_one_percent_error(monkeypatch: pytest.MonkeyPatch, layer: int = 1) -> None:
    """Make backprop's weight gradient of ``layer`` 1% too large, everywhere."""
    original = core_mlp.MLP.backward

    def off_by_one_percent(self, dlogits, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(self, dlogits, *args, **kwargs)
        self.layers[layer].dW *= 1.01
        return result

    monkeypatch.setattr(core_mlp.MLP, "backward", off_by_one_percent)


def test_a_planted_one_percent_error_fails_exactly_that_layer(monkeypatch) -> None:
    plant_one_percent_error(monkeypatch, layer=1)
    net, X, Y = problem([5, 5])
    loss = abs(get_loss("bce")(net.forward(X), Y)[0])
    checks, _ = timed_gradcheck(net, X, Y, "bce")
    assert [verdict(c, loss) for c in checks] == ["ok", "FAIL", "ok"]


def test_a_gradient_below_the_difference_noise_is_unresolved_not_ok() -> None:
    """A loss of ~1e20 drowns a small first-layer gradient in the rounding noise of
    L(p+h) - L(p-h): the check cannot tell, and must not claim agreement."""
    net, X, _ = problem([5, 5])
    Y = np.full((16, 1), 1e10)
    net.layers[1].W *= 1e-6  # the error reaching L1 is a millionth of what L2 gets
    loss = abs(get_loss("mse")(net.forward(X), Y)[0])
    checks, _ = timed_gradcheck(net, X, Y, "mse")
    assert checks[0].rel_error > 1e-6  # the differences are noise here...
    assert verdict(checks[0], loss) == "unresolved"  # ...and are reported as such
    assert verdict(checks[0], float("nan")) == "n/a: loss not finite"


def test_headless_gradcheck_prints_the_cost_of_each_side(capsys) -> None:
    from bp_tui.tui.commands import cli

    assert cli.main(["gradcheck", "micro"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("cost "))
    assert lines[head].split() == ["cost", "backprop", "finite", "diff.", "ratio", "parameters"]
    for row in lines[head + 1 : head + 3]:
        cells = row.split()
        bp_ms, fd_ms = float(cells[-6]), float(cells[-4])
        assert cells[-5] == cells[-3] == "ms" and cells[-1] == "25"  # micro: 25 parameters
        assert float(cells[-2].rstrip("x")) == pytest.approx(fd_ms / bp_ms, rel=0.02, abs=1)
        assert fd_ms > bp_ms
