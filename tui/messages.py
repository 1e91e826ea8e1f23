"""What screens tell the app, as facts in the past tense (handled in ``tui/app.py``)."""

from __future__ import annotations

from textual.message import Message

from bp_tui.core.config import Scenario


class ScenarioChosen(Message):
    """The user picked ``scenario`` (picker, command palette): the app starts it."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario


class FixToggled(Message):
    """The user toggled the fix of the run of ``scenario``: the app reloads it with
    ``fix`` and restarts the dashboard on the result."""

    def __init__(self, scenario: Scenario, fix: bool) -> None:
        super().__init__()
        self.scenario = scenario
        self.fix = fix


class SpeedChanged(Message):
    """The user chose a pace (steps/s, 0 = full speed): kept for every later run."""

    def __init__(self, speed: float) -> None:
        super().__init__()
        self.speed = speed


class CompareAsked(Message):
    """The user asked to see ``scenario`` beside its fix (m): the app opens compare mode
    on the two, as ``bp-tui compare`` does, over the dashboard."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario


class PickerAsked(Message):
    """The user asked for the scenario picker (s); the dashboard has ended its run."""
