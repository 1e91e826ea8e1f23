"""``.ci/pytest_summary.py``: CI fails when a test run stopped silently.

A test that ``execve``d replaced pytest mid-run: most tests never ran, no summary line
was printed and the exit status was 0. These run real pytest sessions in a subprocess
and check the checker on their logs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("pytest_summary", ROOT / ".ci" / "pytest_summary.py")
assert spec is not None and spec.loader is not None
pytest_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pytest_summary)

TESTS = """
import os, sys

def test_one():
    pass

def test_two():
    {body}

def test_three():
    pass
"""


def _session(tmp_path: Path, body: str, *args: str) -> tuple[int, str]:
    (tmp_path / "test_sample.py").write_text(TESTS.format(body=body))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_complete_run_passes(tmp_path: Path) -> None:
    status, log = _session(tmp_path, "pass")
    assert status == 0
    assert pytest_summary.check(log) is None


def test_a_run_replaced_by_execve_fails_although_its_exit_status_is_0(tmp_path: Path) -> None:
    body = "os.execv(sys.executable, [sys.executable, '-c', 'pass'])"
    status, log = _session(tmp_path, body)
    assert status == 0  # what made the silent stop invisible
    problem = pytest_summary.check(log)
    assert problem is not None and "summary line is missing" in problem


def test_fewer_tests_reported_than_collected_fails() -> None:
    log = "collected 5 items\n\n..\n\n======= 2 passed, 1 skipped in 0.10s =======\n"
    assert "collected 5 tests but reported only 3" in pytest_summary.check(log)
    ok = "collected 5 items / 2 deselected / 3 selected\n=== 2 passed, 1 xfailed in 1.00s ===\n"
    assert pytest_summary.check(ok) is None


def test_failures_count_as_reported_and_colour_codes_are_ignored(tmp_path: Path) -> None:
    status, log = _session(tmp_path, "assert False", "--color=yes")
    assert status == 1
    assert pytest_summary.check(log) is None  # complete: the failure is pytest's own verdict


def test_main_exit_status(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("collected 1 item\n")
    assert pytest_summary.main([str(log)]) == 1
    log.write_text("collected 1 item\n=== 1 passed in 0.01s ===\n")
    assert pytest_summary.main([str(log)]) == 0
