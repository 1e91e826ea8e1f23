"""Read a scenario file (TOML) and validate every key into a ``core.config.Scenario``.

A scenario is data, not code: nothing in the file is executed, and every key is
checked before anything trains. A bad file raises ``ScenarioError`` whose ``str()`` is
one line, ``FILE: KEY: what was found, what is allowed``, with ``KEY`` dotted the way
the user would find it in the file (``model.activation``, ``fix.train.lr``).

The ``[fix]`` table holds the remedy: a ``summary`` plus any of ``seed``, ``steps``,
``[fix.data]``, ``[fix.model]`` and ``[fix.train]``, checked exactly like the scenario
itself and merged over it when ``load(..., fix=True)``. The scenario and its fixed
form are both checked on every load, because the dashboard can switch to the fix at
any time.

``[claims]`` (and ``[fix.claims]``, which replaces it for the fixed run) holds what
the lesson says the run shows, in the vocabulary of ``core.claims``; a file may have
none. ``[train] lr_schedule`` written without ``lr`` sets ``lr`` to its first rate.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

from bp_tui.core import claims as claim_vocabulary
from bp_tui.core.config import (
    ACTIVATIONS,
    CLIP_MODES,
    DATA_KINDS,
    INITS,
    LOSSES,
    OPTIMIZERS,
    Claim,
    DataConfig,
    ModelConfig,
    Scenario,
    TrainConfig,
)
from bp_tui.core.datasets import TWO_CLASS
from bp_tui.core.losses import n_outputs

BUILTIN_DIR = Path(__file__).resolve().parent
FIRST_BUILTIN = "healthy"  # the baseline is listed first: compare every pathology with it

# Limits. They keep a typo (an extra zero) from asking for hours of training or
# gigabytes of memory, and they are generous for anything the dashboard can show.
MAX_SEED = 2**32 - 1
MAX_STEPS = 10_000_000
MAX_SAMPLES = 100_000
MAX_CLASSES = 10
MAX_HIDDEN_LAYERS = 64
MAX_WIDTH = 4096
MAX_PARAMS = 20_000_000  # weights and biases of the whole network
MAX_PROBE_VALUES = 50_000_000  # samples x widest layer: the full-data probe holds this many
MAX_LR = 1000.0
MAX_SPEED = 1e6  # steps/s: beyond what the trainer reaches; leave `speed` out for full speed
MAX_SCALE = 1000.0  # init_scale and |bias_init|
MAX_INPUT_SCALE = 1e6  # |data.scale| and |data.offset|: far past saturating any unit
MAX_SCHEDULE = 1000  # entries of train.lr_schedule


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; ``str()`` is ``FILE: KEY: problem`` on one line."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = " ".join(problem.split())  # one line, whatever the parser said
        super().__init__(f"{file}: {key}: {self.problem}")


class ScenarioInfo(NamedTuple):
    """One built-in scenario, as the picker and ``bp-tui list`` show it."""

    name: str
    title: str
    summary: str
    path: Path


class _Invalid(Exception):
    """A value that failed a check; the caller adds the file and the key."""


# ---------------------------------------------------------------- showing values


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: bool is a subclass of int
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _kind(value: Any) -> str:
    """What TOML type a parsed value has, in words."""
    return next((name for t, name in _TYPE_NAMES if isinstance(value, t)), "a date/time")


def _show(value: Any) -> str:
    """A value the way it would be written in TOML, shortened to fit one line."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _found(value: Any) -> str:
    return f"found {_show(value)} ({_kind(value)})"


def _suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names)


# ---------------------------------------------------------------- value checks

Check = Callable[[Any], Any]


def _integer(lo: int, hi: int) -> Check:
    def check(value: Any) -> int:
        # bool is a subclass of int in Python; `steps = true` is a mistake, not 1
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"{_found(value)}, expected an integer from {lo} to {hi}")
        if not lo <= value <= hi:
            raise _Invalid(f"found {value}, allowed {lo} to {hi}")
        return value

    return check


def _number(lo: float, hi: float, *, lo_open: bool) -> Check:
    """A finite float in ``(lo, hi]`` (``lo_open``) or ``[lo, hi]``; an int is accepted."""
    allowed = f"{'>' if lo_open else '>='} {lo:g} and <= {hi:g}"

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"{_found(value)}, expected a number {allowed}")
        x = float(value)
        if not math.isfinite(x):
            raise _Invalid(f"found {_show(value)}, expected a finite number {allowed}")
        if x < lo or (lo_open and x == lo) or x > hi:
            raise _Invalid(f"found {_show(value)}, allowed {allowed}")
        return x

    return check


def _choice(names: tuple[str, ...]) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"{_found(value)}, expected one of: {_listing(names)}")
        if value not in names:
            hint = _suggest(value, names)
            raise _Invalid(f"found {_show(value)}{hint}, allowed: {_listing(names)}")
        return value

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{_found(value)}, expected a string")
    return value


def _hidden(value: Any) -> tuple[int, ...]:
    allowed = f"an array of 1 to {MAX_HIDDEN_LAYERS} widths, each 1 to {MAX_WIDTH}"
    if not isinstance(value, list):
        raise _Invalid(f"{_found(value)}, expected {allowed}, like [32, 32]")
    if not 1 <= len(value) <= MAX_HIDDEN_LAYERS:
        raise _Invalid(f"found {len(value)} hidden layers, allowed 1 to {MAX_HIDDEN_LAYERS}")
    check = _integer(1, MAX_WIDTH)
    for i, width in enumerate(value):
        try:
            check(width)
        except _Invalid as exc:
            raise _Invalid(f"layer {i + 1} of {len(value)}: {exc}") from None
    return tuple(value)


def _bias_init(value: Any) -> float | str:
    if isinstance(value, str):
        if value != "normal":
            raise _Invalid(f'found {_show(value)}, expected a number or "normal" (N(0, 1))')
        return value
    try:
        return _number(-MAX_SCALE, MAX_SCALE, lo_open=False)(value)
    except _Invalid as exc:
        raise _Invalid(f'{exc}, or "normal"') from None


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{_found(value)}, expected true or false")
    return value


def _input_scale(value: Any) -> float:
    """data.scale: a finite number, not 0 (it would collapse every input onto one point)."""
    x = _number(-MAX_INPUT_SCALE, MAX_INPUT_SCALE, lo_open=False)(value)
    if x == 0.0:
        raise _Invalid(f"found {_show(value)}, allowed a number other than 0 (1: unchanged)")
    return x


def _lr_schedule(value: Any) -> tuple[tuple[int, float], ...]:
    """train.lr_schedule: [[step, lr], ...], steps strictly increasing from 1, lr as `lr`."""
    allowed = "an array of [step, lr] pairs from step 1 on, like [[1, 0.3], [300, 3.0]]"
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SCHEDULE:
        raise _Invalid(f"{_found(value)}, expected {allowed} (1 to {MAX_SCHEDULE} entries)")
    step_check, lr_check = _integer(1, MAX_STEPS), _number(0.0, MAX_LR, lo_open=True)
    out: list[tuple[int, float]] = []
    for i, entry in enumerate(value):
        where = f"entry {i + 1} of {len(value)}"
        if not isinstance(entry, list) or len(entry) != 2:
            raise _Invalid(f"{where}: {_found(entry)}, expected [step, lr]")
        try:
            step = step_check(entry[0])
        except _Invalid as exc:
            raise _Invalid(f"{where}: step: {exc}") from None
        try:
            lr = lr_check(entry[1])
        except _Invalid as exc:
            raise _Invalid(f"{where}: lr: {exc}") from None
        if i == 0 and step != 1:
            raise _Invalid(f"{where}: found step {step}, expected the first entry at step 1")
        if out and step <= out[-1][0]:
            raise _Invalid(
                f"{where}: found step {step} after step {out[-1][0]}, "
                "allowed steps in strictly increasing order"
            )
        out.append((step, lr))
    return tuple(out)


# ---------------------------------------------------------------- the schema

_TOP: dict[str, Check] = {
    "title": _text,
    "summary": _text,
    "lesson": _text,
    "seed": _integer(0, MAX_SEED),
    "steps": _integer(1, MAX_STEPS),
    # the dashboard's default pace (steps/s), so a run lasts long enough to watch
    "speed": _number(0.0, MAX_SPEED, lo_open=True),
}
_TABLES: dict[str, dict[str, Check]] = {
    "data": {
        "kind": _choice(DATA_KINDS),
        "samples": _integer(4, MAX_SAMPLES),
        "noise": _number(0.0, 10.0, lo_open=False),
        "classes": _integer(2, MAX_CLASSES),
        "standardize": _boolean,
        "scale": _input_scale,
        "offset": _number(-MAX_INPUT_SCALE, MAX_INPUT_SCALE, lo_open=False),
    },
    "model": {
        "hidden": _hidden,
        "activation": _choice(ACTIVATIONS),
        "init": _choice(INITS),
        "init_scale": _number(0.0, MAX_SCALE, lo_open=True),
        "bias_init": _bias_init,
        "loss": _choice(LOSSES),
    },
    "train": {
        "optimizer": _choice(OPTIMIZERS),
        "lr": _number(0.0, MAX_LR, lo_open=True),
        "batch_size": _integer(1, MAX_SAMPLES),
        "clip": _choice(CLIP_MODES),
        "clip_threshold": _number(0.0, 1e12, lo_open=True),
        "probe_every": _integer(1, MAX_STEPS),
        "lr_schedule": _lr_schedule,
    },
}
_CONFIG_CLASSES = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
_FIX_TOP = ("summary", "seed", "steps", "speed")  # the fix may not retitle or re-teach the scenario

# The schema must name exactly the dataclass fields, or a key would be silently dropped.
for _table, _cls in _CONFIG_CLASSES.items():
    assert set(_TABLES[_table]) == {f.name for f in fields(_cls)}, _table


def _unknown_key(key: str, allowed: Iterable[str], where: str) -> str:
    """The problem text for a key that does not belong where it was written."""
    allowed = list(allowed)
    hint = _suggest(key, allowed)
    if not hint:  # a known key in the wrong table: `lr` at the top instead of [train]
        for table, keys in _TABLES.items():
            if key in keys:
                hint = f" (it belongs in [{table}])"
    return f"unknown key{hint}, allowed in {where}: {_listing(allowed)}"


Values = dict[str, Any]  # {"seed": 0, "data": {"kind": ...}, ...}: only the keys written


def _check_tables(doc: dict[str, Any], top: Iterable[str], prefix: str, file: str) -> Values:
    """Check one level (the file, or its [fix]); returns the checked values written there."""
    top = tuple(top)
    out: Values = {}
    where = "the scenario" if not prefix else "[fix]"
    for key, value in doc.items():
        dotted = prefix + key
        if key in _TABLES:
            if not isinstance(value, dict):
                raise ScenarioError(file, dotted, f"{_found(value)}, expected a table [{dotted}]")
            table: Values = {}
            for sub, subvalue in value.items():
                checks = _TABLES[key]
                if sub not in checks:
                    problem = _unknown_key(sub, checks, f"[{dotted}]")
                    raise ScenarioError(file, f"{dotted}.{sub}", problem)
                try:
                    table[sub] = checks[sub](subvalue)
                except _Invalid as exc:
                    raise ScenarioError(file, f"{dotted}.{sub}", str(exc)) from None
            out[key] = table
        elif key in top:
            try:
                out[key] = _TOP[key](value)
            except _Invalid as exc:
                raise ScenarioError(file, dotted, str(exc)) from None
        else:
            raise ScenarioError(file, dotted, _unknown_key(key, [*top, *_TABLES], where))
    return out


def _merge(base: Values, over: Values) -> Values:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = {**base.get(key, {}), **value} if key in _TABLES else value
    return merged


def _resolve(values: Values, name: str) -> Scenario:
    """The Scenario for checked values; unwritten keys take the dataclass defaults."""
    tables = {t: cls(**values.get(t, {})) for t, cls in _CONFIG_CLASSES.items()}
    top = {
        k: values[k]
        for k in ("title", "summary", "lesson", "seed", "steps", "speed")
        if k in values
    }
    top.setdefault("title", name)
    return Scenario(name=name, **top, **tables)  # type: ignore[arg-type]


def _check_together(s: Scenario, fix: Values, file: str) -> None:
    """Rules that tie keys together; the key named is the one the user would change.

    ``fix`` holds the keys the [fix] table set (empty when checking the scenario
    itself): a rule broken by the fix is reported under the fix's key,
    ``fix.train.batch_size``, since that is the line to edit.
    """

    def key(*dotted: str) -> str:
        for name in dotted:  # the first of these that the fix set, if any
            table, sub = name.split(".")
            if sub in fix.get(table, {}):
                return f"fix.{name}"
        return dotted[0]

    if s.data.kind in TWO_CLASS and s.data.classes != 2:
        raise ScenarioError(
            file,
            key("data.classes", "data.kind"),
            f"found classes = {s.data.classes} with kind = {_show(s.data.kind)}, "
            f"which has exactly 2 classes (only spirals and blobs take 2 to {MAX_CLASSES})",
        )
    if s.train.batch_size > s.data.samples:
        raise ScenarioError(
            file,
            key("train.batch_size", "data.samples"),
            f"found batch_size = {s.train.batch_size} with data.samples = {s.data.samples}, "
            "allowed at most the data set's size",
        )
    sizes = [2, *s.model.hidden, n_outputs(s.model.loss, s.data.classes)]
    params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if params > MAX_PARAMS:
        raise ScenarioError(
            file,
            key("model.hidden", "data.classes"),
            f"found {params:,} parameters, allowed at most {MAX_PARAMS:,} "
            "(use fewer or narrower layers)",
        )
    probe = s.data.samples * max(s.model.hidden)
    if probe > MAX_PROBE_VALUES:
        raise ScenarioError(
            file,
            key("data.samples", "model.hidden"),
            f"found {s.data.samples} samples x {max(s.model.hidden)} units = {probe:,} values "
            f"in the full-data probe, allowed at most {MAX_PROBE_VALUES:,} "
            "(use fewer samples or narrower layers)",
        )


# ---------------------------------------------------------------- schedule and claims


def _schedule_sets_lr(values: Values) -> Values:
    """A level (the file, or its [fix]) that writes lr_schedule but not lr: the
    schedule's first rate is its lr, so that ``train.lr`` always says what step 1 uses."""
    train = values.get("train", {})
    if "lr_schedule" in train and "lr" not in train:
        return {**values, "train": {**train, "lr": train["lr_schedule"][0][1]}}
    return values


def _check_schedule_and_claims(s: Scenario, fix: Values, prefix: str, file: str) -> None:
    """lr agrees with lr_schedule's first rate; a claim's step lies within the run."""
    schedule = s.train.lr_schedule
    if schedule and s.train.lr != schedule[0][1]:
        written = fix.get("train", {})
        key = "train.lr_schedule" if "lr" not in written else "train.lr"
        raise ScenarioError(
            file,
            ("fix." if written else "") + key,
            f"found lr = {s.train.lr:g} with lr_schedule starting at {schedule[0][1]:g}, "
            "allowed the same rate (or leave lr out: the schedule sets it)",
        )
    for c in s.claims:
        parsed = claim_vocabulary.parse_key(c.metric)
        step = parsed[2] if parsed else None
        if step is not None and not 1 <= step <= s.steps:
            raise ScenarioError(
                file,
                f"{prefix}claims.{c.metric}",
                f"found step {step}, allowed a step the run reaches, 1 to {s.steps} (steps)",
            )


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _claim(key: str, value: Any) -> Claim:
    """One [claims] entry: ``metric = [op, x]``, ``["between", lo, hi]`` or a bool."""
    if key in claim_vocabulary.BOOLEAN_METRICS:
        return Claim(key, "==", _boolean(value))
    ops = ", ".join(f'"{op}"' for op in claim_vocabulary.OPS if op != "between")
    allowed = f'[OP, number] with OP one of {ops}, or ["between", low, high]'
    if not isinstance(value, list) or not value or value[0] not in claim_vocabulary.OPS:
        raise _Invalid(f"{_found(value)}, expected {allowed}")
    op, numbers = value[0], value[1:]
    if len(numbers) != (2 if op == "between" else 1):
        raise _Invalid(f"found {_show(value)}, expected {allowed}")
    if not all(_is_finite_number(n) for n in numbers):
        raise _Invalid(f"found {_show(value)}, expected finite numbers after {_show(op)}")
    x = [float(n) for n in numbers]
    if op == "between" and x[0] > x[1]:
        raise _Invalid(f"found {_show(value)}, expected low <= high")
    return Claim(key, op, x[0], x[1] if op == "between" else None)


def _check_claims(table: Any, prefix: str, file: str) -> tuple[Claim, ...]:
    """The [claims] (or [fix.claims]) table; a file without one has no claims."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise ScenarioError(file, f"{prefix}claims", f"{_found(table)}, expected a table")
    out = []
    for key, value in table.items():
        dotted = f"{prefix}claims.{key}"
        if claim_vocabulary.parse_key(key) is None:
            names = claim_vocabulary.metric_names()
            examples = _listing(claim_vocabulary.EXAMPLES)
            raise ScenarioError(
                file,
                dotted,
                f"unknown claim{_suggest(key, names)}, allowed: a run-level claim "
                f"({_listing(claim_vocabulary.RUN_METRICS)}) or METRIC_SELECTOR like "
                f"{examples} (see core/claims.py)",
            )
        try:
            out.append(_claim(key, value))
        except _Invalid as exc:
            raise ScenarioError(file, dotted, str(exc)) from None
    return tuple(out)


# ---------------------------------------------------------------- files and names


def _builtin_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}


def _builtin_order(name: str) -> tuple[bool, str]:
    return (name != FIRST_BUILTIN, name)


def _locate(name_or_path: str | Path) -> tuple[Path, str]:
    """The file to read and the scenario's name (its stem)."""
    text = str(name_or_path)
    builtins = _builtin_paths()
    if isinstance(name_or_path, str) and text in builtins:
        return builtins[text], text
    path = Path(name_or_path)
    looks_like_path = path.suffix == ".toml" or "/" in text or "\\" in text or path.exists()
    if not looks_like_path:
        names = sorted(builtins, key=_builtin_order)
        raise ScenarioError(
            text,
            "scenario",
            f"unknown built-in {_show(text)}{_suggest(text, names)}, "
            f"built-ins: {_listing(names)}, or give the path of a .toml file",
        )
    if not path.exists():
        raise ScenarioError(text, "file", "not found, expected a scenario .toml file")
    if not path.is_file():
        raise ScenarioError(text, "file", "found a directory, expected a scenario .toml file")
    return path, path.stem


def _parse(path: Path, file: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(file, "file", f"cannot read it ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            file, "file", f"found a non-UTF-8 byte at offset {exc.start}, expected TOML text"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib ends its message with "(at line L, column C)"
        raise ScenarioError(file, "syntax", f"invalid TOML, {exc}") from None


def load(
    name_or_path: str | Path,
    *,
    fix: bool = False,
    seed: int | None = None,
    steps: int | None = None,
) -> Scenario:
    """Load a built-in by name (``"exploding"``) or a scenario file by path.

    ``fix=True`` merges the file's ``[fix]`` over it; ``seed`` and ``steps``, when
    given, override both. Raises ``ScenarioError`` for anything wrong.
    """
    path, name = _locate(name_or_path)
    file = str(name_or_path)
    doc = _parse(path, file)

    fix_doc = doc.pop("fix", None)
    claims = _check_claims(doc.pop("claims", None), "", file)
    base = _schedule_sets_lr(_check_tables(doc, _TOP, "", file))
    scenario = _resolve(base, name).with_(claims=claims)
    _check_together(scenario, {}, file)
    _check_schedule_and_claims(scenario, {}, "", file)

    fix_summary = ""
    if fix_doc is not None:
        if not isinstance(fix_doc, dict):
            raise ScenarioError(file, "fix", f"{_found(fix_doc)}, expected a table [fix]")
        fix_doc = dict(fix_doc)
        fix_claims = _check_claims(fix_doc.pop("claims", None), "fix.", file)
        fix_values = _schedule_sets_lr(_check_tables(fix_doc, _FIX_TOP, "fix.", file))
        fix_summary = fix_values.pop("summary", "").strip()
        if not fix_summary:
            raise ScenarioError(
                file, "fix.summary", "missing, expected one line that says what the fix changes"
            )
        fixed = _resolve(_merge(base, fix_values), name).with_(claims=fix_claims)
        _check_together(fixed, fix_values, file)
        _check_schedule_and_claims(fixed, fix_values, "fix.", file)
        if fix:
            scenario = fixed
    elif fix:
        raise ScenarioError(file, "fix", "the fix was asked for, but the file has no [fix] table")

    overrides: dict[str, Any] = {}
    for key, value in (("seed", seed), ("steps", steps)):
        if value is not None:
            try:
                overrides[key] = _TOP[key](value)
            except _Invalid as exc:
                raise ScenarioError(file, f"--{key}", str(exc)) from None
    return scenario.with_(fix=fix, fix_summary=fix_summary, source=str(path), **overrides)


def list_builtin() -> list[ScenarioInfo]:
    """The built-in scenarios, the healthy baseline first, then by name."""
    infos = []
    for name, path in sorted(_builtin_paths().items(), key=lambda item: _builtin_order(item[0])):
        s = load(name)
        infos.append(ScenarioInfo(name=name, title=s.title, summary=s.summary, path=path))
    return infos
