"""core never pulls in the UI libraries; scenarios never pulls in textual; the dashboard
does not pull in the screens a key opens.

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
    "bp_tui",
    "bp_tui.core",
    "bp_tui.core.activations",
    "bp_tui.core.initializers",
    "bp_tui.core.layers",
    "bp_tui.core.mlp",
    "bp_tui.core.losses",
    "bp_tui.core.optim",
    "bp_tui.core.clipping",
    "bp_tui.core.datasets",
    "bp_tui.core.diagnostics",
    "bp_tui.core.gradcheck",
    "bp_tui.core.trainer",
    "bp_tui.core.events",
    "bp_tui.core.stream",
]


def loaded_after(imports: list[str]) -> set[str]:
    """Names in ``sys.modules`` after importing ``imports``: each module and its top package."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {imports!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({p for m in sys.modules for p in (m, m.split('.')[0])})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_core_loads_no_ui_library():
    loaded = loaded_after(CORE_MODULES)
    assert "numpy" in loaded  # the probe works
    assert not loaded & set(UI)


@pytest.mark.parametrize("module", ["bp_tui.scenarios", "bp_tui.scenarios.loader"])
def test_scenarios_load_no_textual(module):
    loaded = loaded_after([module])
    assert module in loaded
    assert "textual" not in loaded


# Imported when their key is pressed, not before the dashboard's first frame (issue 15,
# docs/performance.md): compare mode (m), the backprop (b) and gradient-check (g)
# views, the help (?), and markdown-it (the help and the lesson's Markdown).
OPENED_BY_A_KEY = {
    "bp_tui.tui.screens.compare",
    "bp_tui.tui.screens.backprop",
    "bp_tui.tui.screens.gradcheck",
    "bp_tui.tui.screens.help",
    "markdown_it",
}


def test_the_dashboard_loads_no_screen_a_key_opens():
    loaded = loaded_after(["bp_tui.tui.app", "bp_tui.tui.commands.dashboard"])
    assert "bp_tui.tui.screens.dashboard" in loaded  # the probe sees the dashboard
    assert not loaded & OPENED_BY_A_KEY


def test_the_probe_sees_a_ui_import():
    """The checks above could not pass by accident: importing textual is noticed."""
    assert "textual" in loaded_after(["textual"])
    screens = ["compare", "backprop", "gradcheck", "help"]
    opened = loaded_after([f"bp_tui.tui.screens.{name}" for name in screens])
    assert opened >= OPENED_BY_A_KEY
