"""Rules of the source tree a reader relies on, checked over the files themselves.

- ``core/`` imports nothing from ``tui/`` or ``scenarios/`` (dependencies point one way).
- No module imports a ``_private`` name from another module.
- Our code uses no private attribute of Textual's own classes (``_compositor``...):
  a name that starts with ``_``, is defined somewhere in textual or textual-plotext, and
  is not one of our own.
- ``tui/screens/`` has no ``# type: ignore``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import textual
import textual_plotext

ROOT = Path(__file__).resolve().parents[2]
OURS = [p for d in ("core", "scenarios", "tui") for p in (ROOT / d).rglob("*.py")]
PRIVATE_DEF = re.compile(r"(?:def|class)\s+(_\w+)|self\.(_\w+)\s*[:=]|^\s+(_\w+)\s*[:=]", re.M)
STDLIB_PUBLIC = {"os", "sys"}  # os._exit, sys._getframe: public despite the underscore


def private_attributes(path: Path) -> list[str]:
    """Every ``x._name`` in ``path`` (``os._exit`` and dunders left out)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in STDLIB_PUBLIC:
            continue
        found.append(node.attr)
    return found


def private_names(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in files:
        for groups in PRIVATE_DEF.findall(path.read_text(encoding="utf-8")):
            names.update(g for g in groups if g)
    return names


def test_core_imports_neither_tui_nor_scenarios():
    bad = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in (ROOT / "core").rglob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(from|import)\s+(bp_tui\.)?(tui|scenarios)\b", line)
    ]
    assert bad == []


def test_no_module_imports_a_private_name_from_another():
    bad = [
        f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
        for path in OURS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert bad == []


def test_no_private_textual_attribute_is_used():
    textual_files = [
        *Path(textual.__file__).parent.rglob("*.py"),
        *Path(textual_plotext.__file__).parent.rglob("*.py"),
    ]
    theirs = private_names(textual_files) - private_names(OURS)
    assert "_compositor" in theirs  # the probe sees Textual's private names
    bad = [
        f"{p.relative_to(ROOT)}: .{name}"
        for p in OURS
        for name in private_attributes(p)
        if name in theirs
    ]
    assert bad == []


def test_screens_silence_no_type_error():
    """The screens type-check without ``type: ignore`` (issue 16): an app method is
    reached through a Message, a pane through its own API, never past the checker."""
    bad = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "tui" / "screens").rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"#\s*type:\s*ignore", line)
    ]
    assert bad == []
