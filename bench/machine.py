"""What the numbers were measured on: CPU, cores, Python, NumPy, BLAS kernel and threads.

The BLAS kernel matters: OpenBLAS picks its kernel at run time from the CPU (or from
``OPENBLAS_CORETYPE``), and a wrong one can halve matrix-product speed. We report it via
threadpoolctl when installed, else by asking the loaded OpenBLAS library through ctypes.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from typing import Any

import numpy as np

# Set on some machines because older OpenBLAS builds crash on their CPUs; they slow a
# current NumPy, so ``python -m bench`` re-executes itself without them (see __main__).
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


def _openblas_via_ctypes() -> dict[str, Any] | None:
    """Ask the OpenBLAS that NumPy loaded for its kernel name and thread count."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            core = getattr(lib, f"{prefix}get_corename{suffix}", None)
            threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            if core is None or threads is None:
                continue
            core.restype = ctypes.c_char_p
            threads.restype = ctypes.c_int
            return {
                "api": "openblas",
                "kernel": core().decode(),
                "threads": int(threads()),
                "library": os.path.basename(path),
            }
    return None


def blas_info() -> dict[str, Any]:
    """BLAS library, kernel (``internal_api``/``architecture``) and thread count."""
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
    return _openblas_via_ctypes() or {"api": "unknown", "kernel": "?", "threads": 1}


def blas_threads() -> int:
    """Threads NumPy's BLAS uses: the torch yardstick is given the same number."""
    return int(blas_info().get("threads", 1))


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
        "openblas_env_unset": os.environ.get("BP_BENCH_UNSET_OPENBLAS", ""),
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
    if info.get("openblas_env_unset"):
        lines.append(f"Unset for this run: {info['openblas_env_unset']}")
    return "\n".join(lines)
