"""How many threads NumPy's BLAS uses, read and set at run time.

The scenarios' networks are tiny (tens of units, batches of 64, probes of 512 rows).
OpenBLAS splits a product over threads from a few hundred thousand multiply-adds on,
and its threads meet at a barrier after every product: on a machine whose other core
is busy (the dashboard's UI process, another program) a thread that has lost its core
stalls the whole product. Measured on 2 cores under load: the full-data probe of the
vanishing scenario took 28 ms with 2 threads and 2 ms with 1. A trainer process
therefore calls ``limit_for_network`` before training (see ``bench/``).

No dependency: threadpoolctl is used when installed, else the OpenBLAS that NumPy
loaded is asked through ctypes; any other BLAS is left alone (``threads()`` -> None).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

# Below this many weights the network's products are too small to gain from threads.
SMALL_NETWORK_WEIGHTS = 100_000

# (prefix, suffix) of the OpenBLAS entry points in the builds NumPy ships or links.
_SYMBOLS = (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", ""))


def _openblas() -> tuple[ctypes.CDLL, str, str, str] | None:
    """``(library, prefix, suffix, path)`` of the OpenBLAS loaded in this process."""
    import numpy  # noqa: F401  (loads the BLAS whose mapping we look for)

    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in _SYMBOLS:
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, prefix, suffix, path
    return None


def info() -> dict[str, Any]:
    """``{"api", "kernel", "threads", "library"}`` of NumPy's BLAS (``"?"`` if unknown)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return {
                    "api": pool.get("internal_api", "?"),
                    "kernel": pool.get("architecture", "?"),
                    "threads": int(pool.get("num_threads", 1)),
                    "library": os.path.basename(pool.get("filepath", "")),
                }
    found = _openblas()
    if found is None:
        return {"api": "?", "kernel": "?", "threads": None, "library": "?"}
    lib, prefix, suffix, path = found
    core = getattr(lib, f"{prefix}get_corename{suffix}")
    core.restype = ctypes.c_char_p
    return {
        "api": "openblas",
        "kernel": core().decode(),
        "threads": threads(),
        "library": os.path.basename(path),
    }


def threads() -> int | None:
    """Threads NumPy's OpenBLAS uses now; ``None`` when that cannot be told."""
    found = _openblas()
    if found is None:
        return None
    lib, prefix, suffix, _ = found
    get = getattr(lib, f"{prefix}get_num_threads{suffix}")
    get.restype = ctypes.c_int
    return int(get())


def set_threads(n: int) -> bool:
    """Make NumPy's OpenBLAS use ``n`` threads in this process; False if it cannot."""
    found = _openblas()
    if found is None:
        return False
    lib, prefix, suffix, _ = found
    setter = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
    if setter is None:
        return False
    setter.argtypes = [ctypes.c_int]
    setter(max(1, int(n)))
    return True


def limit_for_network(sizes: Sequence[int]) -> bool:
    """One BLAS thread for a network of widths ``sizes`` with few weights.

    Returns whether the thread count was changed. Bigger networks keep the default
    (their products are large enough to share out).
    """
    weights = sum(a * b for a, b in pairwise(sizes))
    if weights >= SMALL_NETWORK_WEIGHTS:
        return False
    return set_threads(1)


@contextmanager
def limited_for_network(sizes: Sequence[int]) -> Iterator[int | None]:
    """``limit_for_network(sizes)`` for the ``with`` block, the old count restored after.

    For code that trains a network inside a process doing other work (tests, the
    benchmarks); yields the thread count in force in the block (None: unknown).
    """
    before = threads()
    limit_for_network(sizes)
    try:
        yield threads()
    finally:
        if before is not None:
            set_threads(before)
