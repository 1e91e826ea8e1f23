"""The dashboard's diagnosis pane: on a replayed recording it names what ``bp-tui doctor``
names on the same file (the same rules, read from the History's buckets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bp_tui.core.doctor import diagnose, pathologies
from bp_tui.core.events import encode
from bp_tui.core.stream import read_stream
from bp_tui.core.trainer import Trainer
from bp_tui.scenarios import load
from bp_tui.tui.commands.replay import replay_app
from bp_tui.tui.panes.diagnosis import DiagnosisPane
from bp_tui.tui.sources.replay_index import index_stream
from tests.ui.test_replay_ui import SIZE, run_until


def record(path: Path, name: str, fix: bool = False) -> Path:
    trainer = Trainer(load(name, fix=fix, seed=0))
    lines = [encode(trainer.run_event())]
    while not trainer.finished:
        lines.append(encode(trainer.step().to_dict()))
    lines.append(encode(trainer.end_event()))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [("vanishing", ["vanishing"]), ("dying-relu", ["dying"]), ("healthy", [])],
)
async def test_the_pane_names_what_doctor_names(tmp_path: Path, name: str, expected) -> None:
    path = record(tmp_path / f"{name}.jsonl", name)
    contents = read_stream(path)
    doctor = diagnose(contents.run, contents.events, contents.end)
    assert pathologies(doctor) == expected
    app = replay_app(str(path), index_stream(path), speed=0)
    async with app.run_test(size=SIZE) as pilot:
        dash = await run_until(pilot, lambda d: d.end is not None)
        pane = app.screen.query_one(DiagnosisPane)
        pane.show(dash.view, force=True)
        await pilot.pause()
        assert pathologies(pane.findings) == expected
        text = str(pane.render())
        if expected:
            [first] = [f for f in doctor if f.rule == expected[0]]
            [shown] = [f for f in pane.findings if f.rule == expected[0]]
            assert shown.layers == first.layers and shown.step == first.step
            assert f"{expected[0]} from step {first.step}" in text
        else:
            assert f"no pathology in {len(contents.events)} steps" in text
