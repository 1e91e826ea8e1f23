"""The built wheel installs exactly one top-level package, ``bp_tui``.

Installed, the parts once were top-level packages ``core``, ``scenarios`` and ``tui``:
``from core.stream import EventWriter`` broke in any project with its own ``core/``
package, and another distribution's ``core/`` could overwrite ours. This builds the
wheel, installs it into a fresh virtual environment (dependencies from pip's usual
sources, its cache first) and uses it from a folder that has a ``core/`` of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh venv it is installed in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    source = tmp / "source"
    skip = (".venv*", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skip))
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source)
    (wheel,) = (tmp / "dist").glob("bp_tui-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return wheel, venv


def test_the_wheel_holds_one_top_level_package(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        tops = {name.split("/")[0] for name in z.namelist()}
        names = z.namelist()
    assert {t for t in tops if not t.endswith(".dist-info")} == {"bp_tui"}
    assert "bp_tui/scenarios/healthy.toml" in names and "bp_tui/tui/app.tcss" in names


def test_a_project_with_its_own_core_package_uses_bp_tui(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, venv = installed
    project = tmp_path / "project"
    (project / "core").mkdir(parents=True)
    (project / "core" / "__init__.py").write_text("MINE = True\n")
    (project / "core" / "stream.py").write_text("MINE = True\n")
    script = (
        "import core, core.stream\n"
        "from bp_tui import EventWriter, read_stream\n"
        "from bp_tui.core.stream import EventWriter as W\n"
        "assert core.MINE and core.stream.MINE and W is EventWriter\n"
        "with EventWriter('run.jsonl', layers=['fc1']) as w:\n"
        "    w.step(1, 0.5, grad_norm=[0.1])\n"
        "print(len(read_stream('run.jsonl').events))\n"
    )
    assert _run(venv / "bin" / "python", "-c", script, cwd=project) == "1\n"
    listing = _run(venv / "bin" / "bp-tui", "list", cwd=project)
    assert {line.split()[0] for line in listing.splitlines()[1:]} >= {
        "healthy",
        "vanishing",
        "exploding",
        "dying-relu",
    }


def test_core_tui_and_scenarios_are_not_importable_from_site_packages(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, venv = installed
    script = (
        "import importlib.util, sys\n"
        "print([n for n in ('core', 'tui', 'scenarios', 'bench') "
        "if importlib.util.find_spec(n) is not None])\n"
        "import bp_tui\n"
        "print(bp_tui.__file__.startswith(sys.prefix))\n"
    )
    # an empty folder as the working directory: only site-packages can answer
    assert _run(venv / "bin" / "python", "-c", script, cwd=tmp_path) == "[]\nTrue\n"
