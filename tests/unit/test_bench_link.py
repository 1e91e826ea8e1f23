"""The throttled-link bench's own parts: the terminal grid it reads the status line
from, and the lag it computes from the screen's and the recording's step logs."""

from __future__ import annotations

import pytest

from bench.throttled_link import RecordTail, StepLog, ThrottledReader, lags
from bench.vt_screen import VtScreen


def test_text_lands_where_the_cursor_moves_it() -> None:
    scr = VtScreen(cols=20, rows=3)
    scr.feed(b"\x1b[1;1H\x1b[38;5;12mstep 10/99\x1b[0m rest")
    scr.feed(b"\x1b[1;6H\x1b[1m77\x1b[0m")  # a repaint of part of the line
    assert scr.line(0) == "step 77/99 rest     "
    scr.feed(b"\x1b[2;3Hab\rX\x1b[3;20Hyz")  # CR, and the last column wraps
    assert scr.line(1) == "X ab" + " " * 16
    assert scr.line(2) == "z" + " " * 18 + "y"


def test_input_cut_inside_an_escape_or_a_character_waits_for_the_rest() -> None:
    data = "\x1b[2;4H·é\x1b]0;title\x07ok\x1b[?2026h".encode()
    whole = VtScreen(cols=10, rows=2)
    whole.feed(data)
    pieces = VtScreen(cols=10, rows=2)
    for i in range(len(data)):
        pieces.feed(data[i : i + 1])
    assert pieces.grid == whole.grid
    assert whole.line(1) == "   ·éok   "


def test_wide_characters_take_two_cells_and_erase_clears() -> None:
    scr = VtScreen(cols=6, rows=2)
    scr.feed("日本x".encode())
    assert scr.line(0) == "日本x " and scr.grid[0][5] == " "
    scr.feed(b"\x1b[1;3H\x1b[K")
    assert scr.line(0) == "日    "
    scr.feed(b"\x1b[2J")
    assert scr.line(0) == " " * 6


def test_lag_is_the_age_of_the_step_shown() -> None:
    trainer = StepLog()
    for t, step in [(0.0, 10), (1.0, 20), (1.5, 30), (1.5, 25), (3.0, 40)]:
        trainer.note(t, step)  # a smaller step never goes back in the log
    assert trainer.steps == [10, 20, 30, 40]
    assert trainer.step_at(1.2) == 20 and trainer.step_at(-1) == 0
    # step 15 appeared with the batch that brought 20 (t=1.0); 50 not yet
    got = lags([(1.25, 15), (2.0, 30), (3.0, 40), (3.5, 50)], trainer)
    assert got == pytest.approx([0.25, 0.5, 0.0])


def test_record_tail_notes_the_newest_complete_step_line(tmp_path) -> None:
    path = tmp_path / "r.jsonl"
    log = StepLog()
    tail = RecordTail(str(path), log)
    tail.poll(0.0)  # no file yet
    with path.open("w") as f:
        f.write('{"type":"run","version":2}\n{"type":"step","step":1,"loss":1}\n')
        f.write('{"type":"step","step":2,"lo')
        f.flush()
        tail.poll(1.0)
        f.write('ss":1}\n{"type":"end","step":2}\n')
        f.flush()
        tail.poll(2.0)
    tail.close()
    assert (log.times, log.steps) == ([1.0, 2.0], [1, 2])


def test_the_reader_holds_its_rate_and_reads_the_status_line() -> None:
    import os
    import time

    r, w = os.pipe()
    try:
        os.write(w, b"\x1b[1;1H running step 7/100 " + b"x" * 5000)
        reader = ThrottledReader(r, 20_000.0, VtScreen(cols=40, rows=2))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.1:
            reader.read_once()
            time.sleep(0.005)
        elapsed = time.perf_counter() - t0
        # the bucket never allows more than rate * time (plus nothing saved up at start)
        assert 0 < reader.drained <= 20_000.0 * elapsed + 1
        assert reader.step == 7
    finally:
        os.close(r)
        os.close(w)
