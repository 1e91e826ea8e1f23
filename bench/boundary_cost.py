"""Cost of the decision-boundary probe: ``Trainer`` step time with the grid over without.

Both sides run every diagnostic; the grid adds one forward pass over its 32 x 24 points
at each probe (every ``probe_every`` steps, the scenario's default). Target: at most
1.10x, on each built-in scenario.
"""

from __future__ import annotations

from bench.config import BenchConfig
from bench.core_speed import load_scenario, scenario_names, trainer_step
from bench.machine import trainer_blas
from bench.report import Row, ratio_row
from bench.timing import interleave

TARGET = 1.10


def run(cfg: BenchConfig) -> list[Row]:
    rows = []
    for name in scenario_names():
        sc, why = load_scenario(name, tiny=cfg.tiny)
        with_grid, _ = trainer_step(sc, diagnostics=True, boundary=True)
        without, tr = trainer_step(sc, diagnostics=True, boundary=False)
        with trainer_blas(tr.net.sizes) as threads:
            s = interleave(
                {"on": with_grid, "off": without},
                rounds=cfg.rounds,
                block_seconds=cfg.block_seconds,
            )
        note = f"grid probe every {sc.train.probe_every} steps, net {tr.net.sizes}, "
        note += f"BLAS threads {threads}" + (f"; {why}" if why else "")
        figure = f"step with boundary grid / without: {name}"
        rows.append(ratio_row(f"boundary/{name}", figure, "<=", TARGET, s, "on", "off", note))
    return rows
