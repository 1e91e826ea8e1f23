"""Built-in scenarios (the ``*.toml`` files beside this module) and their loader."""

from __future__ import annotations

from bp_tui.scenarios.loader import ScenarioError, ScenarioInfo, list_builtin, load

__all__ = ["ScenarioError", "ScenarioInfo", "list_builtin", "load"]
