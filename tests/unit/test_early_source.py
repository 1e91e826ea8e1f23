"""EarlySource: the first source is started at once and handed out once, for its scenario."""

from __future__ import annotations

from typing import Any

from bp_tui.core.config import Scenario
from bp_tui.tui.sources.early import EarlySource


class Recorded:
    """A source that only records whether it was started and closed."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.status = "running"
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def poll(self) -> list[dict[str, Any]]:
        return []

    def command(self, name: str, value: float | str | None = None) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_the_early_source_is_started_at_once_and_given_to_the_first_call():
    scenario = Scenario(name="a", title="a")
    early = Recorded(scenario)
    factory = EarlySource(early, scenario, Recorded)
    assert early.started  # before any dashboard asked
    assert factory(scenario) is early
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
