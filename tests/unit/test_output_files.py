"""``run --out`` and ``--record`` write the path the user named, in place, as ``tee`` does.

They once wrote a temporary file and renamed it over the path: a FIFO, a symlink, a
hard link or /dev/null was replaced by a regular file, a private file became
world-readable, the input scenario could be destroyed, and a killed run left a hidden
``.NAME.PID.part``. Everything here happens in ``tmp_path`` (FIFOs, symlinks), never
on a real device: a regression must not be able to damage the machine running the tests.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bp_tui.core.stream import read_stream
from bp_tui.scenarios import load
from bp_tui.tui import output_file
from bp_tui.tui.commands import cli, headless
from bp_tui.tui.errors import CliError
from bp_tui.tui.output_file import OutputFile, check_output_path
from bp_tui.tui.sources.follow import FollowSource
from bp_tui.tui.sources.record import RecordingSource

BP_TUI = Path(sys.executable).with_name("bp-tui")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
SCENARIO = 'title = "t"\nsteps = 12\n[model]\nhidden = [4]\n[data]\nsamples = 64\n'


def bp_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BP_TUI), *args], capture_output=True, text=True, timeout=120, env=ENV
    )


def run_out(out: Path | str, *extra: str) -> subprocess.CompletedProcess[str]:
    return bp_tui("run", "healthy", "--steps", "12", "--out", str(out), *extra)


def valid_stream(path: Path, steps: int | None = None) -> dict:
    """The stream at ``path`` read back with bp-tui's own reader: no fault, complete."""
    contents = read_stream(path)
    assert contents.error is None, contents.error
    assert contents.run is not None and contents.end is not None
    if steps is not None:
        assert [e["step"] for e in contents.events] == list(range(1, steps + 1))
    return {"run": contents.run, "end": contents.end, "steps": len(contents.events)}


def no_hidden_files(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def long_run(out: Path, lines: int = 0, steps: int = 10_000_000) -> subprocess.Popen[str]:
    """``bp-tui run`` of ``steps`` steps into ``out``, once ``out`` has ``lines`` lines."""
    proc = subprocess.Popen(
        [str(BP_TUI), "run", "vanishing", "--steps", str(steps), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while lines and time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= lines:
            break
        time.sleep(0.05)
    return proc


class FifoReader(threading.Thread):
    """Reads a FIFO to its end in the background (``bytes`` once joined)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.data = path, b""

    def run(self) -> None:
        with open(self.path, "rb") as f:  # blocks until the writer opens it
            self.data = f.read()


# ------------------------------------------------------------------ what is written


def test_existing_file_keeps_inode_mode_and_hard_links(tmp_path: Path) -> None:
    out = tmp_path / "private.jsonl"
    out.write_text("old contents, much longer than nothing\n" * 1000)
    out.chmod(0o600)
    link = tmp_path / "hardlink.jsonl"
    os.link(out, link)
    before = out.stat()
    result = run_out(out)
    assert result.returncode == 0, result.stderr
    after = out.stat()
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
    assert stat.S_IMODE(after.st_mode) == 0o600 and after.st_nlink == 2
    assert link.read_bytes() == out.read_bytes()  # one file, two names, overwritten
    valid_stream(out, steps=12)
    no_hidden_files(tmp_path)


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)  # dangling: created through the link, as `>` does
    assert run_out(link).returncode == 0
    assert link.is_symlink() and target.is_file()
    valid_stream(target, steps=12)


def test_symlink_to_a_character_device_stays_a_symlink(tmp_path: Path) -> None:
    """``--out /dev/null`` as root once replaced the machine's /dev/null with a regular
    file. Here only a link to it is named: the regression would replace the link."""
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    assert run_out(null).returncode == 0
    assert null.is_symlink() and stat.S_ISCHR(null.stat().st_mode)
    no_hidden_files(tmp_path)


def test_fifo_with_a_reader_gets_the_stream_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    reader.start()
    result = run_out(fifo)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    events = [json.loads(line) for line in reader.data.decode().splitlines()]
    assert [e["type"] for e in events] == ["run", *["step"] * 12, "end"]
    no_hidden_files(tmp_path)


@pytest.mark.parametrize("then", ["a reader comes", "SIGTERM"])
def test_fifo_without_a_reader_waits_for_one(tmp_path: Path, then: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = long_run(fifo, steps=5)
    assert proc.stderr is not None
    assert "waiting for a reader of" in proc.stderr.readline()
    time.sleep(0.3)
    assert proc.poll() is None  # still waiting, nothing lost
    if then == "SIGTERM":  # ends the wait: a blocking open() would never return
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
    else:
        with open(fifo, "rb") as f:
            data = f.read()
        proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert data.count(b"\n") == 7 and b'"reason":"completed"' in data
    assert stat.S_ISFIFO(fifo.stat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("", ["--out: found an empty path"]),
        ("new/", ["new/: --out: ends with '/'"]),
        ("no/such/dir/x.jsonl", ["no/such/dir/x.jsonl: --out:", "folder does not exist"]),
        (".", [".: --out:", "folder"]),
    ],
)
def test_bad_out_paths_are_one_line_errors_and_create_nothing(
    tmp_path: Path, out: str, words: list[str]
) -> None:
    result = subprocess.run(
        [str(BP_TUI), "run", "healthy", "--steps", "3", "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr
    assert list(tmp_path.iterdir()) == []  # `new/` once wrote a file named new


def test_the_input_scenario_file_is_never_written(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(SCENARIO)
    alias = tmp_path / "alias.jsonl"
    alias.symlink_to(toml)
    hard = tmp_path / "hard.jsonl"
    os.link(toml, hard)
    for out in (toml, alias, hard):
        result = bp_tui("run", str(toml), "--out", str(out))
        assert result.returncode == 2 and "is the scenario file being read" in result.stderr
    assert toml.read_text() == SCENARIO


def test_recordings_carry_the_scenario_file_name_not_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "users" / "someone" / "private"
    folder.mkdir(parents=True)
    toml = folder / "mine.toml"
    toml.write_text(SCENARIO)
    out = tmp_path / "rec.jsonl"
    assert bp_tui("run", str(toml), "--out", str(out)).returncode == 0
    run = valid_stream(out)["run"]
    assert run["config"]["source"] == "mine.toml" and run["scenario"] == "mine"
    assert "someone" not in out.read_text()


def test_config_is_checked_before_the_output_is_opened(tmp_path: Path) -> None:
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n")
    result = bp_tui("run", "no-such-scenario", "--out", str(out))
    assert result.returncode == 2
    assert out.read_text() == "precious\n"


# ------------------------------------------------------------------ followed while written


def test_run_out_is_followable_while_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "live.jsonl"
    proc = long_run(out)
    try:
        follow = FollowSource(out)
        follow.start()
        seen: list[dict] = []
        deadline = time.monotonic() + 60
        while sum(e["type"] == "step" for e in seen) < 20 and time.monotonic() < deadline:
            seen += follow.poll()
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it was followed"
        assert seen[0]["type"] == "run" and sum(e["type"] == "step" for e in seen) >= 20
        no_hidden_files(tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        follow.close()


# ------------------------------------------------------------------ signals


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_stop_signal_ends_the_file_with_stopped(tmp_path: Path, signum: int, status: int) -> None:
    out = tmp_path / "rec.jsonl"
    proc = long_run(out, lines=5)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    got = valid_stream(out)
    assert got["end"]["reason"] == "stopped" and got["end"]["step"] == got["steps"] > 0
    assert ("ended:        stopped" in stdout) == (signum != signal.SIGHUP)
    no_hidden_files(tmp_path)


def test_sigkill_leaves_valid_lines_up_to_the_last(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    proc = long_run(out, lines=5)
    proc.kill()
    proc.communicate(timeout=60)
    contents = read_stream(out)
    assert contents.run is not None and len(contents.events) >= 4
    # at most the last line may be cut; everything before it reads back
    assert contents.error is None or "truncated" in str(contents.error)
    no_hidden_files(tmp_path)


def test_signal_handlers_are_restored_after_the_run() -> None:
    before = {s: signal.getsignal(s) for s in headless.STOP_SIGNALS}
    with headless.stop_on_signals() as stop:
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not stop.requested and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop.signum == signal.SIGTERM
    assert {s: signal.getsignal(s) for s in headless.STOP_SIGNALS} == before


# ------------------------------------------------------------------ full disk


def _disk_fills_after(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """``os.write`` in output_file takes ``room`` more bytes, then raises ENOSPC; a write
    that crosses the limit is partial, as the kernel's is."""
    real_write = os.write
    left = [room]

    def write(fd: int, data: bytes) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, bytes(data[: left[0]]))
        left[0] -= n
        return n

    monkeypatch.setattr(output_file.os, "write", write)


def test_full_disk_is_one_line_naming_the_file_and_leaves_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec.jsonl"
    _disk_fills_after(monkeypatch, 8000)  # the run event alone is ~3.4 KB
    status = cli.main(["run", "healthy", "--steps", "50", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert err == f"bp-tui: error: {out}: --out: cannot write (no space left on device)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rec.jsonl"]  # no temporary file
    text = out.read_text()
    assert 0 < len(text) <= 8000 and text.endswith("\n")  # cut back to its last whole line
    contents = read_stream(out)
    assert contents.error is None and contents.run is not None and contents.events


def test_check_output_path_rejects_a_folder_and_a_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(CliError, match="cannot be written"):
        check_output_path(str(loop), "--out")
    with pytest.raises(CliError, match="found a folder"):
        check_output_path(str(tmp_path), "--out")


# ------------------------------------------------------------------ --record


class FakeSource:
    """An event source that yields a run event, then ``per_poll`` steps per poll."""

    status = "running"

    def __init__(self, per_poll: int = 3) -> None:
        self.per_poll, self.step, self.closed = per_poll, 0, False

    def start(self) -> None:
        pass

    def poll(self) -> list[dict]:
        events: list[dict] = []
        if self.step == 0:
            events.append({"type": "run", "version": 1, "scenario": "fake", "layers": []})
        for _ in range(self.per_poll):
            self.step += 1
            events.append({"type": "step", "step": self.step, "loss": 1.0 / self.step})
        return events

    def command(self, name: str, value: object = None) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_record_to_a_fifo_never_blocks_and_delivers_once_a_reader_comes(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    rec = RecordingSource(FakeSource(), fifo)  # no reader: this once hung the dashboard
    assert len(rec.poll()) == 4
    assert time.monotonic() - t0 < 2.0
    assert "waits for a reader" in rec.detail
    reader = FifoReader(fifo)
    reader.start()
    deadline = time.monotonic() + 10
    while rec.detail and time.monotonic() < deadline:  # the reader opens it meanwhile
        rec.poll()
        time.sleep(0.02)
    rec.poll()
    rec.close()
    reader.join(timeout=10)
    lines = [json.loads(x) for x in reader.data.decode().splitlines()]
    assert lines[0]["type"] == "run" and lines[-1] == {
        "type": "end",
        "step": lines[-2]["step"],
        "reason": "stopped",
    }
    assert [e["step"] for e in lines[1:-1]] == list(range(1, lines[-2]["step"] + 1))
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_record_follows_a_symlink_and_keeps_a_file_s_inode(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("x" * 10000)
    target.chmod(0o600)
    ino = target.stat().st_ino
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    rec = RecordingSource(FakeSource(), link)
    rec.poll()
    rec.close()
    assert link.is_symlink() and target.stat().st_ino == ino
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    got = valid_stream(target, steps=3)
    assert got["end"]["reason"] == "stopped"


def test_a_failed_recording_stops_with_a_reason_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rec.jsonl"
    inner = FakeSource(per_poll=20)
    rec = RecordingSource(inner, out)
    _disk_fills_after(monkeypatch, 700)
    for _ in range(5):  # every poll still delivers its events: the dashboard goes on
        assert len([e for e in rec.poll() if e["type"] == "step"]) == 20
    assert rec.detail == "recording stopped: no space left on device"
    rec.close()  # quitting raised again before
    assert inner.closed
    contents = read_stream(out)
    assert contents.error is None and contents.run is not None
    assert out.read_text().endswith("\n") and out.stat().st_size <= 700


def test_record_into_a_folder_removed_meanwhile_stops_recording_only(tmp_path: Path) -> None:
    """``--record sub/x.jsonl``, ``rm -rf sub``, then ``r``: FileNotFoundError crashed it."""
    sub = tmp_path / "sub"
    sub.mkdir()
    first = RecordingSource(FakeSource(), sub / "x.jsonl")
    first.poll()
    first.close()
    (sub / "x.jsonl").unlink()
    sub.rmdir()
    again = RecordingSource(FakeSource(), sub / "x.jsonl")  # what `r` / `f` do
    assert len(again.poll()) == 4
    assert again.detail.startswith("recording stopped: no such file or directory")
    again.close()
    assert not sub.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["healthy", "--record", ""], ["--record: found an empty path"]),
        (["healthy", "--record", "new/"], ["new/: --record: ends with '/'"]),
        (["healthy", "--record", "no/dir/x"], ["no/dir/x: --record:", "folder does not exist"]),
    ],
)
def test_bad_record_paths_name_the_option(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    result = subprocess.run(
        [str(BP_TUI), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1
    for word in words:
        assert word in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_record_refuses_the_scenario_file(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(SCENARIO)
    result = bp_tui(str(toml), "--record", str(toml))
    assert result.returncode == 2 and "--record: is the scenario file being read" in result.stderr
    assert toml.read_text() == SCENARIO


def test_output_file_never_blocks_on_a_fifo_and_flushes_at_close(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    f = OutputFile(fifo, "--record", block=False)
    f.write("a\n")
    assert f.waiting and f.error is None
    reader = FifoReader(fifo)
    reader.start()
    deadline = time.monotonic() + 10
    while f.waiting and time.monotonic() < deadline:
        f.pump()
        time.sleep(0.02)
    f.write("b\n")
    f.close()
    reader.join(timeout=10)
    assert reader.data == b"a\nb\n"


def test_scenario_loaded_from_a_path_is_the_protected_input(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(SCENARIO)
    scenario = load(str(toml))
    with pytest.raises(CliError, match="scenario file"):
        OutputFile(toml, "--out", inputs=[scenario.source])
    assert toml.read_text() == SCENARIO


def test_a_second_signal_aborts_at_once_and_the_file_still_ends_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second signal raises ``Aborted`` wherever the run is (here: while writing step
    4 to stdout); the file keeps whole lines and is closed with a ``stopped`` end event,
    and the exit status names the signal."""
    out = tmp_path / "rec.jsonl"

    class Stdout(io.StringIO):
        def write(self, text: str) -> int:
            if '"step":4,' in text:
                raise headless.Aborted(signal.SIGTERM)
            return super().write(text)

    with pytest.raises(headless.Aborted):
        headless.run(
            load("healthy", steps=50),
            jsonl=True,
            out=str(out),
            stdout=Stdout(),
            stderr=io.StringIO(),
        )
    got = valid_stream(out, steps=4)  # step 4 reached the file before stdout
    assert got["end"] == {"type": "end", "step": 4, "reason": "stopped"}

    def aborted(*args: object, **kwargs: object) -> int:
        raise headless.Aborted(signal.SIGTERM)

    monkeypatch.setattr(headless, "run", aborted)
    assert cli.main(["run", "healthy", "--steps", "3"]) == 143


def test_screenshot_command_errors_are_one_line_before_the_app_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the screenshot tool parses and reports as the bp-tui commands do (CliParser,
    # error_line, check_output_path), and writes its SVG with output_file.write_file
    from bp_tui.tui.commands import screenshot

    missing = tmp_path / "no\x1b[2J" / "a.svg"
    assert screenshot.main([str(missing)]) == 2
    assert screenshot.main([str(tmp_path / "a.svg"), "--size", "12"]) == 2
    assert screenshot.main([str(tmp_path / "a.svg"), "--steps", "x"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"bp-tui: error: {tmp_path}/no^[[2J/a.svg: PATH: its folder does not exist, "
        "expected a file path in one"
    )
    assert err[1] == "bp-tui: error: --size: found '12', expected WIDTHxHEIGHT"
    assert err[2].startswith("bp-tui: error: ") and "--steps" in err[2] and len(err) == 3
    assert not list(tmp_path.iterdir())
