"""``--record`` in the dashboard: a recording that fails never stops the live run.

Before, a record file whose write raised ENOSPC made every poll raise (the dashboard got
nothing more, quitting raised again), and ``r`` or ``f`` after the folder was removed
crashed the app with FileNotFoundError.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bp_tui.core.stream import read_stream
from bp_tui.tui import output_file
from bp_tui.tui.app import BpTuiApp
from bp_tui.tui.panes.status import StatusLine
from bp_tui.tui.sources.record import RecordingSource
from tests.ui.conftest import fake_loader, make_scenario, pump
from tests.ui.fake_source import FakeSource


def _app(path: Path) -> BpTuiApp:
    return BpTuiApp(
        lambda s: RecordingSource(FakeSource(s), path),
        [make_scenario("vanishing")],
        initial=make_scenario("vanishing"),
        fps=6,
        loader=fake_loader,
    )


def status(app: BpTuiApp) -> str:
    return app.screen.query_one(StatusLine).plain


async def test_a_full_disk_stops_the_recording_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rec.jsonl"
    app = _app(out)
    async with app.run_test(size=(160, 40)) as pilot:
        dash = await pump(pilot, 2)

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(output_file.os, "write", full)
        recorded = out.stat().st_size  # nothing more can land (the app's timers poll too)
        assert recorded > 0
        step = dash.view.last("step")
        await pump(pilot, 3)
        assert dash.view.last("step") > step  # the live run goes on
        assert "recording stopped: no space left on device" in status(app)
        assert status(app).lstrip().startswith("running")
        await pilot.press("q")
    contents = read_stream(out)
    assert contents.error is None and contents.run is not None
    assert out.stat().st_size == recorded  # valid: nothing half-written after the failure


@pytest.mark.parametrize("key", ["r", "f"])
async def test_restart_after_the_record_folder_was_removed(tmp_path: Path, key: str) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    out = sub / "x.jsonl"
    app = _app(out)
    async with app.run_test(size=(160, 40)) as pilot:
        await pump(pilot, 2)
        out.unlink()
        sub.rmdir()
        await pilot.press(key)
        dash = await pump(pilot, 3)
        assert app.is_running and dash.view.last("step") is not None
        assert "recording stopped: no such file or directory" in status(app)
        await pilot.press("q")
    assert not sub.exists()
