"""The trainer child process of ``LiveSource``: train, batch events, obey commands.

Runs in a ``multiprocessing`` spawn-context child, so it imports only ``core`` (NumPy)
and never textual. Protocol on the one duplex ``Connection`` (pickled tuples):

- parent -> child: ``(seq, name, value)``, one command; ``seq`` counts up from 1.
- ``trace``: the next step records its forward and backward pass and sends it as a
  ``{"type": "trace"}`` line right after its step event (while paused, that step is
  taken as by ``step``); ``gradcheck``: backprop against finite differences on the
  network as it is, sent as a ``{"type": "gradcheck"}`` line (training waits meanwhile;
  the UI does not). Both are made by ``core`` (``backprop_trace``, ``gradcheck``).
- child -> parent: ``(lines, state)``: ``lines`` a list of event lines as written by
  ``core.events.encode`` (so the parent decodes exactly what a recording holds),
  ``state`` a small dict ``{"ack", "paused", "step", "finished"}`` where ``ack`` is the
  ``seq`` of the last command handled.

Batches go out about every ``FLUSH_INTERVAL`` seconds while training, and at once
while idle (paused or finished), so one message carries many steps and the pipe stays
cheap. Commands are read between steps with ``poll(0)``, so a step is never cut short.

A slow parent throttles the child: ``send`` blocks once the socket buffer is full, so
the child never runs ahead producing unbounded data. That cannot deadlock the command
path because the parent drains incoming batches whenever its own send would block (see
``live.py``). The child ends when told to stop, when its parent's end of the pipe
closes (EOF / broken pipe: the parent died) or when its parent process changes
(``os.getppid()``), so no orphan trainer survives the UI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from bp_tui.core.config import Scenario
from bp_tui.core.events import encode

FLUSH_INTERVAL = 0.05  # seconds between batches while training
MAX_BATCH = 4096  # events; flush early so one message stays bounded however fast we run
IDLE_WAIT = 0.25  # seconds to block on the pipe when idle, between parent checks

# (seq, name, value) as sent by LiveSource.command
Command = tuple[int, str, Any]


class ParentGone(Exception):
    """The UI process is no longer there: stop training and exit quietly."""


class TrainerLoop:
    """The child's main loop around one ``core.trainer.Trainer``."""

    def __init__(
        self, conn: Connection, scenario: Scenario, speed: float | None, parent_pid: int
    ) -> None:
        self.conn = conn
        self.scenario = scenario
        self.parent_pid = parent_pid
        self.speed = speed or None  # steps/s; None = as fast as possible
        self.paused = False
        self.single_steps = 0  # "step" commands not yet carried out
        self.stopped = False
        self.ack = 0  # seq of the last command handled
        self.sent_ack = 0
        self.pending: list[str] = []  # encoded events not yet sent
        self.last_flush = time.monotonic()
        self.next_step_at = self.last_flush  # pacing when speed is set
        self.trainer: Any = None

    # -- main loop --------------------------------------------------------------
    def run(self) -> None:
        # Imported here so that a failing import is reported like any other crash.
        from bp_tui.core import blas
        from bp_tui.core.trainer import Trainer

        self.trainer = Trainer(self.scenario)
        # A tiny network's products gain nothing from BLAS threads, and they stall
        # whenever the UI holds the other core: one thread (see core/blas.py).
        blas.limit_for_network(self.trainer.net.sizes)
        self.pending.append(encode(self.trainer.run_event()))
        self.flush()
        while True:
            self.read_commands()
            if self.stopped:
                break
            if self.trainer.finished or (self.paused and self.single_steps == 0):
                self.flush()
                self.wait_for_command(IDLE_WAIT)
                continue
            now = time.monotonic()
            if self.speed and now < self.next_step_at:
                self.flush_if_due(now)
                self.wait_for_command(self.next_step_at - now)
                continue
            self.train_one_step(now)
            self.flush_if_due(time.monotonic())
        if not self.trainer.finished:
            self.pending.append(encode(self.trainer.end_event("stopped")))
        self.flush()

    def train_one_step(self, now: float) -> None:
        event = self.trainer.step()
        self.pending.append(encode(event.to_dict()))
        if self.trainer.last_trace is not None:  # asked for with "trace"
            self.pending.append(encode(self.trainer.last_trace))
            self.trainer.last_trace = None
        if self.single_steps:
            self.single_steps -= 1
        if self.trainer.finished:
            self.pending.append(encode(self.trainer.end_event(self.trainer.end_reason)))
        if self.speed:
            # Keep the average rate; after a long stall start again from now, no burst.
            self.next_step_at = max(self.next_step_at + 1.0 / self.speed, now)

    # -- commands ---------------------------------------------------------------
    def read_commands(self) -> None:
        while self.conn.poll(0):
            self.handle(self.conn.recv())  # EOFError when the parent is gone

    def wait_for_command(self, timeout: float) -> None:
        """Block until a command arrives or ``timeout`` passes, then check the parent."""
        self.conn.poll(max(0.0, timeout))
        self.check_parent()

    def check_parent(self) -> None:
        if os.getppid() != self.parent_pid:
            raise ParentGone

    def handle(self, command: Command) -> None:
        seq, name, value = command
        trainer = self.trainer
        if name == "pause":
            self.paused = True
            self.single_steps = 0
        elif name == "resume":
            self.paused = False
        elif name == "step":
            if self.paused:
                self.single_steps += 1
        elif name == "speed":
            self.speed = float(value) if value else None
            self.next_step_at = time.monotonic()
        elif name == "lr":
            trainer.set_lr(float(value))
        elif name == "clip":
            trainer.set_clip(str(value))
        elif name == "clip_threshold":
            trainer.set_clip(trainer.clip_mode, float(value))
        elif name == "stop":
            self.stopped = True
        elif name == "trace":
            self.request_trace()
        elif name == "gradcheck":
            self.pending.append(encode(self.gradcheck()))
        self.ack = seq

    def request_trace(self) -> None:
        trainer = self.trainer
        if trainer.finished:
            message = f"the run has ended ({trainer.end_reason}): no step left to trace"
            self.pending.append(encode({"type": "trace", "step": None, "error": message}))
            return
        trainer.request_trace()
        if self.paused:
            self.single_steps += 1

    def gradcheck(self) -> dict[str, Any]:
        from bp_tui.core.gradcheck import gradcheck_event

        trainer = self.trainer
        return gradcheck_event(
            trainer.net, trainer.X, trainer.Y, trainer.loss_name, step=trainer.step_count
        )

    # -- sending ----------------------------------------------------------------
    def flush_if_due(self, now: float) -> None:
        if now - self.last_flush >= FLUSH_INTERVAL or len(self.pending) >= MAX_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the pending events and our state, if there is anything new to say."""
        self.last_flush = time.monotonic()
        if not self.pending and self.ack == self.sent_ack:
            return
        self.check_parent()
        lines, self.pending = self.pending, []
        self.conn.send((lines, self.state()))  # blocks while the parent is behind
        self.sent_ack = self.ack

    def state(self) -> dict[str, Any]:
        trainer = self.trainer
        return {
            "ack": self.ack,
            "paused": self.paused,
            "step": trainer.step_count if trainer is not None else 0,
            "finished": bool(trainer is not None and trainer.finished),
        }


def crash_event(exc: BaseException) -> str:
    """The ``error`` event for a crash: one line naming the exception and where it was."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    message = f"{type(exc).__name__}: {exc}{where}"
    return encode({"type": "error", "message": message})


def _silence_stdio() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def child_main(conn: Connection, scenario: Scenario, speed: float | None, parent_pid: int) -> None:
    """Entry point of the child process (the ``target`` of ``multiprocessing.Process``)."""
    # Ctrl+C in the terminal reaches the whole foreground process group; the UI decides
    # what it means and stops us through the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The terminal belongs to the UI: a stray warning printed here would garble its
    # screen. Everything worth saying goes through the pipe (crashes as error events).
    _silence_stdio()
    loop = TrainerLoop(conn, scenario, speed, parent_pid)
    try:
        loop.run()
    except (ParentGone, EOFError, BrokenPipeError, ConnectionResetError):
        pass  # nobody left to tell
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(([*loop.pending, crash_event(exc)], loop.state()))
        raise SystemExit(1) from None
    finally:
        conn.close()
