"""LiveSource: the trainer in a child process, its events, commands and shutdown.

The reference for every stream is a headless ``Trainer`` run in this process on the
same scenario: what crosses the process boundary must be exactly what a recording of
that run holds (``decode(encode(event))``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest

from bp_tui.core.config import DataConfig, ModelConfig, Scenario, TrainConfig
from bp_tui.core.events import decode, encode
from bp_tui.core.trainer import Trainer
from bp_tui.tui.sources import EventSource
from bp_tui.tui.sources.live import LiveSource

Event = dict[str, Any]


def small(steps: int, **model: Any) -> Scenario:
    """A scenario small enough that the child trains thousands of steps per second."""
    return Scenario(
        name="small",
        title="Small test run",
        seed=3,
        steps=steps,
        data=DataConfig(kind="moons", samples=128),
        model=ModelConfig(**{"hidden": (8, 8), **model}),
        train=TrainConfig(batch_size=32, probe_every=5),
    )


# Large init and learning rate on MSE: the loss overflows to inf after ~150 steps.
DIVERGING = small(1000, init_scale=5.0, loss="mse").with_train(lr=5.0)


def as_recorded(event: Event) -> Event:
    return decode(encode(event))


def headless(scenario: Scenario, steps: int | None = None) -> tuple[Trainer, list[Event]]:
    """The events of ``scenario`` trained in this process: run, steps, end if finished."""
    trainer = Trainer(scenario)
    events = [trainer.run_event()]
    while not trainer.finished and (steps is None or trainer.step_count < steps):
        events.append(trainer.step().to_dict())
    if trainer.finished:
        events.append(trainer.end_event())
    return trainer, [as_recorded(e) for e in events]


def collect(
    source: LiveSource, until: Callable[[list[Event]], bool], timeout: float = 20.0
) -> list[Event]:
    """Poll ``source`` like the UI does until ``until(events)`` holds."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not until(events):
        assert time.monotonic() < deadline, f"timed out; status {source.status!r}"
        events.extend(source.poll())
        time.sleep(0.01)
    return events


def steps_of(events: list[Event]) -> list[int]:
    return [e["step"] for e in events if e["type"] == "step"]


def has_type(kind: str) -> Callable[[list[Event]], bool]:
    return lambda events: any(e["type"] == kind for e in events)


def pause_now(source: LiveSource) -> list[Event]:
    """Pause and return every event the child produced before it obeyed."""
    source.command("pause")
    assert source.wait_acked()
    return source.poll()


def gone(pid: int) -> bool:
    """No such process, or only its zombie left for init to reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.fixture
def live() -> Any:
    """Start LiveSources and make sure every one is closed after the test."""
    sources: list[LiveSource] = []

    def start(scenario: Scenario, speed: float | None = None) -> LiveSource:
        source = LiveSource(scenario, speed=speed)
        sources.append(source)
        source.start()
        return source

    yield start
    for source in sources:
        source.close()


def test_is_an_event_source() -> None:
    assert isinstance(LiveSource(small(10)), EventSource)


@pytest.mark.parametrize("scenario", [small(60), DIVERGING], ids=["completed", "diverged"])
def test_stream_equals_a_headless_run_of_the_same_scenario(live: Any, scenario: Scenario) -> None:
    _, expected = headless(scenario)
    source = live(scenario)
    events = collect(source, has_type("end"))
    assert events == expected
    assert events[-1]["reason"] == expected[-1]["reason"]
    assert source.status == "ended"


def test_pause_stops_the_stream_and_step_advances_exactly_one(live: Any) -> None:
    source = live(small(10**7))
    before = collect(source, lambda ev: len(steps_of(ev)) >= 50)
    before += pause_now(source)
    last = steps_of(before)[-1]
    assert steps_of(before) == list(range(1, last + 1))  # none lost, none repeated
    assert source.status == "paused"

    time.sleep(0.3)  # a running child would make hundreds of steps meanwhile
    assert steps_of(source.poll()) == []
    assert source.child_step == last

    source.command("step")
    assert source.wait_acked()
    assert steps_of(source.poll()) == [last + 1]

    source.command("resume")
    more = collect(source, lambda ev: len(steps_of(ev)) >= 20)
    assert steps_of(more)[:20] == list(range(last + 2, last + 22))
    assert source.status == "running"


def test_lr_and_clip_commands_apply_from_the_next_step(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 10)
    paused_at = steps_of(pause_now(source))[-1]
    source.command("lr", 0.0123)
    source.command("clip", "norm")
    source.command("clip_threshold", 0.25)
    source.command("step")
    assert source.wait_acked()
    (event,) = source.poll()

    trainer, _ = headless(small(10**7), steps=paused_at)
    trainer.set_lr(0.0123)
    trainer.set_clip("norm", 0.25)
    assert event == as_recorded(trainer.step().to_dict())
    assert (event["lr"], event["clip_threshold"]) == (0.0123, 0.25)


def test_trace_while_paused_takes_one_step_and_sends_its_trace(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 10)
    paused_at = steps_of(pause_now(source))[-1]
    source.command("trace")
    events = collect(source, has_type("trace"))
    step, trace = [e for e in events if e["type"] in ("step", "trace")]
    assert step["step"] == trace["step"] == paused_at + 1  # the trace follows its step

    trainer, _ = headless(small(10**7), steps=paused_at)
    trainer.request_trace()
    assert step == as_recorded(trainer.step().to_dict())
    assert trace == as_recorded(trainer.last_trace or {})
    assert [lay["delta_norm"] for lay in trace["layers"]] == step["error_signal"]


def test_trace_while_running_traces_the_next_step(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 10)
    source.command("trace")
    events = collect(source, has_type("trace"))
    trace = next(e for e in events if e["type"] == "trace")
    step = next(e for e in events if e["type"] == "step" and e["step"] == trace["step"])
    assert [lay["delta_norm"] for lay in trace["layers"]] == step["error_signal"]
    assert [lay["fprime_mean"] for lay in trace["layers"]] == step["fprime_mean"]


def test_gradcheck_runs_in_the_child_on_the_current_network(live: Any) -> None:
    from bp_tui.core.gradcheck import gradcheck_event

    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 10)
    paused_at = steps_of(pause_now(source))[-1]
    source.command("gradcheck")
    (report,) = [e for e in collect(source, has_type("gradcheck")) if e["type"] == "gradcheck"]
    trainer, _ = headless(small(10**7), steps=paused_at)
    want = gradcheck_event(trainer.net, trainer.X, trainer.Y, "bce", step=paused_at)
    assert report["step"] == paused_at and report["n_params"] == trainer.net.n_params
    for got, ref in zip(report["layers"], want["layers"], strict=True):
        assert got["verdict"] == ref["verdict"] == "ok"
        assert got["rel_error"] == ref["rel_error"]
    assert report["fd_seconds"] > report["backprop_seconds"] > 0


def test_a_finished_run_can_still_be_gradient_checked(live: Any) -> None:
    source = live(small(20))
    collect(source, has_type("end"))
    assert source.status == "ended"
    source.command("lr", 0.5)  # ignored: a finished run does not change...
    source.command("gradcheck")  # ...but its network can still be checked
    (report,) = [e for e in collect(source, has_type("gradcheck")) if e["type"] == "gradcheck"]
    assert report["step"] == 20 and all(lay["verdict"] == "ok" for lay in report["layers"])


def test_stop_ends_the_run_as_stopped_and_the_child_exits(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 5)
    source.command("stop")
    events = collect(source, has_type("end"))
    assert events[-1] == {"type": "end", "step": steps_of(events)[-1], "reason": "stopped"}
    assert wait_gone(source.pid)
    assert source.poll() == []
    assert source.status == "ended"


def test_close_ends_the_child_and_is_idempotent(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 5)
    source.close()
    assert gone(source.pid)
    source.close()
    assert source.poll() == []
    source.command("pause")  # ignored: nobody left to obey
    assert source.status == "ended"


def test_a_crash_in_the_child_is_an_error_event(live: Any) -> None:
    source = live(small(100, activation="nope"))  # Trainer raises ValueError
    events = collect(source, has_type("error"))
    (error,) = events
    assert "ValueError" in error["message"] and "nope" in error["message"]
    assert source.status == f"error: {error['message']}"
    assert wait_gone(source.pid)
    assert source.poll() == []  # the parent carries on


def test_a_killed_child_is_reported_as_an_error(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 5)
    os.kill(source.pid, signal.SIGKILL)
    events = collect(source, has_type("error"))
    assert "SIGKILL" in events[-1]["message"]
    assert source.status.startswith("error: trainer process died")


def test_bad_commands_raise_in_the_caller_not_in_the_child() -> None:
    source = LiveSource(small(10))
    for name, value in [("lr", -1.0), ("lr", None), ("clip", "sideways"), ("bogus", None)]:
        with pytest.raises(ValueError):
            source.command(name, value)
    with pytest.raises(ValueError):
        LiveSource(small(10), speed=-5)


@pytest.mark.timeout(60)
def test_a_reader_that_falls_behind_throttles_the_child_without_deadlock(live: Any) -> None:
    source = live(small(10**7))
    collect(source, lambda ev: len(steps_of(ev)) >= 1)
    # Nobody polls now: once the pipe is full the child must block, not run ahead.
    deadline = time.monotonic() + 15
    previous = -1
    while (ticks := cpu_ticks(source.pid)) != previous:
        assert time.monotonic() < deadline, "the child kept computing with nobody reading"
        previous = ticks
        time.sleep(0.3)
    # Thousands of commands while the child is blocked sending: none may hang.
    for i in range(1, 3001):
        source.command("lr", i / 1000)
    events = pause_now(source)
    assert source.wait_acked()
    source.command("step")
    assert source.wait_acked()
    (last,) = source.poll()
    assert last["lr"] == 3.0
    steps = steps_of(events)
    assert steps == list(range(steps[0], steps[-1] + 1))


PARENT_SCRIPT = """
import os, signal, sys, time
from bp_tui.core.config import DataConfig, ModelConfig, Scenario, TrainConfig
from bp_tui.tui.sources.live import LiveSource

scenario = Scenario(name="s", title="s", steps=10**7, data=DataConfig(samples=128),
                    model=ModelConfig(hidden=(8, 8)), train=TrainConfig(batch_size=32))
source = LiveSource(scenario)
source.start()
while not source.poll():
    time.sleep(0.01)
if sys.argv[1] == "paused":
    source.command("pause")
    source.wait_acked()
print(source.pid, flush=True)
for _ in range(30):
    if sys.argv[1] == "running":
        source.poll()
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind runs
"""


@pytest.mark.parametrize("state", ["running", "paused", "unread"])
def test_no_orphan_trainer_when_the_ui_process_is_killed(state: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PARENT_SCRIPT), state],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    child = int(proc.stdout.split()[-1])
    assert wait_gone(child), f"trainer child {child} outlived its killed parent"
