"""What the numbers were measured on: CPU, cores, Python, NumPy, BLAS kernel and threads.

The BLAS kernel matters: OpenBLAS picks its kernel at run time from the CPU (or from
``OPENBLAS_CORETYPE``), and a wrong one can halve matrix-product speed. ``core.blas``
reads it via threadpoolctl when installed, else from the loaded OpenBLAS via ctypes.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from bp_tui.core import blas

# Set on some machines because older OpenBLAS builds crash on their CPUs; they can slow a
# current NumPy. The bench runs as the user started it (it never re-executes itself with
# another environment) and says in its header which of them were set.
OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> dict[str, Any]:
    """BLAS library, kernel and thread count (see ``core.blas``)."""
    return blas.info()


def blas_threads() -> int:
    """Threads NumPy's BLAS uses now: the torch yardstick is given the same number."""
    return blas.threads() or 1


def machine_info() -> dict[str, Any]:
    """A JSON-able description of this machine and the benchmark's environment."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_avg_at_start": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "openblas_env": {k: os.environ[k] for k in OPENBLAS_ENV if k in os.environ},
        "executable": sys.executable,
    }
    try:
        import torch
    except ImportError:
        info["torch"] = None
    else:
        info["torch"] = torch.__version__
    return info


def describe(info: dict[str, Any]) -> str:
    """One paragraph for the top of the table and docs/performance.md."""
    blas = info["blas"]
    lines = [
        f"CPU: {info['cpu']} ({info['cores']} cores, load {info['load_avg_at_start']})",
        f"Python {info['python']}, NumPy {info['numpy']}, "
        f"BLAS {blas.get('api')} kernel {blas.get('kernel')} x{blas.get('threads')} threads"
        + (f", torch {info['torch']}" if info.get("torch") else ", torch not installed"),
    ]
    if info.get("openblas_env"):
        names = " ".join(f"{k}={v}" for k, v in info["openblas_env"].items())
        lines.append(
            f"Set for this run: {names} (the BLAS kernel follows them; the README's figures "
            f"were taken with them unset: env -u {' -u '.join(info['openblas_env'])} "
            "python -m bench)"
        )
    return "\n".join(lines)


@contextmanager
def trainer_blas(sizes: Sequence[int]) -> Iterator[int]:
    """BLAS threads as a trainer process sets them for ``sizes`` (restored after).

    Yields the thread count in force, so a yardstick can be given the same.
    """
    with blas.limited_for_network(sizes) as n:
        yield n or 1
