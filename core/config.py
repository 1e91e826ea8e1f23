"""The resolved configuration of one training run.

A scenario file (``scenarios/*.toml``) is parsed and validated by ``scenarios.loader``
into these frozen dataclasses; ``core`` never reads TOML itself, so any program can
build a ``Scenario`` in code and hand it to ``Trainer``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "linear")
INITS = ("he", "xavier", "xavier_uniform", "lecun", "standard_uniform", "normal")
LOSSES = ("bce", "softmax_ce", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
CLIP_MODES = ("none", "norm", "value")
DATA_KINDS = ("spirals", "moons", "circles", "xor", "blobs")


@dataclass(frozen=True)
class DataConfig:
    kind: str = "spirals"  # one of DATA_KINDS
    samples: int = 512  # examples in the (full) training set
    noise: float = 0.1  # std of the Gaussian noise added before standardising
    classes: int = 2  # arms of the spiral / blobs; moons, circles and xor are 2-class
    # Input scaling, for the lesson's "normalise your inputs": the raw coordinates are
    # multiplied by `scale` and shifted by `offset` (units of a measurement), then, if
    # `standardize`, each column is brought to mean 0, std 1, which undoes both.
    standardize: bool = True
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = (16, 16)  # hidden widths, input side first
    activation: str = "relu"  # hidden activation, one of ACTIVATIONS
    init: str = "he"  # weight initialisation, one of INITS
    init_scale: float = 1.0  # multiplies every initial weight
    bias_init: float | str = 0.0  # a constant, or "normal" for N(0, 1)
    loss: str = "bce"  # one of LOSSES; the output layer is linear (logits)


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "sgd"  # one of OPTIMIZERS
    lr: float = 0.05
    batch_size: int = 64
    clip: str = "none"  # one of CLIP_MODES
    clip_threshold: float = 1.0
    # Full-data probe (dead, saturated, accuracy) every N steps, and at the first and
    # last step. A probe is an exact forward pass over every example (512 in the
    # built-ins): about 2.5 training steps of matrix products. Every 10 steps it made
    # a step with diagnostics 1.3-1.4x one without (target: at most 1.15x); every 50
    # it is 5-6% and the dashboard loses nothing: at full speed (~5000 steps/s) that is
    # still ~100 probes a second against a display refreshed 6 times a second.
    probe_every: int = 50
    # Piecewise-constant learning rate: ((step, lr), ...), steps strictly increasing
    # from 1; each rate applies from its step on (until the next entry, or a live
    # change). Empty: `lr` throughout. When set, `lr` equals the first entry's rate.
    lr_schedule: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Claim:
    """One machine-checkable sentence of a lesson: ``metric op value`` (see core.claims).

    ``op`` is ``<``, ``<=``, ``>``, ``>=``, ``==`` or ``between`` (``value <= x <=
    high``); a boolean metric (``diverges``) has ``op`` ``==`` and a bool ``value``.
    """

    metric: str
    op: str
    value: float | bool
    high: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str  # built-in name or file stem
    title: str
    summary: str = ""
    lesson: str = ""  # Markdown shown beside the plots
    seed: int = 0
    steps: int = 1000
    speed: float = 0.0  # default viewing pace in the dashboard, steps/s; 0 = full speed
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    fix: bool = False  # True when the [fix] block has been merged in
    fix_summary: str = ""  # the remedy in one line; "" when the scenario has none
    source: str = ""  # the file it came from ("" when built in code)
    # What the lesson says this run shows (core.claims checks them on a finished run):
    # the scenario's [claims] for the scenario, its [fix.claims] once the fix is merged.
    claims: tuple[Claim, ...] = ()

    @property
    def has_fix(self) -> bool:
        return bool(self.fix_summary)

    def with_(self, **changes: Any) -> Scenario:
        """A copy with top-level fields replaced (``seed``, ``steps``...)."""
        return replace(self, **changes)

    def with_train(self, **changes: Any) -> Scenario:
        return replace(self, train=replace(self.train, **changes))

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain JSON-able data (the run event's ``config``)."""
        d = asdict(self)
        d["model"]["hidden"] = list(self.model.hidden)
        d["train"]["lr_schedule"] = [list(e) for e in self.train.lr_schedule]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Inverse of ``to_dict`` (no validation: use ``scenarios.loader`` for files)."""
        d = dict(d)
        model = dict(d.pop("model", {}))
        if "hidden" in model:
            model["hidden"] = tuple(model["hidden"])
        train = dict(d.pop("train", {}))
        if "lr_schedule" in train:  # JSON gives lists; the dataclass holds tuples
            train["lr_schedule"] = tuple((int(s), float(r)) for s, r in train["lr_schedule"])
        claims = tuple(Claim(**c) for c in d.pop("claims", ()))
        return cls(
            data=DataConfig(**d.pop("data", {})),
            model=ModelConfig(**model),
            train=TrainConfig(**train),
            claims=claims,
            **d,
        )
