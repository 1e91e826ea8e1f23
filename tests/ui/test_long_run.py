"""10^6 steps through the app: memory stays flat and the plots still span the whole run."""

from __future__ import annotations

from typing import Any

from bp_tui.tui.panes.grad_norms import GradNormsPane
from bp_tui.tui.panes.loss import LossPane
from tests.ui.conftest import pump

STEPS = 1_000_000


def cheap_step(step: int) -> dict[str, Any]:
    # A spike at one step in the middle: min/max down-sampling must keep it.
    loss = 50.0 if step == 654_321 else 1.0 / (1.0 + step * 1e-4)
    return {"type": "step", "step": step, "loss": loss, "grad_norm": [1e-3, 1e-1, 1.0, 2.0]}


async def test_a_million_steps_keep_memory_flat_and_the_whole_run_visible(make_app):
    app, _ = make_app(batch=250_000, step_fn=cheap_step)
    app.scenarios[1] = app.initial = app.initial.with_(steps=STEPS)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await pump(pilot)
        nbytes_early = dash.history.nbytes
        await pump(pilot, 4)  # 4 batches of 250 000
        assert dash.history.count == STEPS and dash.end is not None
        assert dash.history.nbytes == nbytes_early  # buckets are allocated once
        loss = app.screen.query_one(LossPane)
        assert loss.drawn.xlim == (1.0, float(STEPS))
        x, y = loss.drawn.lines["loss"]
        assert x.max() == STEPS and x.min() == 1.0
        # The line starts with the start of the run: the first bucket's max is the loss
        # at step 1 (the loss falls), and the bucket spans at most 2/points of the run.
        first = y[x == 1.0]
        assert first.max() == cheap_step(1)["loss"]
        assert first.min() >= cheap_step(2 * STEPS // loss.points)["loss"]
        assert y.max() == 50.0  # the one-step spike survived down-sampling
        assert len(x) <= 2 * loss.points  # down-sampled: an envelope of at most `points` buckets
        grads = app.screen.query_one(GradNormsPane).drawn
        assert set(grads.lines) == {"L1", "L2", "L3", "L4"}
        assert "1M" in loss.render().plain  # the x axis is labelled up to the last step
