"""The scenario loader: every key is checked, and a bad file gives one precise line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bp_tui.core.config import ACTIVATIONS, DataConfig, ModelConfig, TrainConfig
from bp_tui.scenarios import ScenarioError, list_builtin, load
from bp_tui.scenarios.loader import BUILTIN_DIR

MINIMAL = 'title = "t"\n'


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | str, **kwargs: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(path, **kwargs)  # type: ignore[arg-type]
    return info.value


# ------------------------------------------------------------------ good files


def test_builtins_are_listed_healthy_first_with_titles_from_their_files() -> None:
    infos = list_builtin()
    names = [i.name for i in infos]
    assert names[0] == "healthy"
    assert sorted(names) == sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))
    assert {"healthy", "vanishing", "exploding", "dying-relu"} <= set(names)
    for info in infos:
        raw = tomllib.loads(info.path.read_text(encoding="utf-8"))
        assert (info.title, info.summary) == (raw["title"], raw["summary"])


# `micro` is a walkthrough of backprop on a working network: it has nothing to fix
WALKTHROUGHS = ("micro",)


def test_every_builtin_but_a_walkthrough_is_a_pathology_with_a_fix() -> None:
    for info in list_builtin():
        assert load(info.name).has_fix is (info.name not in WALKTHROUGHS), info.name


@pytest.mark.parametrize(
    "name", [info.name for info in list_builtin() if info.name not in WALKTHROUGHS]
)
def test_every_builtin_has_a_lesson_and_a_fix_that_changes_something(name: str) -> None:
    plain, fixed = load(name), load(name, fix=True)
    assert plain.name == name and len(plain.lesson) > 400 and plain.has_fix
    assert (plain.fix, fixed.fix) == (False, True)
    assert fixed.fix_summary == plain.fix_summary
    changed = (fixed.data, fixed.model, fixed.train, fixed.seed, fixed.steps)
    assert changed != (plain.data, plain.model, plain.train, plain.seed, plain.steps)


def test_file_values_are_read_and_unwritten_keys_take_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'title = "Mine"\nsteps = 7\n[model]\nhidden = [3, 4]\nbias_init = -2\n[train]\nlr = 1\n',
        name="mine.toml",
    )
    s = load(path)
    assert (s.name, s.title, s.steps, s.seed) == ("mine", "Mine", 7, 0)
    assert s.model == ModelConfig(hidden=(3, 4), bias_init=-2.0)
    # an integer is accepted where a float is expected, and stored as a float
    assert s.train == TrainConfig(lr=1.0) and isinstance(s.train.lr, float)
    assert s.data == DataConfig()
    assert s.source == str(path) and not s.has_fix


def test_fix_is_merged_over_the_scenario_only_when_asked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'title = "t"\nsteps = 50\n[model]\nactivation = "sigmoid"\ninit = "xavier"\n'
        '[fix]\nsummary = " use relu "\nsteps = 60\n[fix.model]\nactivation = "relu"\n',
    )
    plain, fixed = load(path), load(path, fix=True)
    assert (plain.model.activation, plain.steps) == ("sigmoid", 50)
    assert (fixed.model.activation, fixed.steps) == ("relu", 60)
    assert fixed.model.init == "xavier"  # keys the fix does not name are kept
    assert fixed.fix_summary == plain.fix_summary == "use relu"
    assert fixed.summary == plain.summary  # the fix's summary does not replace the scenario's


def test_seed_and_steps_arguments_override_file_and_fix() -> None:
    s = load("exploding", fix=True, seed=5, steps=12)
    assert (s.seed, s.steps) == (5, 12)


# ------------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        # unknown keys, with a near-miss suggestion or the table they belong in
        ('[model]\nactivaton = "relu"\n', "model.activaton", ['did you mean "activation"']),
        ("tittle = 1\n", "tittle", ['did you mean "title"']),
        ("lr = 0.1\n", "lr", ["belongs in [train]"]),
        ("[optim]\nlr = 0.1\n", "optim", ["allowed in the scenario", "train"]),
        # wrong types: bool is not an int, a string is not a number, a number not a table
        ("steps = true\n", "steps", ["found true (a boolean)", "integer"]),
        ("steps = 10.0\n", "steps", ["found 10.0 (a number)", "integer"]),
        ('[train]\nlr = "0.1"\n', "train.lr", ['found "0.1" (a string)', "number > 0"]),
        ("data = 3\n", "data", ["found 3 (an integer)", "table"]),
        ('[model]\nhidden = "32"\n', "model.hidden", ["(a string)", "array"]),
        ("[model]\nhidden = [32, 1.5]\n", "model.hidden", ["layer 2 of 2", "found 1.5"]),
        ("[model]\nactivation = 1\n", "model.activation", ["(an integer)", "relu"]),
        ("[model]\nbias_init = true\n", "model.bias_init", ["(a boolean)", '"normal"']),
        # out of range
        ("[train]\nlr = 0\n", "train.lr", ["found 0", "> 0"]),
        ("[train]\nlr = -0.1\n", "train.lr", ["found -0.1", "> 0"]),
        ("[train]\nlr = nan\n", "train.lr", ["found nan", "finite"]),
        ("[train]\nlr = inf\n", "train.lr", ["found inf", "finite"]),
        ("[model]\nhidden = [32, 0]\n", "model.hidden", ["layer 2 of 2", "found 0", "1 to 4096"]),
        ("[model]\nhidden = [5000]\n", "model.hidden", ["found 5000", "1 to 4096"]),
        ("[model]\nhidden = []\n", "model.hidden", ["found 0 hidden layers", "1 to 64"]),
        ("[model]\nhidden = [" + "8, " * 300 + "]\n", "model.hidden", ["found 300 hidden"]),
        ("[model]\nhidden = [4096, 4096, 4096]\n", "model.hidden", ["parameters", "at most"]),
        ("[model]\ninit_scale = 0\n", "model.init_scale", ["found 0", "> 0"]),
        ('[model]\nbias_init = "zero"\n', "model.bias_init", ['found "zero"', '"normal"']),
        ("steps = 0\n", "steps", ["found 0", "1 to 10000000"]),
        ("steps = 100_000_000_000\n", "steps", ["found 100000000000", "1 to 10000000"]),
        ("seed = -1\n", "seed", ["found -1", "0 to"]),
        ("[data]\nnoise = -0.1\n", "data.noise", ["found -0.1", ">= 0"]),
        ("[data]\nclasses = 1\n", "data.classes", ["found 1", "2 to 10"]),
        ("[data]\nclasses = 11\n", "data.classes", ["found 11", "2 to 10"]),
        ('[data]\nkind = "moons"\nclasses = 3\n', "data.classes", ["exactly 2 classes"]),
        ("[data]\nsamples = 100\n[train]\nbatch_size = 101\n", "train.batch_size", ["101"]),
        ("[data]\nsamples = 100000\n[model]\nhidden = [4096]\n", "data.samples", ["probe"]),
        ("[train]\nprobe_every = 0\n", "train.probe_every", ["found 0", "1 to"]),
        ("[train]\nclip_threshold = 0\n", "train.clip_threshold", ["found 0", "> 0"]),
        # unknown names, listing what is allowed
        ('[model]\nactivation = "sigmoidd"\n', "model.activation", ['"sigmoid"', "leaky_relu"]),
        ('[model]\ninit = "kaiming"\n', "model.init", ["he, xavier"]),
        ('[model]\nloss = "ce"\n', "model.loss", ["bce, softmax_ce, mse"]),
        ('[train]\noptimizer = "rmsprop"\n', "train.optimizer", ["sgd, momentum, adam"]),
        ('[train]\nclip = "global"\n', "train.clip", ["none, norm, value"]),
        ('[data]\nkind = "spiral"\n', "data.kind", ['did you mean "spirals"']),
        # the fix is checked like the scenario, under its own keys
        ("[fix]\nsummary = 1\n", "fix.summary", ["(an integer)", "string"]),
        ('[fix]\nsummary = "s"\ntitle = "x"\n', "fix.title", ["allowed in [fix]"]),
        ('[fix]\nsummary = "s"\n[fix.train]\nlr = 0\n', "fix.train.lr", ["found 0"]),
        ('[fix]\nsummary = "s"\n[fix.model]\nactivaton = 1\n', "fix.model.activaton", ["did"]),
        ("[fix]\n[fix.train]\nlr = 0.1\n", "fix.summary", ["missing"]),
        ("fix = 1\n", "fix", ["expected a table"]),
        (
            '[data]\nsamples = 100\n[fix]\nsummary = "s"\n[fix.train]\nbatch_size = 200\n',
            "fix.train.batch_size",
            ["found batch_size = 200 with data.samples = 100"],
        ),
        (
            '[data]\nkind = "spirals"\nclasses = 3\n'
            '[fix]\nsummary = "s"\n[fix.data]\nkind = "xor"\n',
            "fix.data.kind",
            ["exactly 2 classes"],
        ),
    ],
)
def test_bad_value_names_file_key_found_and_allowed(
    tmp_path: Path, text: str, key: str, words: list[str]
) -> None:
    path = write(tmp_path, MINIMAL + text if not text.startswith("title") else text)
    err = error_of(path)
    assert (err.file, err.key) == (str(path), key)
    message = str(err)
    assert message.startswith(f"{path}: {key}: ") and "\n" not in message
    for word in words:
        assert word in message


def test_every_activation_is_accepted_and_the_error_lists_them_all(tmp_path: Path) -> None:
    for name in ACTIVATIONS:
        assert load(write(tmp_path, f'[model]\nactivation = "{name}"\n')).model.activation == name
    message = str(error_of(write(tmp_path, '[model]\nactivation = "gelu"\n')))
    assert all(name in message for name in ACTIVATIONS)


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'title = "t"\nseed = 0\n[train]\nlr = = 0.1\n')
    err = error_of(path)
    assert err.key == "syntax" and "line 4" in str(err) and "\n" not in str(err)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_bytes(b'title = "\xff"\n')
    assert error_of(path).key == "file" and "UTF-8" in str(error_of(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    err = error_of(str(tmp_path / "nope.toml"))
    assert str(err) == f"{tmp_path / 'nope.toml'}: file: not found, expected a scenario .toml file"
    assert "directory" in str(error_of(tmp_path))


def test_unknown_builtin_lists_the_builtins_and_suggests() -> None:
    message = str(error_of("explodng"))
    assert message.startswith("explodng: scenario: unknown built-in")
    assert 'did you mean "exploding"' in message
    for info in list_builtin():
        assert info.name in message


def test_fix_asked_for_without_a_fix_table(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, MINIMAL), fix=True).key == "fix"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [({"steps": 0}, "healthy: --steps: found 0, "), ({"seed": -3}, "healthy: --seed: found -3, ")],
)
def test_bad_overrides_are_reported_like_file_values(kwargs: dict[str, int], expected: str) -> None:
    assert str(error_of("healthy", **kwargs)).startswith(expected)


def test_speed_is_a_positive_pace_that_the_fix_may_change(tmp_path: Path) -> None:
    text = 'title = "t"\nspeed = 30\n[fix]\nsummary = "s"\nspeed = 40\n[fix.train]\nlr = 0.2\n'
    path = write(tmp_path, text)
    assert load(path).speed == 30.0 and load(path, fix=True).speed == 40.0
    assert load(write(tmp_path, 'title = "t"\n', "none.toml")).speed == 0.0  # full speed
    for bad in ("0", "-5", '"fast"'):
        message = str(error_of(write(tmp_path, f'title = "t"\nspeed = {bad}\n', "bad.toml")))
        assert "speed: found" in message and "> 0 and <= 1e+06" in message, message


def test_builtins_last_20_to_40_seconds_at_their_pace_and_exploding_diverges_slowly() -> None:
    for info in list_builtin():
        for fix in (False, True):
            s = load(info.name, fix=fix)
            if info.name == "exploding" and not fix:
                # it diverges within about ten steps: several seconds to watch them
                assert s.speed <= 2
            else:
                assert 20 <= s.steps / s.speed <= 40, (info.name, fix)
