"""Every sentence a built-in lesson states as a fact holds, on seeds 0-5, with and
without the fix.

The statements are the scenario file's ``[claims]`` (the broken run) and
``[fix.claims]`` (the fixed run), checked by ``core.claims.check`` on the events of
the scenario's own run at its own length: exactly what a user sees with
``bp-tui run NAME [--fix] --seed N``. Each run is trained once and shared.

``core.claims`` itself is tested against hand-made events in ``test_claims.py``; here
the quantities the claims rest on (dead units, accuracy, per-layer gradient norms) are
also recomputed from the trained weights with plain NumPy, independently of the
trainer, and must agree with what its events reported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bp_tui.core import blas
from bp_tui.core.claims import check, describe, measure
from bp_tui.core.config import Scenario
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import list_builtin, load

SEEDS = range(6)
BUILTINS = [info.name for info in list_builtin()]
# (name, fix) for every run a user can start: a walkthrough such as `micro` has no fix
RUNS = [(n, fix) for n in BUILTINS for fix in (False, True) if not fix or load(n).has_fix]
RUN_IDS = [f"{n}-{'fixed' if fix else 'broken'}" for n, fix in RUNS]


@dataclass
class Run:
    scenario: Scenario
    trainer: Trainer
    events: list[dict[str, Any]]  # run, step..., end


def _train(scenario: Scenario) -> Run:
    trainer = Trainer(scenario)
    events = [trainer.run_event()]
    # One BLAS thread, as `bp-tui run` and the dashboard's trainer use for these tiny
    # networks (core/blas.py): several times faster on a busy 2-core machine.
    with blas.limited_for_network(trainer.net.sizes):
        while not trainer.finished:
            events.append(trainer.step().to_dict())
    events.append(trainer.end_event())
    return Run(scenario, trainer, events)


def run(name: str, fix: bool, seed: int) -> Run:
    s = load(name, fix=fix, seed=seed)
    r = _train_once(s.data, s.model, s.train, s.seed, s.steps)
    return Run(s, r.trainer, r.events)


@functools.cache
def _train_once(*config: Any) -> Run:
    """One run per configuration: `vanishing-tanh` shares its broken run with `vanishing`."""
    data, model, train, seed, steps = config
    return _train(
        Scenario("run", "run", seed=seed, steps=steps, data=data, model=model, train=train)
    )


# ------------------------------------------------------------------ the claims


# The built-ins whose lessons are pinned by claims (a built-in added later may come
# without; its claims, once written, are checked by the tests below all the same).
WITH_CLAIMS = (
    "healthy",
    "vanishing",
    "vanishing-tanh",
    "exploding",
    "dying-relu",
    "dead-at-init",
    "lr-spike",
    "saturation",
)


def test_every_lesson_builtin_states_claims_for_its_run_and_its_fix() -> None:
    assert set(WITH_CLAIMS) <= set(BUILTINS)
    for name in WITH_CLAIMS:
        assert load(name).claims, f"{name} has no [claims]"
        assert load(name, fix=True).claims, f"{name} has no [fix.claims]"
    assert load("micro").claims, "micro has no [claims]"  # a walkthrough, no fix


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("name", "fix"), RUNS, ids=RUN_IDS)
def test_the_lesson_claims_hold(name: str, fix: bool, seed: int) -> None:
    r = run(name, fix, seed)
    verdicts = check(r.scenario.claims, r.events)
    assert len(verdicts) == len(r.scenario.claims)
    failed = [f"{describe(v.claim)} (measured {v.actual})" for v in verdicts if not v.holds]
    assert not failed, f"{name} fix={fix} seed={seed}: " + "; ".join(failed)


def test_leaky_relu_at_the_dying_relu_rate_diverges_on_most_seeds() -> None:
    """dying-relu's lesson: leaky ReLU does not make steps of lr 3 safe."""
    base = load("dying-relu")
    leaky = base.with_(model=replace(base.model, activation="leaky_relu"))
    diverged = [_train(leaky.with_(seed=s)).trainer.end_reason == "diverged" for s in SEEDS]
    assert sum(diverged) > len(diverged) / 2, diverged


def test_leaky_relu_alone_leaves_dead_at_init_at_a_coin_toss() -> None:
    """dead-at-init's lesson: leaky ReLU without the bias fix does not rescue it."""
    base = load("dead-at-init")
    leaky = base.with_(model=replace(base.model, activation="leaky_relu"))
    for seed in SEEDS:
        r = _train(leaky.with_(seed=seed))
        assert 0.68 <= measure("loss_last20", r.events) <= 0.70, seed


# ------------------------------------------------------ independent recomputation


def forward_probe(r: Run) -> tuple[float, list[int], list[float]]:
    """(accuracy, dead units per hidden layer, saturated fraction per hidden layer) of
    the trained net, from its weights alone, written out with NumPy here.

    Z = A @ W.T + b per layer; the output a single logit for two classes (class 1
    where the logit is > 0, as for sigmoid > 0.5).
    """
    s = r.scenario
    assert s.model.loss == "bce" and s.data.classes == 2
    act = {
        "relu": lambda z: np.maximum(z, 0.0),
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
        "tanh": np.tanh,
        "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(z / 2)),
        "linear": lambda z: z,
    }[s.model.activation]
    A = r.trainer.X
    dead, saturated = [], []
    layers = r.trainer.net.layers
    for layer in layers[:-1]:
        Z = A @ layer.W.T + layer.b
        A = act(Z)
        dead.append(int(np.sum(np.all(Z <= 0, axis=0))))
        if s.model.activation == "tanh":
            saturated.append(float(np.mean(np.abs(A) > 0.97)))
        elif s.model.activation == "sigmoid":
            saturated.append(float(np.mean((A < 0.03) | (A > 0.97))))
    logits = A @ layers[-1].W.T + layers[-1].b
    accuracy = float(np.mean((logits[:, 0] > 0).astype(int) == r.trainer.y))
    return accuracy, dead, saturated


@pytest.mark.parametrize(("name", "fix"), RUNS, ids=RUN_IDS)
def test_the_last_probe_agrees_with_a_forward_pass_of_its_own(name: str, fix: bool) -> None:
    r = run(name, fix, 0)
    last = r.events[-2]
    if r.trainer.end_reason == "diverged":
        return  # the weights are those before the non-finite step; nothing to compare
    accuracy, dead, saturated = forward_probe(r)
    # within one example: a logit within rounding of 0 may fall either side
    assert last["accuracy"] == pytest.approx(accuracy, abs=1.5 / len(r.trainer.y))
    if r.scenario.model.activation in ("relu", "leaky_relu"):
        assert last["dead"][:-1] == dead
    if saturated:
        assert last["saturated"][:-1] == pytest.approx(saturated, abs=1e-12)


@pytest.mark.parametrize("name", ["vanishing", "exploding", "healthy"])
def test_step1_gradient_norms_agree_with_a_backward_pass_of_its_own(name: str) -> None:
    """The per-layer norms the depth claims use, from the initial weights and the
    first minibatch, with the chain rule written out here."""
    s = load(name)
    trainer = Trainer(s)
    net = trainer.net
    Ws = [layer.W.copy() for layer in net.layers]
    bs = [layer.b.copy() for layer in net.layers]
    ev = trainer.step().to_dict()
    # the first minibatch, as the trainer drew it
    idx = np.random.default_rng([s.seed, 1]).permutation(len(trainer.y))[: s.train.batch_size]
    X, y = trainer.X[idx], trainer.y[idx].astype(float)
    f, df = {
        "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
        "sigmoid": (
            lambda z: 0.5 * (1.0 + np.tanh(z / 2)),  # sigmoid, without overflow
            lambda z: 0.25 / np.cosh(z / 2) ** 2,  # its derivative
        ),
    }[s.model.activation]
    As, Zs = [X], []
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        Zs.append(As[-1] @ W.T + b)
        As.append(f(Zs[-1]))
    logit = (As[-1] @ Ws[-1].T + bs[-1])[:, 0]
    delta = ((0.5 * (1.0 + np.tanh(logit / 2)) - y) / len(y))[:, None]  # dL/dlogit, bce mean
    dW, db = [None] * len(Ws), [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        dW[i], db[i] = delta.T @ As[i], delta.sum(axis=0)
        if i:
            delta = (delta @ Ws[i]) * df(Zs[i - 1])
    assert ev["grad_norm"] == pytest.approx([np.linalg.norm(g) for g in dW], rel=1e-7)
    assert ev["bias_grad_norm"] == pytest.approx([np.linalg.norm(g) for g in db], rel=1e-7)


# ------------------------------------------------------------------ the README table


def _number_forms(x: float) -> set[str]:
    """How a claim's threshold may be written in prose: 0.15, 15%, 1e30, 1e-7."""
    g = f"{x:g}"
    return {g, g.replace("e+", "e").replace("e-0", "e-"), f"{x * 100:g}%", f"{x:.1f}", f"{x:.2f}"}


@pytest.mark.parametrize("name", BUILTINS)
def test_the_readme_table_states_each_claim(name: str) -> None:
    """The README's row for a scenario gives every threshold of its claims (broken run
    in the second column, fixed run in the third) and says whether it diverges."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"README has no single table row for {name}"
    cells = [c.strip() for c in rows[0].strip("|").split(" | ")]
    for cell, fix in ((cells[1], False), (cells[2], True)):
        if fix and not load(name).has_fix:
            assert cell.startswith("no fix"), (name, cell)
            continue
        for c in load(name, fix=fix).claims:
            if c.metric == "diverges":
                assert ("no divergence" in cell) is (c.value is False), (name, fix, cell)
                assert "diverge" in cell, (name, fix, cell)
                continue
            for x in (c.value, c.high) if c.high is not None else (c.value,):
                assert _number_forms(float(x)) & set(_words(cell)), (name, fix, c, cell)


def _words(cell: str) -> list[str]:
    return [w.strip(",;:()") for w in cell.replace("-", " -").split()] + cell.split()
