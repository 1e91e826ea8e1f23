"""Monitor a PyTorch training loop with bp-tui: one ``watch`` call, then watch it live.

    python examples/torch_monitor.py --out run.jsonl --steps 2000 --delay 0.02 &
    bp-tui watch run.jsonl          # live, e.g. over SSH; or later: bp-tui replay run.jsonl
    bp-tui doctor run.jsonl         # what is wrong with it, if anything

An MLP (2 -> 64 -> 64 -> 64 -> 1, ReLU) learns two interleaved spirals generated here;
``bp_tui.torch.watch`` records every layer's gradient, weight and update norms, the
error signal, dead units and clipping (see its docstring). Try ``--lr 1 --clip 0``
(dying ReLUs) or ``--lr 5 --clip 0`` (exploding, then NaN), then ``bp-tui doctor``.
Needs PyTorch: ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np


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
    # every step: this net is tiny (watch's own default, 10, is for real models)
    p.add_argument("--every", type=int, default=1, help="record one step in N (default 1)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        import torch
        from torch import nn

        import bp_tui.torch
    except ImportError:
        print(
            "torch_monitor: error: PyTorch not installed: pip install -e .[bench]", file=sys.stderr
        )
        return 2

    torch.manual_seed(args.seed)
    X_np, y_np = spirals(512, 0.05, args.seed)
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)[:, None]
    model = nn.Sequential()
    widths = (2, 64, 64, 64, 1)
    for i in range(len(widths) - 1):
        model.add_module(f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            model.add_module(f"relu{i + 1}", nn.ReLU())
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.Linear):
                module.weight.mul_(args.init_scale)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(args.seed)

    watch = bp_tui.torch.watch(
        model,
        args.out,
        optimizer=opt,
        every=args.every,
        clip=args.clip or None,
        title="PyTorch MLP on spirals",
        config=vars(args),
    )
    try:
        with watch as run:
            for _ in range(args.steps):
                idx = torch.randint(0, len(X), (args.batch_size,), generator=gen)
                loss = loss_fn(model(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()  # watch clips and measures here
                run.step(loss=loss)
                if args.delay > 0:
                    time.sleep(args.delay)
    except KeyboardInterrupt:  # the stream already ends with "stopped"
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
