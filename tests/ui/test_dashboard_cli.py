"""Bad dashboard input: one line `bp-tui: error: ...`, exit 2, before any app starts."""

from __future__ import annotations

import pytest

from bp_tui.tui.commands.dashboard import run_dashboard


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-scenario"], "no-such-scenario: scenario: unknown built-in"),
        (["vanishing", "--fps", "0"], "--fps: found 0, allowed 0.1 to 60"),
        (["vanishing", "--speed", "fast"], "--speed: found 'fast', expected a number"),
        (["--fix"], "--fix: given without a scenario"),
        (["--scenarios", "/no/such/dir"], "/no/such/dir: --scenarios: not a folder"),
        (["vanishing", "--bogus"], "bp-tui: unrecognized arguments: --bogus"),
        (["vanishing", "--speed", "0"], "--speed: found 0, allowed 0.1 to 1e+06 steps/s"),
        (["vanishing", "--theme", "nope"], "--theme: found 'nope', allowed "),
        (["vanishing", "--screenshot-dir", "/no/such/dir"], "--screenshot-dir: not a folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, expected, capsys):
    assert run_dashboard(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bp-tui: error: ") and expected in err


def test_a_broken_scenario_file_is_reported_with_its_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[train]\nlr = -1.0\n')
    assert run_dashboard([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bp-tui: error: {bad}: train.lr: ") and err.count("\n") == 1


def test_speed_max_is_full_speed():
    from bp_tui.tui.commands.dashboard import parser

    assert parser().parse_args(["vanishing", "--speed", "max"]).speed == 0.0
    assert parser().parse_args(["vanishing", "--speed", "12.5"]).speed == 12.5
    assert parser().parse_args(["vanishing"]).speed is None  # the scenario's own pace
