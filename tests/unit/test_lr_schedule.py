"""``[train] lr_schedule``: the Trainer uses each rate from its step on, reports it in
the step event, and the update is that rate times the gradient."""

from __future__ import annotations

import numpy as np

from bp_tui.core.config import DataConfig, ModelConfig, Scenario, TrainConfig
from bp_tui.core.trainer import Trainer

SCHEDULE = ((1, 0.3), (5, 3.0), (8, 0.05))


def scenario(**train: object) -> Scenario:
    return Scenario(
        name="s",
        title="s",
        steps=12,
        data=DataConfig(kind="moons", samples=128),
        model=ModelConfig(hidden=(8, 8)),
        train=TrainConfig(lr=0.3, batch_size=32, **train),  # type: ignore[arg-type]
    )


def test_each_rate_applies_from_its_step_on_and_the_step_event_reports_it() -> None:
    trainer = Trainer(scenario(lr_schedule=SCHEDULE))
    lrs = [trainer.step().lr for _ in range(12)]
    assert lrs == [0.3] * 4 + [3.0] * 3 + [0.05] * 5


def test_the_update_is_the_scheduled_rate_times_the_gradient() -> None:
    trainer = Trainer(scenario(lr_schedule=SCHEDULE))
    for _ in range(4):
        trainer.step()
    before = trainer.net.params().flat.copy()
    ev = trainer.step()  # step 5: lr 3.0
    grad = trainer.net.grads().flat
    np.testing.assert_allclose(trainer.net.params().flat, before - 3.0 * grad, rtol=0, atol=1e-12)
    assert ev.lr == 3.0


def test_a_live_change_holds_until_the_schedules_next_entry() -> None:
    trainer = Trainer(scenario(lr_schedule=SCHEDULE))
    trainer.step()
    trainer.set_lr(0.01)
    lrs = [trainer.step().lr for _ in range(11)]  # steps 2..12
    assert lrs == [0.01] * 3 + [3.0] * 3 + [0.05] * 5


def test_no_schedule_is_the_same_run_as_before() -> None:
    plain, empty = Trainer(scenario()), Trainer(scenario(lr_schedule=((1, 0.3),)))
    for _ in range(12):
        assert plain.step().to_dict() == empty.step().to_dict()
