"""The benchmarks still run: every group once, at a tiny size (no timing is asserted).

``python -m bench`` is not part of the suite (it takes minutes and its numbers depend on
the machine); this test runs each group with ``BenchConfig.smoke()`` and checks that it
returns its figures with a target, and a value or a reason why there is none.
"""

from __future__ import annotations

import json
import math

import pytest

from bench.__main__ import GROUPS, main, run_groups
from bench.config import BenchConfig
from bench.report import Row, format_markdown, format_table

CORE_GROUPS = ["core", "diagnostics", "torch-watch", "boundary", "replay", "command", "stream"]
UI_GROUPS = ["frame", "ui", "link", "memory"]


def _check_rows(rows: list[Row]) -> None:
    assert rows
    for r in rows:
        assert r.op in ("<=", ">=")
        assert r.status == "ok" or r.value is None, r
        if r.status == "ok":
            assert r.value is not None and math.isfinite(r.value), r
            assert r.met in (True, False)
        else:
            assert r.met is None and r.status, r


@pytest.mark.parametrize("group", CORE_GROUPS)
def test_core_group_runs_and_measures(group: str) -> None:
    rows = run_groups(BenchConfig.smoke(), [group], log=lambda s: None)
    _check_rows(rows)
    # Core groups need nothing optional but torch (whose absence is a status, not an error).
    assert not any(r.status.startswith("error") for r in rows), rows
    names = [r.key for r in rows]
    assert len(names) == len(set(names))


def test_every_group_is_smoke_tested() -> None:
    assert sorted(CORE_GROUPS + UI_GROUPS) == sorted(GROUPS)


def test_stream_row_counts_the_bytes_of_step_lines(tmp_path) -> None:
    from bench.stream_size import step_line_sizes

    lines = [
        '{"type":"run","version":2}',
        '{"type":"step","step":1,"loss":0.5}',
        '{"type":"step","step":2,"loss":0.25,"boundary":{}}',
        '{"type":"end","step":2,"reason":"completed"}',
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    sizes, plain = step_line_sizes(str(path))
    assert sizes == [len(lines[1]) + 1, len(lines[2]) + 1] and plain == [len(lines[1]) + 1]


@pytest.mark.parametrize("group", UI_GROUPS)
def test_ui_group_runs_the_real_app(group: str) -> None:
    """The dashboard benchmarks drive the installed app (in a pty, or run_test)."""
    rows = run_groups(BenchConfig.smoke(), [group], log=lambda s: None)
    _check_rows(rows)
    assert all(r.status == "ok" for r in rows), rows


def test_row_met_follows_target_direction() -> None:
    at_least = Row("a", "a", "x", ">=", 3.0, value=2.0)
    at_most = Row("b", "b", "x", "<=", 1.25, value=1.1)
    missing = Row("c", "c", "x", "<=", 1.0, status="torch not installed")
    assert (at_least.met, at_most.met, missing.met) == (False, True, None)
    table = format_table([at_least, at_most, missing])
    assert "NO" in table and "yes" in table and "torch not installed" in table
    assert format_markdown([at_least]).count("\n") == 2  # header, rule, one row


def test_unknown_group_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--only", "nonsense"])
    assert exc.value.code == 2
    assert "nonsense" in capsys.readouterr().err


def test_json_output_has_every_row(tmp_path, monkeypatch) -> None:
    """--json writes the same rows as the table (here a stubbed fast group)."""
    fake = Row("fake", "fake figure", "x", "<=", 2.0, value=1.5, absolute="1 ms")
    monkeypatch.setattr("bench.__main__.run_groups", lambda cfg, names, log=print: [fake])
    out = tmp_path / "bench.json"
    assert main(["--quick", "--only", next(iter(GROUPS)), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["quick"] is True
    assert doc["machine"]["cores"] >= 1 and "blas" in doc["machine"]
    assert doc["rows"] == [fake.to_dict()]


def test_main_never_replaces_the_process(tmp_path, monkeypatch) -> None:
    """With OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set (CI sets them), an in-process
    ``main()`` once ``execve``d: pytest itself was replaced and the run ended with exit 0."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")

    def no_exec(*args: object) -> None:
        raise AssertionError(f"main() replaced the process: {args}")

    for name in ("execve", "execv", "execvp", "execvpe", "execl"):
        monkeypatch.setattr(f"os.{name}", no_exec)
    monkeypatch.setattr("bench.__main__.run_groups", lambda cfg, names, log=print: [])
    assert main(["--quick", "--only", "core"]) == 0


def test_the_header_says_which_openblas_variables_were_set(monkeypatch) -> None:
    """The bench runs in the environment it was started in and says so (it once
    re-executed itself without these, replacing the process the user ran)."""
    from bench.machine import describe, machine_info

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    info = machine_info()
    assert info["openblas_env"] == {"OPENBLAS_CORETYPE": "Haswell"}
    assert "Set for this run: OPENBLAS_CORETYPE=Haswell" in describe(info)
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert "Set for this run" not in describe(machine_info())


def test_torch_threads_are_restored_after_the_block(monkeypatch) -> None:
    """The torch yardstick's thread count holds inside its block only (the smoke tests run
    in the test process, where later torch tests keep their own count)."""
    import types

    from bench.torch_step import torch_threads

    state = {"n": 7}
    fake = types.SimpleNamespace(
        get_num_threads=lambda: state["n"], set_num_threads=lambda n: state.update(n=n)
    )
    monkeypatch.setitem(__import__("sys").modules, "torch", fake)
    with torch_threads(1) as inside:
        assert inside == 1 == state["n"]
    assert state["n"] == 7
    with pytest.raises(RuntimeError), torch_threads(2):
        raise RuntimeError("a crashing group")
    assert state["n"] == 7


def _doc(path) -> dict:
    from bench.report import format_json
    from bp_tui.tui.output_file import write_file

    rows = [Row("k", "f", "x", "<=", 1.0, value=0.5)]
    write_file(str(path), "--json", format_json({"cores": 2}, rows, {"quick": True}))
    return json.loads(path.read_text())


def test_json_is_written_in_place_through_a_symlink_keeping_its_mode(tmp_path) -> None:
    """--json writes the file the user named, as tee does: a symlink stays a symlink (its
    target is written), an existing file keeps its inode and mode. A temp file renamed
    over it replaced the link with a plain file and reset a private file's mode."""
    import os
    import stat

    target = tmp_path / "private.json"
    target.write_text("old, longer than nothing at all\n" * 100)
    target.chmod(0o600)
    inode = target.stat().st_ino
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    doc = _doc(link)
    assert doc["rows"][0]["value"] == 0.5 and doc["machine"] == {"cores": 2}
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.stat().st_ino == inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == doc  # truncated first: no old bytes left
    assert not list(tmp_path.glob(".bench-*"))  # no temporary file left beside it


def test_a_json_path_that_cannot_be_written_is_one_line_before_measuring(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = []
    monkeypatch.setattr("bench.__main__.run_groups", lambda cfg, names, log=print: ran.append(1))
    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--only", "core", "--json", str(tmp_path / "no" / "such" / "b.json")])
    assert exc.value.code == 2 and not ran
    err = capsys.readouterr().err
    assert err.startswith("bench: error: ") and "--json" in err and err.count("\n") == 1


def test_reports_are_written_in_place_and_a_bad_path_fails_before_the_run(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json / --markdown are written as every file a user names (tui.output_file): a
    symlink is followed, not replaced by a renamed temporary file; a path that cannot be
    written is one line and exit 2 before any group runs."""
    fake = Row("fake", "fake figure", "x", "<=", 2.0, value=1.5)
    ran: list[list[str]] = []

    def groups(cfg: object, names: list[str], log: object = print) -> list[Row]:
        ran.append(names)
        return [fake]

    monkeypatch.setattr("bench.__main__.run_groups", groups)
    target = tmp_path / "target.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    markdown = tmp_path / "table.md"
    argv = ["--quick", "--only", "core", "--json", str(link), "--markdown", str(markdown)]
    assert main(argv) == 0
    assert link.is_symlink() and json.loads(target.read_text())["rows"] == [fake.to_dict()]
    assert "| fake figure | 1.50x |" in markdown.read_text()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--only", "core", "--markdown", str(tmp_path / "no" / "t.md")])
    assert exc.value.code == 2 and len(ran) == 1
    assert "--markdown: its folder does not exist" in capsys.readouterr().err
