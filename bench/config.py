"""How long and how big a benchmark run is: full, ``--quick``, or tiny (the smoke test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchConfig:
    """Sizes and repeat counts shared by every benchmark group."""

    rounds: int = 7  # interleaved samples of each side of a ratio (median reported)
    block_seconds: float = 0.4  # length of one timed block of one side
    large_sizes: tuple[int, ...] = (784, 1024, 1024, 10)  # the "large network"
    large_batch: int = 256
    ui_seconds: float = 6.0  # pty window over which bytes/s, CPU and steps/s are read
    ui_warmup: float = 1.5  # s after the first frame (or start, headless) before a window
    ui_rounds: int = 3  # interleaved dashboard / headless runs
    frames: int = 30  # full redraws timed in-process
    startup_rounds: int = 5  # launches of `bp-tui SCENARIO` timed to the first frame
    memory_steps: tuple[int, int] = (10**4, 10**6)  # RSS read after each
    replay_steps: int = 10**6  # the long recording opened and sought in (quick too)
    link_rate: float = 20_000.0  # bytes/s the throttled pty reader drains (issue 15)
    link_warmup: float = 10.0  # s on the slow link from the first frame to the window
    link_window: float = 5.0  # s over which the screen's lag behind the trainer is read
    tiny: bool = False  # smoke test: one pass of everything, sizes cut to the bone

    @classmethod
    def full(cls) -> BenchConfig:
        return cls()

    @classmethod
    def quick(cls) -> BenchConfig:
        return cls(
            rounds=3,
            block_seconds=0.15,
            ui_seconds=3.0,
            ui_rounds=1,
            frames=10,
            startup_rounds=2,
            memory_steps=(10**4, 10**5),
            link_warmup=8.0,
            link_window=3.0,
        )

    @classmethod
    def smoke(cls) -> BenchConfig:
        """Every code path once, at a size that takes seconds (no number is meaningful)."""
        return cls(
            rounds=1,
            block_seconds=0.005,
            large_sizes=(20, 16, 16, 3),
            large_batch=8,
            ui_seconds=1.0,
            ui_warmup=0.3,
            ui_rounds=1,
            frames=1,
            startup_rounds=1,
            memory_steps=(50, 200),
            replay_steps=3000,
            link_rate=200_000.0,  # the first frame fits through in a fraction of a second
            link_warmup=1.5,
            link_window=1.0,
            tiny=True,
        )
