"""Cost of the per-layer diagnostics: ``Trainer`` step time with them over without.

With diagnostics a step also computes every layer's gradient, bias-gradient and weight
norms, the update ratio, clipping counts, and every ``probe_every`` steps (the
scenario's default) a forward pass over the full data set for the dead/saturated
counts and the accuracy. Target: at most 1.15x, on each built-in scenario.
"""

from __future__ import annotations

from bench.config import BenchConfig
from bench.core_speed import load_scenario, scenario_names, trainer_step
from bench.machine import trainer_blas
from bench.report import Row, ratio_row
from bench.timing import interleave

TARGET = 1.15


def run(cfg: BenchConfig) -> list[Row]:
    rows = []
    for name in scenario_names():
        sc, why = load_scenario(name, tiny=cfg.tiny)
        with_diag, _ = trainer_step(sc, diagnostics=True)
        without, tr = trainer_step(sc, diagnostics=False)
        with trainer_blas(tr.net.sizes) as threads:
            s = interleave(
                {"on": with_diag, "off": without},
                rounds=cfg.rounds,
                block_seconds=cfg.block_seconds,
            )
        note = f"probe every {sc.train.probe_every} steps on {sc.data.samples} examples, "
        note += f"net {tr.net.sizes}, BLAS threads {threads}" + (f"; {why}" if why else "")
        figure = f"step with diagnostics / without: {name}"
        rows.append(ratio_row(f"diagnostics/{name}", figure, "<=", TARGET, s, "on", "off", note))
    return rows
