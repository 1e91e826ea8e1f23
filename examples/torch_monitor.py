"""Monitor a PyTorch training loop with bp-tui: write the event stream, watch it live.

    python examples/torch_monitor.py --out run.jsonl --steps 2000 --delay 0.02 &
    bp-tui watch run.jsonl          # live, e.g. over SSH; or later: bp-tui replay run.jsonl

An MLP (2 -> 64 -> 64 -> 64 -> 1, ReLU) learns two interleaved spirals generated here.
Each step records what the dashboard shows, taken from the model's own tensors:

- ``grad_norm`` / ``bias_grad_norm``: ||dW||_F and ||db|| of each Linear layer, before clipping;
- ``global_grad_norm``: the value ``torch.nn.utils.clip_grad_norm_`` returns, the norm over
  all parameters before clipping; ``clipped`` when it reached the threshold;
- ``weight_norm`` and ``update_ratio`` = ||W_after - W_before|| / ||W_before||;
- ``dead``: hidden units whose ReLU output is 0 for every training example, counted by
  forward hooks during a probe over the full data set every ``--probe-every`` steps
  (with the accuracy).

Try ``--init-scale 3 --clip 0`` (exploding gradients) or ``--lr 0.5`` (dying ReLUs).
Needs PyTorch: ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from types import ModuleType

import numpy as np

from bp_tui.core.stream import EventWriter

HIDDEN = (64, 64, 64)


def spirals(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms: X (n, 2) float32 standardised, y (n,) float32 in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3.0 * math.pi
    angle = t + y * math.pi
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    X += rng.normal(0.0, noise * 3.0, X.shape)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", required=True, help="event stream to write (JSON Lines)")
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--delay", type=float, default=0.0, help="sleep per step, s (for watching)")
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--clip", type=float, default=1.0, help="global norm threshold, 0 = off")
    p.add_argument("--init-scale", type=float, default=1.0, help="multiplies initial weights")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--probe-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        print(
            "torch_monitor: error: PyTorch not installed: pip install -e .[bench]", file=sys.stderr
        )
        return 2
    try:
        train(args, torch)
    except KeyboardInterrupt:  # the stream already ends with "stopped"
        return 130
    return 0


def train(args: argparse.Namespace, torch: ModuleType) -> None:
    """Train and write the stream; ``torch`` is passed in because it is imported late."""
    nn = torch.nn
    torch.manual_seed(args.seed)
    X_np, y_np = spirals(512, 0.05, args.seed)
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)[:, None]

    widths = (2, *HIDDEN, 1)
    modules: list[nn.Module] = []
    for i in range(len(widths) - 1):
        modules.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            modules.append(nn.ReLU())
    model = nn.Sequential(*modules)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    relus = [m for m in model if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        for lin in linears:
            lin.weight.mul_(args.init_scale)

    # Forward hooks keep each ReLU's latest output: after a forward pass over the whole
    # training set, a unit is dead when its column is 0 for every example.
    activations: dict[int, torch.Tensor] = {}
    for i, relu in enumerate(relus):
        relu.register_forward_hook(lambda _m, _inp, out, i=i: activations.__setitem__(i, out))

    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    layers = [
        (f"fc{i + 1}", lin.in_features, lin.out_features, "relu" if i < len(relus) else "linear")
        for i, lin in enumerate(linears)
    ]
    gen = torch.Generator().manual_seed(args.seed)
    clip_steps = 0
    dead: list[int | None] = [None] * len(linears)
    accuracy: float | None = None
    title = "PyTorch MLP on spirals"
    with EventWriter(args.out, layers=layers, title=title, config=vars(args), seed=args.seed) as w:
        for step in range(1, args.steps + 1):
            if step == 1 or step % args.probe_every == 0:
                with torch.no_grad():
                    logits = model(X)
                    accuracy = float(((logits > 0).float() == y).float().mean())
                    dead = [int((activations[i] <= 0).all(dim=0).sum()) for i in range(len(relus))]
                    dead.append(None)  # the output layer has no ReLU
            idx = torch.randint(0, len(X), (args.batch_size,), generator=gen)
            loss = loss_fn(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            grad_norm = [float(lin.weight.grad.norm()) for lin in linears]
            bias_grad_norm = [float(lin.bias.grad.norm()) for lin in linears]
            before = [lin.weight.detach().clone() for lin in linears]
            if args.clip > 0:
                # returns the total norm of all gradients before clipping
                total = float(nn.utils.clip_grad_norm_(model.parameters(), args.clip))
                clipped = total >= args.clip
            else:
                total = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in model.parameters()))
                clipped = False
            clip_steps += clipped
            opt.step()
            weight_norm = [float(lin.weight.detach().norm()) for lin in linears]
            update_ratio = [
                float((lin.weight.detach() - b).norm() / b.norm().clamp_min(1e-12))
                for lin, b in zip(linears, before, strict=True)
            ]
            w.step(
                step=step,
                loss=float(loss.detach()),
                accuracy=accuracy,
                lr=args.lr,
                grad_norm=grad_norm,
                bias_grad_norm=bias_grad_norm,
                weight_norm=weight_norm,
                update_ratio=update_ratio,
                dead=dead,
                global_grad_norm=total,
                clip_threshold=args.clip if args.clip > 0 else None,
                clipped=clipped,
                clip_steps=clip_steps,
            )
            if not math.isfinite(float(loss.detach())):
                w.close("diverged")
                return
            if args.delay > 0:
                time.sleep(args.delay)


if __name__ == "__main__":
    sys.exit(main())
