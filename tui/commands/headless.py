"""``bp-tui run`` and ``bp-tui gradcheck``: training without the dashboard.

``run`` trains a scenario to its end and either prints a summary (stdout) with a
progress bar (stderr, only on a terminal), or, with ``--jsonl``, writes the event
stream to stdout and nothing else. ``--out FILE`` records the same stream to FILE,
written in place line by line as it goes (``tui/output_file.py``), so ``bp-tui watch
FILE`` can follow it and a killed run leaves every line up to the last.

Ctrl+C, SIGTERM and SIGHUP stop the run between two steps: the stream still ends with
an ``end`` event (reason ``stopped``), the summary is printed (not after a hangup: the
terminal is gone), and the exit status is 128 + the signal (130, 143, 129). A second
signal aborts at once; the file still ends with ``stopped``.

Nothing here imports textual: the headless commands must start fast and run where
the UI cannot.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from bp_tui.core.config import Scenario
from bp_tui.core.events import encode
from bp_tui.tui.errors import EXIT_INTERRUPTED, PROG
from bp_tui.tui.output_file import OutputFile

if TYPE_CHECKING:
    from bp_tui.core.gradcheck import GradcheckCost

GRADCHECK_STEPS = 5  # steps trained between the two checks
GRADCHECK_EPS = 1e-6  # the step h of the central differences


# ---------------------------------------------------------------- signals


class StopRequest:
    """Set by the first SIGINT, SIGTERM or SIGHUP; the run checks it between steps."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the signal that asked to stop

    @property
    def requested(self) -> bool:
        return self.signum is not None


class Aborted(KeyboardInterrupt):
    """A second stop signal: the run ends at once (``signum``: the signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Turn the first SIGINT, SIGTERM or SIGHUP into a request to stop between steps, a
    second one into ``Aborted``; the previous handlers are restored after the block.

    For the command's main path only (``cli``): library code and tests calling ``run``
    in-process pass a ``StopRequest`` of their own and keep their handlers. A step is
    never cut in half, so the stream written so far stays valid and is closed with an
    ``end`` event. Outside the main thread (where Python cannot install signal handlers)
    the signals keep their default behaviour.
    """
    stop = StopRequest()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise Aborted(signum)
        stop.signum = signum

    try:
        previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    except ValueError:  # not the main thread (the first call fails: nothing installed)
        yield stop
        return
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


# ---------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar on a terminal, redrawn at most 10 times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.enabled = stream.isatty()
        self._drawn_at = 0.0

    def update(self, event: dict[str, Any]) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        step = event["step"]
        if now - self._drawn_at < 0.1 and step < self.total:
            return
        self._drawn_at = now
        filled = self.WIDTH * step // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        acc = event.get("accuracy")
        acc_text = f"  acc {acc:.3f}" if acc is not None else ""
        self.stream.write(
            f"\r[{bar}] {step}/{self.total}  loss {_num(event.get('loss'))}{acc_text}\x1b[K"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._drawn_at:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# ---------------------------------------------------------------- run


def _num(value: Any, spec: str = ".4g") -> str:
    """A number for a table; ``None`` / NaN / inf shown as such, never as an error."""
    if value is None:
        return "-"
    value = float(value)
    return format(value, spec) if math.isfinite(value) else str(value)


def run(
    scenario: Scenario,
    *,
    jsonl: bool,
    out: str | None,
    stdout: TextIO,
    stderr: TextIO,
    stop: StopRequest | None = None,
) -> int:
    """Train ``scenario`` to its end; returns the exit status: 0, or 128 + the signal
    when ``stop`` was requested (130 for Ctrl+C, 143 SIGTERM, 129 SIGHUP).

    ``out``: a file written in place, line by line (``tui/output_file.py``); it always
    ends with an ``end`` event, ``stopped`` when the run was stopped or aborted. A run
    that diverges is a result, not an error: reason ``diverged``, exit status 0. Leaves
    the process's BLAS thread count as it found it.
    """
    from bp_tui.core import blas
    from bp_tui.core.trainer import Trainer  # numpy and the core: only when training

    stop = stop or StopRequest()
    trainer = Trainer(scenario)
    sink: OutputFile | None = None
    if out is not None:  # opened once the run is ready: a bad scenario touches no file
        sink = OutputFile(
            out,
            "--out",
            inputs=[scenario.source] if scenario.source else [],
            on_wait=lambda: print(f"{PROG}: waiting for a reader of {out}", file=stderr),
            keep_waiting=lambda: not stop.requested,
        )
        if sink.waiting:  # stopped before a reader came: nothing trained, nothing written
            assert stop.signum is not None
            return 128 + stop.signum
    ended = False

    def emit(event: dict[str, Any]) -> None:
        nonlocal ended
        line = encode(event) + "\n"
        if sink is not None:
            sink.write(line)
        ended = event["type"] == "end"
        if jsonl:
            stdout.write(line)
            stdout.flush()  # a reader at the other end of a pipe sees each step

    try:
        # Tiny products gain nothing from BLAS threads and stall when another process
        # holds the other core (core/blas.py): one thread, as the dashboard's trainer.
        with blas.limited_for_network(trainer.net.sizes):
            run_event = trainer.run_event()
            emit(run_event)
            progress = Progress(stderr, scenario.steps)
            first: dict[str, Any] | None = None
            last: dict[str, Any] | None = None
            last_finite: dict[str, Any] | None = None
            while not trainer.finished and not stop.requested:
                last = trainer.step().to_dict()
                first = first or last
                if last["finite"]:
                    last_finite = last
                emit(last)
                progress.update(last)
            reason = "stopped" if stop.requested and not trainer.finished else trainer.end_reason
            end = trainer.end_event(reason)
            emit(end)
    finally:
        if sink is not None:
            if not ended and sink.error is None:  # aborted, or stdout went away
                sink.write(encode(trainer.end_event("stopped")) + "\n")
            sink.close()
    hung_up = stop.signum == signal.SIGHUP  # the terminal is gone: nothing more to show
    if not hung_up:
        progress.close()
    if not jsonl and not hung_up:
        stdout.write(summary(scenario, run_event, first, last, last_finite, end))
        stdout.flush()
    return 128 + stop.signum if stop.signum is not None and reason == "stopped" else 0


def summary(
    scenario: Scenario,
    run_event: dict[str, Any],
    first: dict[str, Any] | None,
    last: dict[str, Any] | None,
    last_finite: dict[str, Any] | None,
    end: dict[str, Any],
) -> str:
    """The text ``bp-tui run`` prints after a run: outcome, loss, and a table per layer."""
    lines = [
        f"{scenario.title} ({scenario.name}{', fixed' if scenario.fix else ''}, "
        f"seed {scenario.seed})",
        f"ended:        {end['reason']} at step {end['step']} of {scenario.steps}",
    ]
    if last is None or first is None:
        return "\n".join([*lines, "no step was run"]) + "\n"
    if last["finite"]:
        lines.append(f"final loss:   {_num(last['loss'])}")
    else:
        where = ""
        if last_finite is not None:  # None when the very first step was non-finite
            where = f", last finite {_num(last_finite['loss'])} at step {last_finite['step']}"
        lines.append(f"final loss:   {_num(last['loss'])}{where}")
    lines.append(f"accuracy:     {_num(last.get('accuracy'), '.3f')} (full data set, last probe)")
    threshold = last.get("clip_threshold")
    clip = scenario.train.clip
    lines.append(
        f"clipped steps: {last.get('clip_steps', 0)} of {last['step']}"
        + (f" (clip {clip} at {_num(threshold)})" if clip != "none" else " (clipping off)")
    )
    layers = run_event.get("layers", [])
    dead = last.get("dead") or [None] * len(layers)
    saturated = last.get("saturated") or [None] * len(layers)
    relu_units = sum(
        layer["fan_out"] for layer, d in zip(layers, dead, strict=False) if d is not None
    )
    if relu_units:
        lines.append(f"dead units:   {sum(d for d in dead if d is not None)} of {relu_units}")

    header = (
        "layer",
        "shape",
        "activation",
        f"grad norm @{first['step']}",
        f"grad norm @{last['step']}",
        "dead",
        "saturated",
    )
    rows = [header]
    for i, layer in enumerate(layers):
        d, s = dead[i], saturated[i]
        rows.append(
            (
                layer.get("name", f"L{i + 1}"),
                f"{layer.get('fan_in')}->{layer.get('fan_out')}",
                layer.get("activation", ""),
                _num(first["grad_norm"][i], ".3e"),
                _num(last["grad_norm"][i], ".3e"),
                f"{d}/{layer['fan_out']}" if d is not None else "-",
                f"{s:.0%}" if s is not None else "-",
            )
        )
    lines.append("")
    lines.extend(_table(rows))
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as aligned text columns (the first row is the header)."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


# ---------------------------------------------------------------- gradcheck


def cost_rows(costs: Sequence[GradcheckCost], labels: Sequence[str]) -> list[tuple[str, ...]]:
    """The cost table: backprop's time, the differences' time, their ratio, n params."""
    rows: list[tuple[str, ...]] = [("cost", "backprop", "finite diff.", "ratio", "parameters")]
    for label, c in zip(labels, costs, strict=True):
        rows.append(
            (
                label,
                f"{c.backprop_seconds * 1e3:.3g} ms",
                f"{c.fd_seconds * 1e3:.4g} ms",
                f"{c.ratio:.0f}x",
                str(c.n_params),
            )
        )
    return rows


class CheckProgress:
    """Where a long gradient check is, on stderr: a line redrawn at most 10 times a
    second on a terminal, else a line every ``LOG_EVERY`` seconds (a log file)."""

    LOG_EVERY = 30.0

    def __init__(self, stream: TextIO | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = stream is not None and stream.isatty()
        self.clock = clock
        self.phase = ""
        self.done = self.total = 0
        self._started = self._drawn_at = clock()

    def start(self, phase: str) -> None:
        self.phase = phase
        self._started = self.clock()

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = self.clock()
        if self.stream is None or now - self._drawn_at < (0.1 if self.tty else self.LOG_EVERY):
            return
        self._drawn_at = now
        rate = done / max(now - self._started, 1e-9)
        left = (total - done) / rate if rate > 0 else math.inf
        text = f"gradient check, {self.phase}: {done:,}/{total:,} parameters, {_eta(left)} left"
        self.stream.write(f"\r{text}\x1b[K" if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown time"
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"about {seconds / size:.0f} {unit}"
    return f"about {seconds:.0f} s"


def gradcheck(scenario: Scenario, *, stdout: TextIO, stderr: TextIO | None = None) -> int:
    """Backprop against central differences, per layer, at init and after a few steps.

    Returns 1 when any layer fails, else 0; 130 when interrupted (Ctrl+C), with one line
    on ``stderr`` saying where. Progress goes to ``stderr`` (``CheckProgress``). A layer
    passes when its relative error is at most ``TOLERANCE``, or when its
    absolute error is within the rounding noise of the difference quotient itself:
    ``(L(p+h) - L(p-h)) / 2h`` cannot resolve a slope finer than about
    ``eps_machine * |L| / 2h``. That floor matters exactly in the pathologies: a
    vanishing first layer's gradient (1e-8) is near it ("ok to rounding noise": checked
    as far as the noise allows), and a network whose loss has grown to 1e200 is below it
    altogether ("unresolved": nothing can be checked, which is reported but is not a
    failure of backprop). Each check uses ``core.gradcheck.EXAMPLES`` examples (the
    data set is drawn at random, so these are as good as any) to keep the cost of the
    differences small; on a ReLU network, ones clear of its kink
    (``checkable_examples``), where finite differences would fail a correct backprop.
    """
    from bp_tui.core.gradcheck import (
        KINKED,
        NOISE_FACTOR,
        TOLERANCE,
        checkable_examples,
        timed_gradcheck,
        verdict,
    )
    from bp_tui.core.losses import get_loss
    from bp_tui.core.trainer import Trainer

    trainer = Trainer(scenario)
    loss_name = scenario.model.loss
    progress = CheckProgress(stderr)

    costs: list[GradcheckCost] = []
    examples: list[int] = []

    def verdicts() -> list[tuple[float, str]]:
        """(relative error, verdict) per layer for the network as it is now."""
        X, Y = checkable_examples(trainer.net, trainer.X, trainer.Y)
        examples.append(X.shape[0])
        with np.errstate(all="ignore"):
            loss = abs(get_loss(loss_name)(trainer.net.forward(X), Y)[0])
            checks, cost = timed_gradcheck(
                trainer.net, X, Y, loss_name, eps=GRADCHECK_EPS, progress=progress
            )
        costs.append(cost)
        return [(c.rel_error, verdict(c, loss, GRADCHECK_EPS)) for c in checks]

    steps = 0
    try:
        progress.start("at init")
        at_init = verdicts()
        while steps < GRADCHECK_STEPS and not trainer.finished:
            trainer.step()
            steps += 1
        progress.start(f"after {steps} steps")
        later = verdicts()
    except KeyboardInterrupt:
        progress.close()
        if stderr is not None:
            where = f"{progress.done:,} of {progress.total:,} parameters {progress.phase}"
            stderr.write(f"bp-tui: gradient check interrupted ({where}), nothing checked\n")
        return EXIT_INTERRUPTED
    progress.close()

    rows = [("layer", "rel. error at init", "", f"after {steps} steps", "")]
    for i, ((a, va), (b, vb)) in enumerate(zip(at_init, later, strict=True)):
        rows.append((f"L{i + 1}", _num(a, ".2e"), va, _num(b, ".2e"), vb))
    failed = any(v == "FAIL" for _, v in (*at_init, *later))
    verdict_set = {v for _, v in (*at_init, *later)}
    out = [
        f"gradient check: {scenario.title} ({scenario.name}{', fixed' if scenario.fix else ''}, "
        f"seed {scenario.seed}), {min(examples)} examples"
        f"{' clear of the kink' if scenario.model.activation in KINKED else ''}, "
        "central differences, h = "
        f"{GRADCHECK_EPS:g}",
        *_table(rows),
        "",
        *_table(cost_rows(costs, ["at init", f"after {steps} steps"])),
    ]
    if "unresolved" in verdict_set:
        out.append(
            "unresolved: the gradient itself is below the float64 noise of the difference "
            "quotient (weights or loss too large): finite differences cannot check it"
        )
    if "ok to rounding noise" in verdict_set:
        out.append(
            "ok to rounding noise: the error is within the float64 noise of the difference "
            f"quotient ({NOISE_FACTOR:g} x eps x |loss| / 2h), so backprop agrees as far as "
            "finite differences can tell"
        )
    out.append(
        f"{'FAILED' if failed else 'passed'}: every layer within {TOLERANCE:g} "
        "(or within rounding noise)"
    )
    stdout.write("\n".join(out) + "\n")
    return 1 if failed else 0
