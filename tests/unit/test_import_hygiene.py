"""core never pulls in the UI libraries; scenarios never pulls in textual.

Each check runs in a fresh interpreter, so whatever this test session imported does
not hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI = ("textual", "rich", "plotext")
CORE_MODULES = [
    "core",
    "core.activations",
    "core.initializers",
    "core.layers",
    "core.mlp",
    "core.losses",
    "core.optim",
    "core.clipping",
    "core.datasets",
    "core.diagnostics",
    "core.gradcheck",
    "core.trainer",
    "core.events",
    "core.stream",
    "core.history",
]


def loaded_after(imports: list[str]) -> set[str]:
    """Top-level package names in ``sys.modules`` after importing ``imports``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {imports!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_core_loads_no_ui_library():
    loaded = loaded_after(CORE_MODULES)
    assert "numpy" in loaded  # the probe works
    assert not loaded & set(UI)


@pytest.mark.parametrize("module", ["scenarios", "scenarios.loader"])
def test_scenarios_load_no_textual(module):
    loaded = loaded_after([module])
    assert "scenarios" in loaded
    assert "textual" not in loaded


def test_the_probe_sees_a_ui_import():
    """The checks above could not pass by accident: importing textual is noticed."""
    assert "textual" in loaded_after(["textual"])
