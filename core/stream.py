"""Writing and reading event streams (JSON Lines files of ``run`` / ``step`` / ``end``).

Writing, from any training loop (PyTorch, JAX, NumPy...)::

    from bp_tui.core.stream import EventWriter

    layers = [("fc1", 784, 256), ("fc2", 256, 10)]  # or just names: ["fc1", "fc2"]
    with EventWriter("run.jsonl", layers=layers, title="MNIST MLP") as w:
        for i in range(1, 1001):
            loss, norms = train_one_step()
            w.step(step=i, loss=loss, grad_norm=norms)  # only step and loss are required
    # leaving the block writes the end event: "completed", or "stopped" on an exception

Every event is written as one whole line and flushed, so a process killed at any moment
leaves a file that is valid up to its last complete line, and ``bp-tui watch`` can follow
the file while it grows.

Reading: ``read_stream(path)`` returns every valid event up to the first fault, plus the
fault (``StreamError``, with its line number) instead of raising, so a damaged recording
still replays up to the damage. ``StreamParser`` does the same incrementally, for a file
that is still being written.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bp_tui.core.boundary import check_boundary
from bp_tui.core.events import (
    EVENT_VERSION,
    LAYER_KEYS,
    EventDecodeError,
    decode,
    encode,
    end_event,
    run_event,
)
from bp_tui.core.safe_text import json_depth, safe_strings

# Step keys and the JSON values a reader accepts for them (``null`` always allowed);
# the per-layer list keys are the design's, shared with History.
SCALAR_KEYS = ("loss", "accuracy", "lr", "global_grad_norm", "clip_threshold", "clip_steps")
FLAG_KEYS = ("clipped", "finite")
STEP_KEYS = ("step", *SCALAR_KEYS, *FLAG_KEYS, *LAYER_KEYS)

# A "line" longer than this is not an event stream (a binary file, a file with no
# newlines): stop buffering instead of growing without bound.
MAX_LINE_BYTES = 16 * 1024 * 1024
# A run event's config nests a few levels (config.model.hidden); deeper is not ours, and
# would make every later walk over a run or end event (showing, checking) recurse deeply.
MAX_RUN_DEPTH = 16
_CHUNK = 1 << 18  # bytes read per system call
MAX_STEP = 2**63  # step numbers are int64 wherever they are indexed or plotted
# Layers a stream may have: the dashboard's History keeps ~0.35 MB of buckets per layer
# (88 MB at this bound; a 100 000-entry grad_norm list would have asked for 34 GB).
MAX_LAYERS = 256


class StreamError(Exception):
    """A fault in an event stream: ``str()`` is ``FILE: line N: what was found, what is allowed``.

    ``line`` is the 1-based line number of the fault, or ``None`` when it concerns the
    whole file (missing, unreadable, empty).
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{self.path}: {where}{message}")

    @classmethod
    def unreadable(cls, path: str | os.PathLike[str], exc: OSError) -> StreamError:
        """The whole-file fault for a file that cannot be opened or read."""
        reason = exc.strerror or type(exc).__name__
        return cls(path, None, f"cannot read: {reason.lower()}")


@dataclass
class StreamContents:
    """Everything valid in a stream, in file order, and the first fault if there was one.

    ``events`` holds the step events only; ``run`` and ``end`` are the opening and closing
    events (``None`` when absent: a foreign writer may leave out the run event, and a run
    still going or killed has no end event).
    """

    run: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    error: StreamError | None = None

    def all_events(self) -> list[dict[str, Any]]:
        """``run``, the steps and ``end`` as one list, as a live source would deliver them."""
        head = [self.run] if self.run is not None else []
        tail = [self.end] if self.end is not None else []
        return [*head, *self.events, *tail]


def _json_kind(value: Any) -> str:
    """How a found value is named in an error message: its JSON text, kept short (JSON
    escapes control characters, so the text is safe to print)."""
    if isinstance(value, list | dict) and json_depth(value, 4) > 4:
        return "a deeply nested " + ("list" if isinstance(value, list) else "object")
    if isinstance(value, float) and not math.isfinite(value):
        return "a number beyond float64's range"  # a literal like 1e400 parses to inf
    text = encode({"v": value})[5:-1]
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    """A JSON number a reader can use: finite (``1e400`` parses to inf) and not a bool;
    ``decode`` has already refused integers beyond float64's range."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _check_step(event: dict[str, Any], last_step: int | None) -> str | None:
    """Why ``event`` (a step) cannot be shown, or ``None`` when it can."""
    step = event.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or not -MAX_STEP <= step < MAX_STEP:
        return f"step: found {_json_kind(step)}, allowed an integer below 2**63"
    if last_step is not None and step <= last_step:
        return f"step: found {step} after step {last_step}, allowed only increasing steps"
    for key in SCALAR_KEYS:
        value = event.get(key)
        if value is not None and not _is_number(value):
            return f"{key}: found {_json_kind(value)}, allowed a number or null"
    for key in FLAG_KEYS:
        value = event.get(key)
        if value is not None and not isinstance(value, bool):
            return f"{key}: found {_json_kind(value)}, allowed true, false or null"
    for key in LAYER_KEYS:
        value = event.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(v is None or _is_number(v) for v in value):
            return f"{key}: found {_json_kind(value)}, allowed a list of numbers or null"
        if len(value) > MAX_LAYERS:
            return f"{key}: found {len(value):,} entries, allowed at most {MAX_LAYERS} layers"
    if event.get("boundary") is not None:
        return check_boundary(event["boundary"])
    return None


def _check_run(event: dict[str, Any]) -> str | None:
    """Why ``event`` (a run) cannot be read by this version, or ``None`` when it can."""
    version = event.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return f"version: found {_json_kind(version)}, allowed an integer"
    if version > EVENT_VERSION:
        return (
            f"version: found {version}, allowed {EVENT_VERSION} or older "
            "(the stream was written by a newer bp-tui: upgrade to read it)"
        )
    for key in ("scenario", "title"):
        if not _is_text(event.get(key)):
            return f"{key}: found {_json_kind(event.get(key))}, allowed a string or null"
    layers = event.get("layers")
    if layers is not None and not (
        isinstance(layers, list) and all(isinstance(x, dict) for x in layers)
    ):
        return f"layers: found {_json_kind(layers)}, allowed a list of objects"
    if layers is not None and len(layers) > MAX_LAYERS:
        return f"layers: found {len(layers):,} layers, allowed at most {MAX_LAYERS}"
    for i, layer in enumerate(layers or []):
        for key, ok, allowed in _LAYER_FIELDS:
            if not ok(layer.get(key)):
                found = _json_kind(layer.get(key))
                return f"layers[{i}].{key}: found {found}, allowed {allowed}"
    return _check_depth(event)


def _check_depth(event: dict[str, Any]) -> str | None:
    """Run and end events are walked (``safe_strings``): their nesting is bounded."""
    if json_depth(event, MAX_RUN_DEPTH) > MAX_RUN_DEPTH:
        kind = event["type"]
        return f"{kind} event: found values nested too deeply, allowed {MAX_RUN_DEPTH} levels"
    return None


_LAYER_FIELDS = (
    ("name", _is_text, "a string or null"),
    ("activation", _is_text, "a string or null"),
    ("fan_in", _is_count, "an integer or null"),
    ("fan_out", _is_count, "an integer or null"),
)


def _check_end(event: dict[str, Any]) -> str | None:
    step = event.get("step")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
        return f"step: found {_json_kind(step)}, allowed an integer or null"
    if not _is_text(event.get("reason")):
        return f"reason: found {_json_kind(event.get('reason'))}, allowed a string"
    return _check_depth(event)


# Strings from a stream reach the terminal: made visible once, when a run or end event
# is accepted (core.safe_text). The run's config lesson keeps its paragraphs.
_PROSE_KEYS = frozenset({"lesson"})
# ...and cut: a title or a layer name is one line of a pane, a lesson a few screens (the
# scenario loader's own limits are 200 and 20 000 characters)
MAX_NAME_CHARS = 1000
MAX_PROSE_CHARS = 20_000


class StreamParser:
    """Turns the bytes of a stream, fed in arbitrary chunks, into validated events.

    ``feed(data)`` returns the events of the lines that ``data`` completed; a partial last
    line is buffered until its newline arrives (a writer caught mid-line). At the first
    fault parsing stops for good: ``error`` holds it and ``feed`` returns nothing more.
    ``finish()`` says the file is complete: a leftover partial line is parsed if it is a
    valid event (a writer that omits the last newline) and reported as truncated if not.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.error: StreamError | None = None
        self.run: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.last_step: int | None = None
        self.lines = 0  # complete lines consumed
        self.events = 0  # run, step and end events accepted
        self._buffer = b""

    @property
    def pending(self) -> int:
        """Bytes of an incomplete last line waiting for their newline."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        if self.error is not None:
            return []
        *complete, self._buffer = (self._buffer + data).split(b"\n")
        out: list[dict[str, Any]] = []
        for raw in complete:
            self.lines += 1
            event = self._line(raw, self.lines)
            if self.error is not None:
                break
            if event is not None:
                out.append(event)
        if self.error is None and len(self._buffer) > MAX_LINE_BYTES:
            self._fail(self.lines + 1, f"longer than {MAX_LINE_BYTES} bytes: not an event stream")
        return out

    def finish(self) -> list[dict[str, Any]]:
        if not self._buffer.strip():
            self._buffer = b""
            return []
        raw, self._buffer = self._buffer, b""
        number = self.lines + 1
        try:
            decode(raw)
        except (EventDecodeError, UnicodeDecodeError):
            self._fail(number, "truncated: the line ends without a newline and is not complete")
            return []
        self.lines = number
        event = self._line(raw, number)
        return [event] if event is not None else []

    def _fail(self, line: int | None, message: str) -> None:
        self.error = StreamError(self.path, line, message)
        self._buffer = b""

    def _line(self, raw: bytes, number: int) -> dict[str, Any] | None:
        """The event on one complete line, ``None`` for a blank or unknown-type line."""
        if not raw.strip():
            return None
        try:
            event = decode(raw.decode("utf-8"))
        except UnicodeDecodeError:
            self._fail(number, "not UTF-8 text, allowed one JSON object per line")
            return None
        except EventDecodeError as exc:
            # json's "line 1 column 5 (char 4)" would clash with the file's line number
            found = re.sub(r": line 1 column (\d+) \(char \d+\)", r" at column \1", str(exc))
            allowed = "" if "allowed" in found else "; allowed one JSON object per line"
            self._fail(number, found + allowed)
            return None
        kind = event["type"]
        problem: str | None = None
        if self.end is not None and kind in ("run", "step", "end"):
            problem = f"a {kind} event after the end event, allowed nothing after it"
        elif kind == "run":
            if self.run is not None or self.last_step is not None:
                problem = "a second run event, allowed one run event, first"
            else:
                problem = _check_run(event)
        elif kind == "step":
            problem = _check_step(event, self.last_step)
        elif kind == "end":
            problem = _check_end(event)
        else:
            return None  # a type from a newer writer: skipped, as decode() promises
        if problem is not None:
            self._fail(number, problem)
            return None
        self.events += 1
        if kind == "run":
            event = self.run = safe_strings(
                event,
                prose_keys=_PROSE_KEYS,
                max_len=MAX_NAME_CHARS,
                prose_max_len=MAX_PROSE_CHARS,
            )
        elif kind == "step":
            self.last_step = event["step"]
        else:
            event = self.end = safe_strings(event, max_len=MAX_NAME_CHARS)
        return event

    def check_line(self, raw: bytes) -> str | None:
        """Take one complete line as the next line of the stream: ``None`` when it is
        valid (and counted as read), else the problem as the reader words it, leaving
        the parser as it was. The writer's check (``EventWriter``)."""
        event = self._line(raw, self.lines + 1)
        if self.error is not None:
            problem, self.error = self.error.message, None
            return problem
        self.lines += 1
        return None if event is not None else "not an event this stream can hold"

    def no_events_error(self) -> StreamError | None:
        """The whole-file fault of a stream without a single event (empty, or only blank
        lines and unknown types), once it has been read to its end."""
        if self.error is not None or self.events:
            return None
        what = "empty file" if self.lines == 0 else f"no events in {self.lines:,} lines"
        return StreamError(self.path, None, f"{what}, allowed one JSON event per line")


def read_stream(path: str | os.PathLike[str]) -> StreamContents:
    """Every valid event of the file at ``path``, up to its first fault.

    Never raises for a bad file: a missing or unreadable file, an empty file, a garbage
    or truncated line or a stream of a newer version each come back as ``error`` (with
    the line number where one applies) beside the events read before it.
    """
    parser = StreamParser(path)
    contents = StreamContents()
    try:
        with open(path, "rb") as f:
            while parser.error is None and (chunk := f.read(_CHUNK)):
                _collect(contents, parser.feed(chunk))
    except OSError as exc:
        contents.error = StreamError.unreadable(path, exc)
        return contents
    _collect(contents, parser.finish())
    contents.error = parser.error or parser.no_events_error()
    return contents


def _collect(contents: StreamContents, events: Iterable[dict[str, Any]]) -> None:
    for event in events:
        if event["type"] == "run":
            contents.run = event
        elif event["type"] == "end":
            contents.end = event
        else:
            contents.events.append(event)


LayerSpec = str | Sequence[Any] | Mapping[str, Any]


def _layer_dict(spec: LayerSpec) -> dict[str, Any]:
    """A run event's layer entry from a name, ``(name, fan_in, fan_out[, activation])``
    or a dict."""
    if isinstance(spec, str):
        return {"name": spec}
    if isinstance(spec, Mapping):
        return dict(spec)
    keys = ("name", "fan_in", "fan_out", "activation")
    if not 1 <= len(spec) <= len(keys):
        raise ValueError(f"a layer is a name or (name, fan_in, fan_out[, activation]): {spec!r}")
    return dict(zip(keys, spec, strict=False))


def _plain_value(value: Any) -> Any:
    """Tensors and arrays (anything with ``tolist()``: torch, NumPy, their scalars and 0-d
    forms), also inside lists, as plain lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain_value(v) for v in value]
    return value


def _flag(value: Any) -> Any:
    """A flag as the stream holds it: ``0`` / ``1`` (a counter, a 0-d int tensor) as a
    bool; anything else unchanged, for the reader's check to accept or refuse."""
    if type(value) is int and value in (0, 1):
        return bool(value)
    return value


def _all_finite(values: Iterable[Any]) -> bool:
    for v in values:
        if isinstance(v, list):
            if not _all_finite(v):
                return False
        elif isinstance(v, float) and not math.isfinite(v):
            return False
    return True


class EventLog:
    """Appends event dicts to a JSON Lines file, one whole line per event.

    The low level under ``EventWriter``, also used to record a live run as it arrives
    (its events are already complete dicts). ``write(events)`` writes a batch and flushes
    at most every ``flush_every`` seconds (0: after every batch).
    """

    def __init__(self, path: str | os.PathLike[str], *, flush_every: float = 0.0) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self._flush_every = flush_every
        self._flushed_at = time.monotonic()

    @property
    def closed(self) -> bool:
        return self._file is None

    def write(self, events: Iterable[dict[str, Any]]) -> None:
        self.write_lines("".join(encode(e) + "\n" for e in events))

    def write_lines(self, lines: str) -> None:
        """Write lines already encoded (each ending in a newline) as ``write`` does."""
        if self._file is None:
            raise ValueError(f"{self.path}: the stream is closed")
        if not lines:
            return
        # One write() of whole lines: a kill leaves at most a partial last line, which
        # readers report as truncated after showing everything before it.
        self._file.write(lines)
        now = time.monotonic()
        if now - self._flushed_at >= self._flush_every:
            self._file.flush()
            self._flushed_at = now

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class EventWriter:
    """Write a bp-tui event stream from any training loop (see the module docstring).

    ``layers``: names (``["fc1", "fc2"]``) or ``(name, fan_in, fan_out[, activation])``
    tuples or dicts, input side first; per-layer lists given to ``step`` must have one
    entry per layer. ``config``: any JSON-able dict shown as the run's configuration.
    The run event is written on construction; ``close()`` (or leaving the ``with``
    block) writes the end event.

    Every event is checked by the reader's own checks (``StreamParser.check_line``)
    before it is written, so whatever the writer writes, ``read_stream`` reads back: a
    value the reader would refuse raises ``ValueError`` at the call, naming the field,
    and nothing is written. Accepted, and converted: Python, NumPy and torch numbers,
    0-d arrays and tensors (``.tolist()``), 1-d ones for the per-layer fields; NaN and
    inf (written as ``null``, the step marked ``finite: false``); ``0`` / ``1`` for the
    flags ``clipped`` and ``finite``. Refused: ``step`` that is not an integer (``2.5``,
    ``"3"``, ``True``) or does not increase, strings for numbers, nested lists, integers
    beyond float64's range.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        layers: Sequence[LayerSpec] | None = None,
        *,
        title: str = "",
        config: dict[str, Any] | None = None,
        scenario: str = "custom",
        seed: int | None = None,
        flush_every: float = 0.0,
    ) -> None:
        self.layers = [_layer_dict(spec) for spec in layers or []]
        self.last_step: int | None = None
        self._checker = StreamParser(path)
        event = run_event(
            scenario=scenario,
            title=title or Path(path).stem,
            seed=_plain_value(seed),
            layers=[{k: _plain_value(v) for k, v in layer.items()} for layer in self.layers],
            config=config,
        )
        line = self._checked(event)  # before the file is opened: a refused run leaves none
        self._log = EventLog(path, flush_every=flush_every)
        self._log.write_lines(line)

    @property
    def path(self) -> Path:
        return self._log.path

    def _checked(self, event: dict[str, Any]) -> str:
        """The event's line, once the reader's checks accept it; ``ValueError`` if not."""
        try:
            line = encode(event)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValueError(f"{event['type']} event: cannot write it as JSON ({exc})") from None
        problem = self._checker.check_line(line.encode("utf-8"))
        if problem is not None:
            raise ValueError(f"{event['type']} event: {problem}")
        return line + "\n"

    def step(self, step: int, loss: float | None, **fields: Any) -> None:
        """Write one step. ``fields``: any other step key of the design (``grad_norm``,
        ``dead``, ``clipped``...); see the class docstring for the values accepted."""
        unknown = sorted(set(fields) - set(STEP_KEYS))
        if unknown:
            allowed = ", ".join(STEP_KEYS[1:])
            raise TypeError(f"unknown step field {unknown[0]!r}; allowed: {allowed}")
        step = _plain_value(step)
        if self.last_step is not None and _is_number(step) and step <= self.last_step:
            raise ValueError(f"step {step} after step {self.last_step}: steps must increase")
        event: dict[str, Any] = {"type": "step", "step": step, "loss": _plain_value(loss)}
        for key, value in fields.items():
            value = _plain_value(value)
            if key in LAYER_KEYS and not isinstance(value, list):
                raise TypeError(f"{key} is per layer: a list, not {type(value).__name__}")
            if key in LAYER_KEYS and self.layers and len(value) != len(self.layers):
                raise ValueError(
                    f"{key} has {len(value)} entries, the stream has {len(self.layers)} layers"
                )
            event[key] = _flag(value) if key in FLAG_KEYS else value
        if "finite" not in event:
            event["finite"] = _all_finite(event.values())
        self._log.write_lines(self._checked(event))
        self.last_step = step

    def close(self, reason: str = "completed") -> None:
        """Write the end event (``completed``, ``diverged`` or ``stopped``) and close.
        Idempotent."""
        if self._log.closed:
            return
        self._log.write_lines(self._checked(end_event(self.last_step or 0, reason)))
        self._log.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("completed" if exc_type is None else "stopped")
