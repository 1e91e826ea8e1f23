"""The source is ruff clean and mypy clean: checked in the suite, so CI fails otherwise.

mypy reads the installed package ``bp_tui``, but setuptools maps its subpackages from
the repository's ``core/``, ``scenarios/`` and ``tui/`` (pyproject's package-dir), a
mapping mypy cannot follow through an editable install. The test gives it the installed
layout as a tree of links to the repository's own files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = ("core", "scenarios", "tui")


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_finds_nothing() -> None:
    result = run(["ruff", "check", "--no-cache", "."], ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    result = run(["ruff", "format", "--check", "--no-cache", "."], ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    package = tmp_path / "bp_tui"
    package.mkdir()
    for name in PACKAGE_DIRS:
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    for module in (ROOT / "bp_tui").glob("*.py"):
        (package / module.name).symlink_to(module)
    config = str(ROOT / "pyproject.toml")
    cache = str(tmp_path / "cache")
    args = ["mypy", "--config-file", config, "--cache-dir", cache, "-p", "bp_tui"]
    result = run(args, tmp_path, MYPYPATH=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found in" in result.stdout  # it did read the package
    checked = int(result.stdout.split("no issues found in ")[1].split()[0])
    assert checked >= len(list(ROOT.glob("core/*.py")))  # ... all of it, not one file
