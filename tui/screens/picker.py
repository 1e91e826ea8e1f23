"""The scenario picker: one option per scenario (title and summary); Enter or a click starts it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from bp_tui.core.config import Scenario
from bp_tui.tui.messages import ScenarioChosen


def option_prompt(scenario: Scenario) -> Text:
    """Title in bold, then the summary dimmed on its own line, then the source if a file."""
    text = Text(scenario.title, style="bold")
    text.append(f"  [{scenario.name}]", style="dim")
    if scenario.summary:
        text.append(f"\n  {scenario.summary}", style="italic")
    return text


class PickerScreen(Screen[None]):
    """Lists ``scenarios``; selecting one posts ``ScenarioChosen`` (the app starts it)."""

    def __init__(self, scenarios: Sequence[Scenario]) -> None:
        super().__init__()
        self.scenarios = list(scenarios)

    def compose(self) -> ComposeResult:
        yield Static(
            "bp-tui: pick a scenario  (Enter or click to start, ? for help, q to quit)",
            id="picker-title",
        )
        options = [Option(option_prompt(s), id=str(i)) for i, s in enumerate(self.scenarios)]
        yield OptionList(*options, id="picker-list")
        if not self.scenarios:
            yield Static("No scenarios found.", id="picker-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def start_selected(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        self.post_message(ScenarioChosen(self.scenarios[index]))
