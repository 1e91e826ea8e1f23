"""bp-tui benchmarks: every figure of the design's performance table in one run.

``python -m bench`` measures them side by side, prints a table (figure, measured value,
target, met?) and, with ``--json FILE``, writes the same rows as JSON. ``--quick`` makes a
short run. Ratios are measured within the same run, the two sides interleaved and the
median taken, because the machines are shared and noisy; absolute times are shown only
beside the ratios.

Not part of the test suite: ``tests/unit/test_bench_smoke.py`` runs every benchmark once
at a tiny size to show that it still works, with no timing assertion.
"""
