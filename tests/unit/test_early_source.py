"""EarlySource: the first source is started at once and handed out once, for its scenario."""

from __future__ import annotations

import time
from typing import Any

from bp_tui.core.config import Scenario
from bp_tui.tui.sources.early import EarlySource


class Recorded:
    """A source that only records whether it was started and closed."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.status = "running"
        self.started = self.closed = False
        self.commands: list[str] = []

    def start(self) -> None:
        self.started = True

    def poll(self) -> list[dict[str, Any]]:
        return []

    def command(self, name: str, value: float | str | None = None) -> None:
        self.commands.append(name)

    def close(self) -> None:
        self.closed = True


def test_the_early_source_is_started_at_once_and_given_to_the_first_call():
    scenario = Scenario(name="a", title="a")
    early = Recorded(scenario)
    factory = EarlySource(early, scenario, Recorded)
    assert early.started and early.commands == ["pause"]  # loads, takes no step yet
    assert factory(scenario) is early
    assert early.commands == ["pause", "resume"]  # trains once the dashboard has it
    again = factory(scenario)  # `r` restarts: a new source
    assert again is not early and isinstance(again, Recorded) and not again.started
    factory.close()  # handed out: the dashboard's to close, not ours
    assert not early.closed


def test_a_first_call_for_another_scenario_ends_the_early_source():
    first, other = Scenario(name="a", title="a"), Scenario(name="b", title="b")
    early = Recorded(first)
    factory = EarlySource(early, first, Recorded)
    made = factory(other)
    assert isinstance(made, Recorded) and made.scenario is other
    assert early.closed


def test_close_ends_a_source_never_handed_out_once():
    scenario = Scenario(name="a", title="a")
    early = Recorded(scenario)
    factory = EarlySource(early, scenario, Recorded)
    factory.close()
    assert early.closed
    early.closed = False
    factory.close()  # idempotent: nothing left to close
    assert not early.closed
    assert factory(scenario) is not early  # and never handed out after


def test_a_live_early_source_takes_no_step_before_it_is_handed_out():
    from bp_tui.scenarios import load
    from bp_tui.tui.sources.live import LiveSource

    scenario = load("healthy", steps=50)
    source = LiveSource(scenario)
    factory = EarlySource(source, scenario, LiveSource)
    try:
        deadline = time.monotonic() + 60
        seen: list[dict[str, Any]] = []
        while not any(e["type"] == "run" for e in seen) and time.monotonic() < deadline:
            seen += source.poll()
            time.sleep(0.02)
        time.sleep(0.3)  # a running child would send steps meanwhile
        seen += source.poll()
        assert [e["type"] for e in seen] == ["run"]
        assert factory(scenario) is source
        while not any(e["type"] == "end" for e in seen) and time.monotonic() < deadline:
            seen += source.poll()
            time.sleep(0.02)
        steps = [e["step"] for e in seen if e["type"] == "step"]
        assert steps == list(range(1, 51))  # every step, from the first, after the resume
    finally:
        source.close()  # idempotent, whoever holds it
