"""bp_tui.torch.watch: what it records equals what the test computes by hand, its stream
reads back and is followable and survives a kill, and doctor names the pathology of
three small torch nets (vanishing, dying, healthy)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bp_tui.core.doctor import diagnose, pathologies
from bp_tui.core.stream import StreamParser, read_stream

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - CI installs torch (BP_TUI_REQUIRE_TORCH=1)
    if os.environ.get("BP_TUI_REQUIRE_TORCH") == "1":
        raise
    pytest.skip("PyTorch not installed: pip install -e .[bench]", allow_module_level=True)

import bp_tui.torch as bt

ROOT = Path(__file__).resolve().parents[2]


def mlp(widths: list[int], activation: type[nn.Module]) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(activation())
    return nn.Sequential(*mods)


def disc(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """512 points in the plane, label 1 inside a disc."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(512, 2, generator=g)
    return X, ((X**2).sum(1) < 1.4).float()[:, None]


def train(
    model: nn.Module, path: Path, *, lr: float, steps: int, seed: int = 0, **opts
) -> list[dict]:
    """Train with watch on; returns every recorded event as ``run.last`` had it (with the
    version-2 fields ``error_signal`` and ``fprime_mean`` whatever the stream stores)."""
    X, y = disc(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    recorded: list[dict] = []
    with bt.watch(model, path, optimizer=opt, **opts) as run:
        for _ in range(steps):
            idx = torch.randint(0, len(X), (64,), generator=g)
            loss = nn.functional.binary_cross_entropy_with_logits(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.step(loss=loss)
            if run.last is not None and (not recorded or run.last is not recorded[-1]):
                recorded.append(run.last)
    return recorded


def verdicts(path: Path, recorded: list[dict]) -> tuple[list[str], list[str]]:
    """Doctor's pathologies on the file, and on the recorded events with their error
    signals (the rule then reads ``error_signal`` instead of ``grad_norm``)."""
    contents = read_stream(path)
    on_file = pathologies(diagnose(contents.run, contents.events, contents.end))
    return on_file, pathologies(diagnose(contents.run, recorded))


def test_recorded_norms_equal_the_ones_computed_by_hand(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp([5, 8, 8, 3], nn.ReLU)
    with torch.no_grad():
        model[2].bias.fill_(-0.3)  # some dead units, so dead is not trivially 0
    X = torch.randn(32, 5)
    target = torch.randint(0, 3, (32,))
    lin = [model[0], model[2], model[4]]

    # by hand, on a copy: z_l, the gradients, dL/dz_l, the update of plain SGD
    z1 = lin[0](X)
    a1 = torch.relu(z1)
    z2 = lin[1](a1)
    a2 = torch.relu(z2)
    z3 = lin[2](a2)
    loss = nn.functional.cross_entropy(z3, target)
    params = [p for m in lin for p in (m.weight, m.bias)]
    grads = torch.autograd.grad(loss, [*params, z1, z2, z3])
    dW, db, dz = grads[0:6:2], grads[1:6:2], grads[6:]
    total = math.sqrt(sum(float(g.pow(2).sum()) for g in grads[:6]))
    lr, clip = 0.5, 0.1
    scale = clip / (total + 1e-6)
    W_before = [m.weight.detach().clone() for m in lin]
    W_after = [w - lr * scale * g for w, g in zip(W_before, dW, strict=True)]

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    path = tmp_path / "run.jsonl"
    with bt.watch(model, path, optimizer=opt, clip=clip) as run:
        out = model(X)
        step_loss = nn.functional.cross_entropy(out, target)
        opt.zero_grad()
        step_loss.backward()
        opt.step()
        run.step(loss=step_loss)
    contents = read_stream(path)
    assert contents.error is None and contents.end["reason"] == "completed"
    [ev] = contents.events
    assert [x["name"] for x in contents.run["layers"]] == ["0:Linear", "2:Linear", "4:Linear"]
    assert [x["activation"] for x in contents.run["layers"]] == ["relu", "relu", "linear"]
    assert ev["loss"] == pytest.approx(float(loss.detach()), rel=1e-6)
    assert ev["grad_norm"] == pytest.approx([float(g.norm()) for g in dW], rel=1e-5)
    assert ev["bias_grad_norm"] == pytest.approx([float(g.norm()) for g in db], rel=1e-5)
    assert ev["global_grad_norm"] == pytest.approx(total, rel=1e-5)
    assert ev["clipped"] is True and ev["clip_steps"] == 1 and ev["clip_threshold"] == clip
    assert ev["weight_norm"] == pytest.approx([float(w.norm()) for w in W_after], rel=1e-5)
    assert ev["update_ratio"] == pytest.approx(
        [float((a - b).norm() / b.norm()) for a, b in zip(W_after, W_before, strict=True)],
        rel=1e-4,
    )
    assert ev["dead"] == [int((a1 <= 0).all(0).sum()), int((a2 <= 0).all(0).sum()), None]
    assert ev["dead"][1] > 0
    assert ev["saturated"] == [None, None, None]
    recorded = run.last
    assert recorded["error_signal"] == pytest.approx([float(g.norm()) for g in dz], rel=1e-5)
    assert recorded["fprime_mean"][:2] == pytest.approx(
        [float((z1 > 0).float().mean()), float((z2 > 0).float().mean())]
    )
    assert recorded["fprime_mean"][2] is None
    assert ev["error_signal"] == pytest.approx(recorded["error_signal"])
    assert ev["fprime_mean"] == pytest.approx(recorded["fprime_mean"])


def test_records_every_nth_step_and_step_one(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "run.jsonl"
    train(mlp([2, 16, 1], nn.Tanh), path, lr=0.1, steps=35, every=10)
    contents = read_stream(path)
    assert [e["step"] for e in contents.events] == [1, 10, 20, 30]
    assert contents.end == {"type": "end", "step": 30, "reason": "completed"}
    assert all(0.0 <= e["saturated"][0] <= 1.0 for e in contents.events)


def test_sigmoid_ten_layers_is_diagnosed_as_vanishing_in_its_first_layers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "run.jsonl"
    recorded = train(mlp([2, *[32] * 10, 1], nn.Sigmoid), path, lr=0.1, steps=100)
    contents = read_stream(path)
    findings = diagnose(contents.run, contents.events, contents.end)
    assert pathologies(findings) == ["vanishing"]
    [vanishing] = findings[:1]
    assert vanishing.layers[0] == "0:Linear" and len(vanishing.layers) >= 3
    with_signal = diagnose(contents.run, recorded)
    assert pathologies(with_signal) == ["vanishing"]
    assert "error signal" in with_signal[0].message and with_signal[0].layers[0] == "0:Linear"


def test_relu_with_a_too_high_learning_rate_is_diagnosed_as_dying(tmp_path: Path) -> None:
    for seed in (0, 1):
        torch.manual_seed(seed)
        path = tmp_path / f"run{seed}.jsonl"
        recorded = train(mlp([2, 64, 64, 64, 1], nn.ReLU), path, lr=5.0, steps=300, seed=seed)
        contents = read_stream(path)
        findings = diagnose(contents.run, contents.events, contents.end)
        assert pathologies(findings) == ["dying"], [f.message for f in findings]
        assert "rising" in findings[0].message  # it died during training, not at init
        assert verdicts(path, recorded) == (["dying"], ["dying"])


def test_a_healthy_relu_net_gets_no_pathology(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "run.jsonl"
    recorded = train(mlp([2, 64, 64, 64, 1], nn.ReLU), path, lr=0.1, steps=300)
    contents = read_stream(path)
    assert contents.events[-1]["loss"] < 0.3  # it learned
    assert verdicts(path, recorded) == ([], [])


def test_works_without_an_optimizer_and_with_conv_layers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    path = tmp_path / "run.jsonl"
    with bt.watch(model, path, every=1) as run:
        for _ in range(3):
            model.zero_grad()
            loss = model(torch.randn(8, 1, 8, 8)).pow(2).mean()
            loss.backward()
            run.step(loss=loss)
            conv_grad = float(model[0].weight.grad.norm())
    contents = read_stream(path)
    assert contents.error is None and len(contents.events) == 3
    last = contents.events[-1]
    assert last["grad_norm"][0] == pytest.approx(conv_grad, rel=1e-6)
    assert last["update_ratio"] == [None, None]
    assert contents.run["layers"][0]["fan_in"] == 9 and contents.run["layers"][0]["fan_out"] == 4
    assert 0 <= last["dead"][0] <= 4


WRITER = """
import sys, time, torch
from torch import nn
import bp_tui.torch as bt
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
run = bt.watch(model, sys.argv[1], optimizer=opt, every=1)
for i in range(100000):
    loss = model(torch.randn(16, 2)).pow(2).mean()
    opt.zero_grad(); loss.backward(); opt.step(); run.step(loss=loss)
    time.sleep(0.01)
"""


def test_the_stream_is_followable_while_written_and_survives_a_kill(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT)
    try:
        parser = StreamParser(path)
        seen: list[dict] = []
        deadline = time.monotonic() + 120
        offset = 0
        while len([e for e in seen if e["type"] == "step"]) < 5:
            assert time.monotonic() < deadline, "no steps appeared while the writer ran"
            assert proc.poll() is None
            if path.exists():
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                offset += len(chunk)
                seen += parser.feed(chunk)
            time.sleep(0.05)
        assert parser.error is None and seen[0]["type"] == "run"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    contents = read_stream(path)
    # killed mid-run: every line is complete and valid, there is just no end event
    assert contents.error is None and contents.end is None
    assert len(contents.events) >= 5
    for line in path.read_text().splitlines():
        json.loads(line)


def test_importing_bp_tui_does_not_import_torch() -> None:
    code = (
        "import sys, bp_tui, bp_tui.core.stream, bp_tui.core.doctor\n"
        "bp_tui.EventWriter\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_bad_arguments_are_value_errors(tmp_path: Path) -> None:
    model = mlp([2, 4, 1], nn.ReLU)
    with pytest.raises(ValueError, match="every"):
        bt.watch(model, tmp_path / "a.jsonl", every=0)
    with pytest.raises(ValueError, match="optimizer"):
        bt.watch(model, tmp_path / "b.jsonl", clip=1.0)
    with pytest.raises(ValueError, match=r"no nn\.Linear"):
        bt.watch(nn.ReLU(), tmp_path / "c.jsonl")


def test_non_finite_steps_are_null_and_marked_and_doctor_names_them(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp([2, 8, 1], nn.ReLU)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "run.jsonl"
    with bt.watch(model, path, optimizer=opt, every=1) as run:
        for i in range(1, 6):
            X = torch.randn(16, 2) * (math.inf if i == 4 else 1.0)
            loss = model(X).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.step(loss=loss)
    contents = read_stream(path)
    assert contents.error is None
    flags = [e["finite"] for e in contents.events]
    assert flags[:3] == [True, True, True] and flags[3] is False
    assert contents.events[3]["loss"] is None  # NaN or inf written as null
    findings = diagnose(contents.run, contents.events, contents.end)
    assert "non-finite" in pathologies(findings)
    assert next(f for f in findings if f.rule == "non-finite").step == 4


def test_without_step_calls_each_event_is_written_at_the_next_step(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp([2, 8, 1], nn.Tanh)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "run.jsonl"
    run = bt.watch(model, path, optimizer=opt, every=2)
    for _ in range(6):
        loss = model(torch.randn(16, 2)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()  # the user never calls run.step(): the optimizer hooks count the steps
    run.close()
    contents = read_stream(path)
    assert [e["step"] for e in contents.events] == [1, 2, 4, 6]
    assert all(e["loss"] is None and e["grad_norm"][0] > 0 for e in contents.events)
    assert contents.end["step"] == 6
