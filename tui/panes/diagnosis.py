"""The diagnosis: ``bp-tui doctor``'s rules (core/doctor.py) on the run shown so far.

Live, replay and watch alike: the pane reads the dashboard's ``History`` (one row per
bucket, the resolution the plots draw; see ``doctor.trace_from_history``), so a finding
names the same rule, layers and first step as ``bp-tui doctor`` on the recording, give
or take a bucket. It recomputes at most once a second (the rules read every series).
"""

from __future__ import annotations

import time

from textual.content import Content
from textual.widgets import Static

from bp_tui.core.doctor import PATHOLOGY, Finding, diagnose_trace, trace_from_history
from bp_tui.tui.panes.view import RunView

MIN_INTERVAL = 1.0  # seconds between two diagnoses of a growing run


def diagnosis_lines(findings: list[Finding], steps: int) -> list[tuple[str, str]]:
    """``(style, text)`` lines: one per finding (what, where, since when), then what to try
    for each pathology; a healthy verdict when there is none."""
    if steps == 0:
        return [("dim", "diagnosis: waiting for the first step")]
    if not findings:
        return [("green", f"diagnosis: no pathology in {steps} steps")]
    lines: list[tuple[str, str]] = []
    for f in findings:
        style = "bold red" if f.severity == PATHOLOGY else "yellow"
        since = f" from step {f.step}" if f.step is not None else ""
        lines.append((style, f"{f.rule}{since}: {f.message}"))
        if f.severity == PATHOLOGY:
            lines.append(("", f"  try: {f.advice}"))
    return lines


class DiagnosisPane(Static):
    """Findings of the rules, worst first; call ``show(view)`` on each redraw."""

    DEFAULT_CSS = """
    DiagnosisPane {
        height: auto;
        /* the findings scroll on their own: the lesson below stays in view */
        max-height: 9;
        overflow-y: auto;
        padding: 0 1;
        margin-bottom: 1;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.findings: list[Finding] = []
        self._shown_key: tuple[object, ...] | None = None
        self._at = 0.0
        self._catch_up: object | None = None  # a timer, while a diagnosis is put off
        self._lines: list[tuple[str, str]] = []  # (style, text) of the lines shown

    def show(self, view: RunView, force: bool = False) -> None:
        key = view.state_key()
        if key == self._shown_key:
            return
        now = time.monotonic()
        wait = self._at + MIN_INTERVAL - now
        if not force and self._shown_key is not None and wait > 0:
            # put off, not dropped: the run may have ended (no redraw would come)
            if self._catch_up is None:
                self._catch_up = self.set_timer(wait, lambda: self._caught_up(view))
            return
        self._shown_key, self._at = key, now
        history = view.history
        self.findings = (
            diagnose_trace(trace_from_history(history, view.run)) if history.count else []
        )
        lines = diagnosis_lines(self.findings, history.count)
        if lines == self._lines:
            return  # nothing new to say: no repaint
        # A layout pass (which repaints the lesson below and the footer too) only when
        # a line's length changed: the wrapped height cannot have changed otherwise.
        layout = [len(t) for _, t in lines] != [len(t) for _, t in self._lines]
        self._lines = lines
        content = Content("\n").join(Content.styled(text, style) for style, text in lines)
        self.update(content, layout=layout)

    def _caught_up(self, view: RunView) -> None:
        self._catch_up = None
        self.show(view, force=True)
