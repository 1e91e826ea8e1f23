"""bp-tui: watch backpropagation live in the terminal.

The one installed package. Its parts live in the repository as ``core/`` (the NumPy
training core and the event stream), ``scenarios/`` (the built-in scenario files and
their loader) and ``tui/`` (the Textual dashboard and the command line), mapped into
``bp_tui.core``, ``bp_tui.scenarios`` and ``bp_tui.tui`` by ``pyproject.toml``.

The public API for programs that feed the dashboard::

    from bp_tui import EventWriter, read_stream

Importing ``bp_tui`` loads nothing heavy: the names below are imported on first use,
and never textual or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> the module that defines it, imported on first access
_API = {
    "EventWriter": "bp_tui.core.stream",
    "read_stream": "bp_tui.core.stream",
    "StreamError": "bp_tui.core.stream",
    "Trainer": "bp_tui.core.trainer",
    "StepEvent": "bp_tui.core.events",
    "load_scenario": "bp_tui.scenarios.loader",
    "ScenarioError": "bp_tui.scenarios.loader",
}


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bp_tui' has no attribute {name!r}")
    attr = "load" if name == "load_scenario" else name
    return getattr(importlib.import_module(module), attr)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = list(_API)
