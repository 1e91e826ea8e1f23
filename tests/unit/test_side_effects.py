"""Library code and commands called in-process leave the process as they found it.

Tests (and a user's own program) call ``headless.run`` and ``cli.main`` in-process; each
of these once changed process-wide state for good: the BLAS thread count, file
descriptors, signal handlers. Activations were shared mutable singletons.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bp_tui.core import blas
from bp_tui.core.activations import LeakyReLU, get_activation
from bp_tui.core.layers import Dense
from bp_tui.scenarios import load
from bp_tui.tui.commands import cli, headless

BP_TUI = Path(sys.executable).with_name("bp-tui")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_headless_run_restores_the_blas_thread_count() -> None:
    before = blas.threads()
    if before is None:
        pytest.skip(f"NumPy's BLAS ({blas.info()['api']}) has no thread count core.blas sets")
    blas.set_threads(2)
    try:
        out = io.StringIO()
        status = headless.run(
            load("healthy", steps=3), jsonl=True, out=None, stdout=out, stderr=io.StringIO()
        )
        assert status == 0 and out.getvalue().count("\n") == 5
        assert blas.threads() == 2  # was left at 1 for the rest of the process
    finally:
        blas.set_threads(before)


def test_headless_run_installs_no_signal_handler() -> None:
    before = {s: signal.getsignal(s) for s in headless.STOP_SIGNALS}
    seen = []

    class Watch(io.StringIO):
        def write(self, text: str) -> int:
            seen.append({s: signal.getsignal(s) for s in headless.STOP_SIGNALS})
            return super().write(text)

    headless.run(load("healthy", steps=2), jsonl=True, out=None, stdout=Watch(), stderr=Watch())
    assert seen and all(handlers == before for handlers in seen)


def test_broken_pipe_changes_no_file_descriptor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main()``'s broken-pipe path once dup2-ed /dev/null over stdout's descriptor and
    leaked the descriptor it opened for it."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away (`| head`)
    stdout = open(write_end, "w")  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdout", stdout)
    fds = _open_fds()
    target = os.fstat(write_end)
    status = cli.main(["run", "healthy", "--steps", "3", "--jsonl"])
    after = _open_fds()
    monkeypatch.undo()
    assert status == 1
    assert after == fds
    assert os.fstat(write_end).st_ino == target.st_ino  # still the pipe, not /dev/null
    with pytest.raises(BrokenPipeError):
        stdout.close()


def test_broken_pipe_from_the_command_line_is_quiet() -> None:
    proc = subprocess.run(
        f"'{BP_TUI}' run vanishing --steps 3000 --jsonl | head -c 100 >/dev/null; "
        "echo ${PIPESTATUS[0]} >&2",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == "1\n"  # exit status 1, and not a word on stderr


def test_activations_are_values_not_shared_singletons() -> None:
    """``get_activation("leaky_relu").slope = 0.2`` once changed every network."""
    act = get_activation("leaky_relu")
    with pytest.raises(AttributeError):
        act.slope = 0.2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        act.name = "relu"  # type: ignore[misc]
    assert get_activation("leaky_relu").slope == 0.01
    steeper = LeakyReLU(slope=0.2)
    assert steeper == "leaky_relu" and steeper.slope == 0.2
    assert get_activation("leaky_relu").slope == 0.01
    layer = Dense(3, 2, steeper)
    assert layer.activation.slope == 0.2
    import numpy as np

    z = np.array([[-1.0, 2.0]])
    np.testing.assert_array_equal(steeper.fn(z), [[-0.2, 2.0]])
    np.testing.assert_array_equal(get_activation("leaky_relu").fn(z), [[-0.01, 2.0]])


def test_activations_survive_pickling_for_the_trainer_child() -> None:
    import pickle

    for name in ("relu", "leaky_relu", "sigmoid", "tanh", "linear"):
        act = get_activation(name)
        again = pickle.loads(pickle.dumps(act))
        assert again == act and type(again) is type(act)
    steeper = pickle.loads(pickle.dumps(LeakyReLU(slope=0.3)))
    assert steeper.slope == 0.3


def test_leaky_relus_of_other_slopes_are_other_values() -> None:
    assert LeakyReLU(slope=0.2) != get_activation("leaky_relu")
    assert LeakyReLU(slope=0.01) == get_activation("leaky_relu")
    assert (LeakyReLU(slope=0.01) != get_activation("leaky_relu")) is False
