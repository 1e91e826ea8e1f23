"""The scenario keys for the lesson's later parts: ``[train] lr_schedule``, input
scaling in ``[data]`` (``standardize``, ``scale``, ``offset``) and the ``[claims]``
tables. Good values are read; bad ones give the loader's one line naming file and
key, and ``bp-tui`` exits 2 on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bp_tui.core import events
from bp_tui.core.config import Claim, Scenario
from bp_tui.scenarios import ScenarioError, list_builtin, load
from tests.unit.test_cli import bp_tui

BASE = 'title = "t"\nsteps = 400\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ good values


def test_lr_schedule_is_read_and_its_first_rate_is_the_lr(tmp_path: Path) -> None:
    s = load(write(tmp_path, "[train]\nlr_schedule = [[1, 0.3], [300, 3], [310, 0.3]]\n"))
    assert s.train.lr_schedule == ((1, 0.3), (300, 3.0), (310, 0.3))
    assert s.train.lr == 0.3 and isinstance(s.train.lr_schedule[1][1], float)


def test_a_fix_that_writes_a_schedule_takes_its_lr_from_it(tmp_path: Path) -> None:
    text = (
        "[train]\nlr_schedule = [[1, 0.3], [300, 3.0]]\n"
        '[fix]\nsummary = "no spike"\n[fix.train]\nlr_schedule = [[1, 0.5]]\n'
    )
    fixed = load(write(tmp_path, text), fix=True)
    assert fixed.train.lr_schedule == ((1, 0.5),) and fixed.train.lr == 0.5


def test_input_scaling_keys_are_read(tmp_path: Path) -> None:
    s = load(write(tmp_path, "[data]\nstandardize = false\nscale = -10\noffset = 50\n"))
    assert (s.data.standardize, s.data.scale, s.data.offset) == (False, -10.0, 50.0)
    assert load(write(tmp_path, "")).data.standardize is True


def test_claims_are_read_for_the_run_and_for_the_fix(tmp_path: Path) -> None:
    text = (
        '[claims]\ndead_fraction_end = [">", 0.5]\ndiverges = false\n'
        'accuracy_at_step300 = ["between", 0.4, 0.6]\n'
        '[fix]\nsummary = "s"\n[fix.claims]\naccuracy_end = [">=", 0.99]\n'
    )
    path = write(tmp_path, text)
    assert load(path).claims == (
        Claim("dead_fraction_end", ">", 0.5),
        Claim("diverges", "==", False),
        Claim("accuracy_at_step300", "between", 0.4, 0.6),
    )
    assert load(path, fix=True).claims == (Claim("accuracy_end", ">=", 0.99),)


def test_a_file_without_claims_loads_with_none(tmp_path: Path) -> None:
    path = write(tmp_path, '[fix]\nsummary = "s"\n')
    assert load(path).claims == () and load(path, fix=True).claims == ()


def test_schedule_scaling_and_claims_survive_the_run_event_and_back() -> None:
    for info in list_builtin():
        for fix in (False, True) if load(info.name).has_fix else (False,):
            s = load(info.name, fix=fix)
            line = events.encode({"type": "run", "config": s.to_dict()})
            assert Scenario.from_dict(json.loads(line)["config"]) == s


# ------------------------------------------------------------------ bad values

BAD = [
    # lr_schedule
    ("[train]\nlr_schedule = [[1, 0.3], [300, 3.0], [200, 0.3]]\n", "train.lr_schedule",
     ["entry 3 of 3", "found step 200 after step 300", "strictly increasing"]),
    ("[train]\nlr_schedule = [[1, 0.3], [1, 0.5]]\n", "train.lr_schedule",
     ["entry 2 of 2", "strictly increasing"]),
    ("[train]\nlr_schedule = [[2, 0.3]]\n", "train.lr_schedule", ["found step 2", "step 1"]),
    ("[train]\nlr_schedule = [[1, -0.3]]\n", "train.lr_schedule", ["lr: found -0.3", "> 0"]),
    ("[train]\nlr_schedule = [[1, 0]]\n", "train.lr_schedule", ["lr: found 0", "> 0"]),
    ("[train]\nlr_schedule = [[1, nan]]\n", "train.lr_schedule", ["found nan", "finite"]),
    ("[train]\nlr_schedule = [[1, inf]]\n", "train.lr_schedule", ["found inf", "finite"]),
    ("[train]\nlr_schedule = [[1.5, 0.3]]\n", "train.lr_schedule", ["step: found 1.5"]),
    ("[train]\nlr_schedule = []\n", "train.lr_schedule", ["found []", "[step, lr]"]),
    ("[train]\nlr_schedule = [1, 0.3]\n", "train.lr_schedule", ["entry 1 of 2", "[step, lr]"]),
    ("[train]\nlr_schedule = [[1, 0.3, 2]]\n", "train.lr_schedule", ["[step, lr]"]),
    ("[train]\nlr = 0.1\nlr_schedule = [[1, 0.3]]\n", "train.lr_schedule",
     ["found lr = 0.1 with lr_schedule starting at 0.3"]),
    ('[train]\nlr_schedule = [[1, 0.3]]\n[fix]\nsummary = "s"\n[fix.train]\nlr = 0.1\n',
     "fix.train.lr", ["found lr = 0.1 with lr_schedule starting at 0.3"]),
    # input scaling
    ("[data]\nscale = 0\n", "data.scale", ["found 0", "other than 0"]),
    ("[data]\nscale = nan\n", "data.scale", ["found nan", "finite"]),
    ("[data]\nscale = -inf\n", "data.scale", ["found -inf", "finite"]),
    ("[data]\noffset = nan\n", "data.offset", ["found nan", "finite"]),
    ("[data]\noffset = 1e9\n", "data.offset", ["found 1000000000.0", "<= 1e+06"]),
    ("[data]\nstandardize = 1\n", "data.standardize", ["found 1 (an integer)", "true or false"]),
    ('[data]\nstandardise = false\n', "data.standardise", ['did you mean "standardize"']),
    # claims
    ("claims = 3\n", "claims", ["found 3", "table"]),
    ('[claims]\ndead_fractoin_end = [">", 0.5]\n', "claims.dead_fractoin_end",
     ["unknown claim", 'did you mean "dead_fraction_end"']),
    ('[claims]\naccuracy_end = 0.5\n', "claims.accuracy_end", ["found 0.5", "[OP, number]"]),
    ('[claims]\naccuracy_end = ["~", 0.5]\n', "claims.accuracy_end", ['"between"']),
    ('[claims]\naccuracy_end = [">", "high"]\n', "claims.accuracy_end",
     ['found [">", "high"]', "finite numbers"]),
    ('[claims]\naccuracy_end = [">", nan]\n', "claims.accuracy_end", ["finite numbers"]),
    ('[claims]\naccuracy_end = ["between", 0.9, 0.1]\n', "claims.accuracy_end", ["low <= high"]),
    ('[claims]\naccuracy_end = ["between", 0.9]\n', "claims.accuracy_end", ["[OP, number]"]),
    ('[claims]\ndiverges = "yes"\n', "claims.diverges", ["true or false"]),
    ('[claims]\naccuracy_at_step401 = [">", 0.5]\n', "claims.accuracy_at_step401",
     ["found step 401", "1 to 400 (steps)"]),
    ('[claims]\ndead_fraction_at_step0 = [">", 0.5]\n', "claims.dead_fraction_at_step0",
     ["found step 0", "1 to 400"]),
    ('[fix]\nsummary = "s"\n[fix.claims]\nloss_end_ = [">", 1]\n', "fix.claims.loss_end_",
     ["unknown claim"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "key", "words"), BAD)
def test_bad_values_name_file_and_key(
    tmp_path: Path, text: str, key: str, words: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load(path)
    err = info.value
    assert (err.file, err.key) == (str(path), key)
    assert str(err).startswith(f"{path}: {key}: ") and "\n" not in str(err)
    for word in words:
        assert word in str(err)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[train]\nlr_schedule = [[1, 0.3], [300, 3.0], [200, 0.3]]\n", "train.lr_schedule"),
        ("[train]\nlr_schedule = [[1, -0.3]]\n", "train.lr_schedule"),
        ("[data]\nscale = 0\n", "data.scale"),
        ("[data]\noffset = nan\n", "data.offset"),
        ('[claims]\naccuracy_end = [">", nan]\n', "claims.accuracy_end"),
    ],
)
def test_bp_tui_exits_2_with_one_line(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    result = bp_tui("run", str(path), "--jsonl")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"bp-tui: error: {path}: {key}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_list_shows_the_new_scenarios() -> None:
    result = bp_tui("list")
    assert result.returncode == 0
    for name in ("dying-relu", "dead-at-init", "lr-spike", "saturation", "vanishing-tanh"):
        assert name in result.stdout
