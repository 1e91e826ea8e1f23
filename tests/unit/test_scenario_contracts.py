"""Each built-in scenario shows its pathology, and loses it under its fix.

Every run here is the scenario's own run, at its own number of steps, exactly what
a user sees with ``bp-tui run NAME [--fix] [--seed N]``: for the file's seed and for
seeds 1-5. Each run is trained once and shared by the tests that read it.

"The loss falls by x" compares the mean loss of the first ``K`` steps with the mean
of the last ``K`` steps (single minibatch losses are noisy). Dead units and accuracy
at the end are recomputed here from the trained weights with a plain forward pass
over the full data set, independently of the trainer's own probe, and must agree
with what the last event reported.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from bp_tui.core import blas
from bp_tui.core.config import Scenario
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load

K = 20  # steps averaged at each end of the run for "the loss falls"
SEEDS = [None, 1, 2, 3, 4, 5]  # None: the seed written in the file


@dataclass
class Run:
    scenario: Scenario
    trainer: Trainer
    events: list[dict[str, Any]]

    @property
    def losses(self) -> np.ndarray:
        return np.array([e["loss"] for e in self.events], dtype=float)

    def loss_fall(self) -> float:
        """Fraction by which the mean loss of the last K steps is below the first K's."""
        first, last = self.losses[:K].mean(), self.losses[-K:].mean()
        return float((first - last) / first)

    def bias_rms_at_step_1(self) -> list[float]:
        """Per hidden layer: ||db_i|| / sqrt(n_i), the per-unit RMS of the bias gradient."""
        norms = self.events[0]["bias_grad_norm"]
        return [norms[i] / math.sqrt(n) for i, n in enumerate(self.scenario.model.hidden)]


@functools.cache
def run(name: str, fix: bool, seed: int | None) -> Run:
    scenario = load(name, fix=fix, seed=seed)
    trainer = Trainer(scenario)
    events = []
    # One BLAS thread, as `bp-tui run` and the dashboard's trainer use for these tiny
    # networks (core/blas.py): several times faster on a busy 2-core machine.
    with blas.limited_for_network(trainer.net.sizes):
        while not trainer.finished:
            events.append(trainer.step().to_dict())
    return Run(scenario, trainer, events)


def forward_probe(r: Run) -> tuple[float, int]:
    """(accuracy, dead hidden ReLU units) of the trained net, from its weights alone.

    Written out with NumPy here, not taken from the trainer: Z = A @ W.T + b per
    layer, ReLU family max(z, 0) or max(z, 0.01 z), the output a single logit for
    two classes (class 1 where the logit is > 0, as for sigmoid > 0.5).
    """
    s = r.scenario
    assert s.model.activation in ("relu", "leaky_relu") and s.model.loss == "bce"
    slope = 0.01 if s.model.activation == "leaky_relu" else 0.0
    A = r.trainer.X
    dead = 0
    layers = r.trainer.net.layers
    for layer in layers[:-1]:
        Z = A @ layer.W.T + layer.b
        dead += int(np.sum(np.all(Z <= 0, axis=0)))
        A = np.where(Z > 0, Z, slope * Z)
    logits = A @ layers[-1].W.T + layers[-1].b
    accuracy = float(np.mean((logits[:, 0] > 0).astype(int) == r.trainer.y))
    return accuracy, dead


def dead_fraction(r: Run) -> float:
    accuracy, dead = forward_probe(r)
    last = r.events[-1]
    # within one example: a logit within rounding of 0 may fall either side
    assert last["accuracy"] == pytest.approx(accuracy, abs=1.5 / len(r.trainer.y))
    assert sum(d for d in last["dead"] if d is not None) == dead
    return dead / sum(r.scenario.model.hidden)


# ------------------------------------------------------------------ vanishing


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_first_layer_gets_almost_no_gradient_and_the_loss_stays_flat(seed) -> None:
    r = run("vanishing", False, seed)
    rms = r.bias_rms_at_step_1()
    assert rms[0] < 1e-3 * rms[-1]
    assert r.trainer.end_reason == "completed"
    assert r.loss_fall() < 0.10


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_fix_evens_out_the_gradient_and_the_loss_halves(seed) -> None:
    r = run("vanishing", True, seed)
    rms = r.bias_rms_at_step_1()
    assert 0.1 <= rms[0] / rms[-1] <= 10
    assert r.loss_fall() >= 0.5


# ------------------------------------------------------------------ exploding


@pytest.mark.parametrize("seed", SEEDS)
def test_exploding_diverges_or_its_gradient_grows_a_hundredfold(seed) -> None:
    r = run("exploding", False, seed)
    norms = np.array([e["global_grad_norm"] for e in r.events], dtype=float)
    grew = bool(np.nanmax(norms) >= 100 * norms[0])
    diverged = r.trainer.end_reason == "diverged"
    assert diverged or grew
    if diverged:  # a diverged run says so on its last step, and only there
        assert not r.events[-1]["finite"] and all(e["finite"] for e in r.events[:-1])


@pytest.mark.parametrize("seed", SEEDS)
def test_exploding_fix_stays_finite_clips_and_lowers_the_loss(seed) -> None:
    r = run("exploding", True, seed)
    assert r.trainer.end_reason == "completed" and len(r.events) == r.scenario.steps
    for e in r.events:
        assert e["finite"]
        values = [e["loss"], e["global_grad_norm"], *e["grad_norm"], *e["weight_norm"]]
        assert all(math.isfinite(v) for v in values)
    clipped = [e["step"] for e in r.events if e["clipped"]]
    assert len(clipped) >= 1 and r.events[-1]["clip_steps"] == len(clipped)
    # a clipped step is one whose norm reached the threshold (Pascanu et al.)
    assert all(r.events[s - 1]["global_grad_norm"] >= 1.0 for s in clipped)
    assert r.loss_fall() > 0


# ------------------------------------------------------------------ dying ReLU


@pytest.mark.parametrize("seed", SEEDS)
def test_dying_relu_leaves_most_units_dead_and_the_net_guessing(seed) -> None:
    r = run("dying-relu", False, seed)
    assert dead_fraction(r) >= 0.40
    assert r.events[-1]["accuracy"] <= 0.65


@pytest.mark.parametrize("seed", SEEDS)
def test_dying_relu_fix_keeps_units_alive_and_learns(seed) -> None:
    r = run("dying-relu", True, seed)
    assert dead_fraction(r) <= 0.05
    assert r.events[-1]["accuracy"] >= 0.9


# ------------------------------------------------------------------ healthy


@pytest.mark.parametrize("seed", SEEDS)
def test_healthy_learns_with_every_layer_getting_gradient(seed) -> None:
    r = run("healthy", False, seed)
    assert r.loss_fall() >= 0.80
    assert r.events[-1]["accuracy"] >= 0.95
    assert dead_fraction(r) <= 0.10
    rms = r.bias_rms_at_step_1()
    assert max(rms) <= 10 * min(rms)
