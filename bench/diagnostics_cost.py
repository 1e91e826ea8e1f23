"""Cost of the per-layer diagnostics: ``Trainer`` step time with them over without.

With diagnostics a step also computes every layer's gradient, bias-gradient and weight
norms, the update ratio, clipping counts, and every ``probe_every`` steps (the
scenario's default) a forward pass over the full data set for the dead/saturated
counts and the accuracy. Target: at most 1.15x, on each built-in scenario.

The note also gives the per-step statistics alone (a third side: diagnostics on, no
probe after the first step, no grid) over the bare step: the floor that probing less
often could not go below.
"""

from __future__ import annotations

import dataclasses

from bench.config import BenchConfig
from bench.core_speed import load_scenario, scenario_names, trainer_step
from bench.machine import trainer_blas
from bench.report import Row, ratio_row
from bench.timing import interleave, median, ratio_samples

TARGET = 1.15


def run(cfg: BenchConfig) -> list[Row]:
    rows = []
    for name in scenario_names():
        sc, why = load_scenario(name, tiny=cfg.tiny)
        with_diag, _ = trainer_step(sc, diagnostics=True)
        without, tr = trainer_step(sc, diagnostics=False)
        never = dataclasses.replace(sc.train, probe_every=sc.steps + 1)
        stats, _ = trainer_step(
            dataclasses.replace(sc, train=never), diagnostics=True, boundary=False
        )
        with trainer_blas(tr.net.sizes) as threads:
            s = interleave(
                {"on": with_diag, "off": without, "stats": stats},
                rounds=cfg.rounds,
                block_seconds=cfg.block_seconds,
            )
        note = f"probe every {sc.train.probe_every} steps on {sc.data.samples} examples, "
        note += f"net {tr.net.sizes}, BLAS threads {threads}" + (f"; {why}" if why else "")
        floor = median(ratio_samples(s["stats"], s["off"]))
        note += f"; per-step statistics alone (stats: no probe, no grid) {floor:.2f}x"
        figure = f"step with diagnostics / without: {name}"
        rows.append(ratio_row(f"diagnostics/{name}", figure, "<=", TARGET, s, "on", "off", note))
    return rows
