"""Record the bp-tui event stream from your own PyTorch training loop, in one call.

::

    import bp_tui.torch

    run = bp_tui.torch.watch(model, "run.jsonl", optimizer=opt, every=10, clip=1.0)
    for x, y in loader:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()           # watch clips here (clip=1.0) and measures the update
        run.step(loss=loss)  # the loss; writes the step's event on recorded steps
    run.close()              # or: with bp_tui.torch.watch(...) as run: ...

then ``bp-tui watch run.jsonl`` (live) or ``bp-tui doctor run.jsonl`` (a diagnosis).

What is recorded, every ``every`` steps (and on step 1), per ``nn.Linear`` /
``nn.Conv*`` layer, input side first: ``grad_norm`` ||dW||_F and ``bias_grad_norm``
||db|| before clipping, ``weight_norm`` ||W||_F after the update, ``update_ratio``
||W_after - W_before|| / ||W_before||, ``error_signal`` ||dL/dz||_F (z the layer's
output, over the batch, from a tensor hook), and, for a layer followed by an activation
*module* (``nn.ReLU``, ``nn.LeakyReLU``, ``nn.Sigmoid``, ``nn.Tanh``): ``fprime_mean``
mean |f'(z)|, ``dead`` (units, or conv channels, that output 0 on every example of the
batch) and ``saturated`` (fraction of sigmoid/tanh outputs within 0.03 of their bounds).
A functional activation (``F.relu``) is invisible to module hooks: those layers get
``null`` there. Every step: the global gradient norm and whether ``clip`` fired
(``clip_steps`` counts all clipped steps).

Cost: between recorded steps the hooks return at once; on a recorded step the norms
are a few tensor reductions and one copy of the weights (bench: ``torch-watch``).

Without ``optimizer=``, call ``run.step(loss=...)`` after ``backward()`` and before the
gradients are zeroed: the gradient statistics are read there, and ``update_ratio`` and
``clip`` are not available (they need the optimizer's step).

Importing ``bp_tui`` never imports torch; this module does, when you import it.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, cast

import torch
from torch import nn

from bp_tui.core.events import LAYER_KEYS
from bp_tui.core.stream import EventWriter

# Saturation, as the NumPy core defines it (core/diagnostics.py): within 0.03 of a bound.
SATURATION = 0.97
SIGMOID_LOW = 0.03

WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
ACTIVATIONS = {
    nn.ReLU: "relu",
    nn.LeakyReLU: "leaky_relu",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
}


def _activation_name(module: nn.Module) -> str | None:
    for kind, name in ACTIVATIONS.items():
        if isinstance(module, kind):
            return name
    return None


class _Layer:
    """One watched weighted module, the activation module that follows it, and what
    their hooks caught on the current recorded step."""

    def __init__(self, name: str, module: nn.Module) -> None:
        self.name = name
        self.module = module
        self.activation: nn.Module | None = None
        self.activation_name = "linear"
        self.error_signal: torch.Tensor | None = None  # dL/dz, set by a tensor hook
        self.out: torch.Tensor | None = None  # the activation's output, detached

    @property
    def weight(self) -> torch.Tensor:
        return cast(torch.Tensor, self.module.weight)  # Module's attributes are untyped

    @property
    def bias(self) -> torch.Tensor | None:
        return cast(torch.Tensor | None, self.module.bias)

    def spec(self) -> dict[str, Any]:
        w = self.weight
        fan_in = int(w[0].numel()) if w.dim() > 1 else int(w.numel())
        return {
            "name": self.name,
            "fan_in": fan_in,
            "fan_out": int(w.shape[0]),
            "activation": self.activation_name,
        }


def _watched_layers(model: nn.Module) -> list[_Layer]:
    """Linear/Conv modules in registration order (input side first for nn.Sequential
    and the usual ``__init__``), each paired with the activation module registered next."""
    layers: list[_Layer] = []
    for name, module in model.named_modules():
        if isinstance(module, WEIGHTED):
            # nn.Sequential names its children 0, 1, 2...: "0:Linear" reads better
            kind = type(module).__name__
            shown = f"{name}:{kind}" if not name or name.rsplit(".", 1)[-1].isdigit() else name
            layers.append(_Layer(shown.lstrip(":"), module))
        elif (act := _activation_name(module)) is not None and layers:
            last = layers[-1]
            if last.activation is None:
                last.activation, last.activation_name = module, act
    return layers


def _unit_dim_reduce(out: torch.Tensor) -> tuple[int, ...]:
    """Dimensions to reduce over so that one value per unit remains: all but dim 1
    for conv feature maps (a channel is a unit), all but the last for Linear outputs."""
    if out.dim() <= 1:
        return ()
    if out.dim() == 2:
        return (0,)
    return (0, *range(2, out.dim()))


def _activation_stats(
    out: torch.Tensor, activation: str, slope: float = 0.01
) -> tuple[float, int | None, float | None]:
    """``(fprime_mean, dead, saturated)`` from an activation's output ``out``.

    f' from the output alone: relu 1 where a > 0; leaky relu 1 or ``slope``; sigmoid
    a(1 - a); tanh 1 - a^2. ``dead``: units whose output is <= 0 on every example
    (ReLU family); ``saturated``: fraction of outputs near the bounds (sigmoid/tanh).
    """
    a = out.detach().float()
    if activation in ("relu", "leaky_relu"):
        live = a > 0
        fprime = float(live.float().mean())
        if activation == "leaky_relu":
            fprime += abs(slope) * (1.0 - fprime)  # the negative side's |f'|
        dims = _unit_dim_reduce(a)
        alive_anywhere = live.any(dim=dims) if dims else live
        return fprime, int((~alive_anywhere).sum()), None
    if activation == "sigmoid":
        fprime = float((a * (1 - a)).mean())
        sat = float(((a < SIGMOID_LOW) | (a > SATURATION)).float().mean())
        return fprime, None, sat
    # tanh
    fprime = float((1 - a * a).mean())
    return fprime, None, float((a.abs() > SATURATION).float().mean())


def _norms(tensors: Sequence[torch.Tensor | None]) -> list[float | None]:
    """Euclidean norms of ``tensors`` (``None`` stays ``None``) in one fused
    ``_foreach_norm`` and one ``tolist``: a call per tensor cost half the recorded step."""
    present = [t.detach() for t in tensors if t is not None]
    if not present:
        return [None] * len(tensors)
    values = iter(torch.stack(torch._foreach_norm(present)).tolist())
    return [None if t is None else next(values) for t in tensors]


def _ratio(update: float | None, weight: float | None) -> float | None:
    """``update / weight``; inf (or NaN for 0 / 0) when the weights were all zero."""
    if update is None or weight is None:
        return None
    if weight > 0:
        return update / weight
    return math.inf if update > 0 else math.nan


class Watch:
    """A watched model: hooks on its layers and, if given, on its optimizer.

    Use through ``watch(...)``. ``step(loss=...)`` ends a training step; ``close()``
    removes every hook and writes the end event. ``last`` is the latest recorded
    step's event (a dict), also the version-2 fields when the stream cannot store them.
    """

    def __init__(
        self,
        model: nn.Module,
        path: str | os.PathLike[str],
        *,
        optimizer: torch.optim.Optimizer | None = None,
        every: int = 10,
        clip: float | None = None,
        title: str = "",
        config: dict[str, Any] | None = None,
        flush_every: float = 0.0,
    ) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every: found {every!r}, allowed an integer >= 1")
        if clip is not None and not (math.isfinite(clip) and clip > 0):
            raise ValueError(f"clip: found {clip!r}, allowed a positive number or None")
        if clip is not None and optimizer is None:
            raise ValueError("clip needs optimizer=: watch clips just before optimizer.step()")
        self.model = model
        self.optimizer = optimizer
        self.every = every
        self.clip = clip
        self.layers = _watched_layers(model)
        if not self.layers:
            raise ValueError("the model has no nn.Linear or nn.Conv layer to watch")
        self.step_count = 0  # steps completed
        self.clip_steps = 0
        self.last: dict[str, Any] | None = None
        self._stats: dict[str, Any] | None = None  # this step's gradient/update stats
        self._clipped = False
        self._global: float | None = None
        self._handles: list[Any] = []
        self._pending: dict[str, Any] | None = None  # a complete step, not yet written
        self._params = [p for p in model.parameters() if p.requires_grad]
        self._param_ids = [id(p) for p in self._params]
        self._before: list[torch.Tensor] | None = None  # W before the update, recorded steps
        self._before_norms: list[float | None] | None = None
        self._path = path
        self._writer: EventWriter | None = EventWriter(
            path,
            layers=[layer.spec() for layer in self.layers],
            title=title or "PyTorch " + type(model).__name__,
            scenario="torch",
            config=config,
            flush_every=flush_every,
        )
        self._forward_handles: list[Any] = []  # present only while a recorded step runs
        self._arm()
        if optimizer is not None:
            self._handles.append(optimizer.register_step_pre_hook(self._before_update))
            self._handles.append(optimizer.register_step_post_hook(self._after_update))

    # -- which steps are recorded ---------------------------------------------------

    def recording(self, step: int | None = None) -> bool:
        """Whether step ``step`` (default: the one under way) is recorded."""
        step = self.step_count + 1 if step is None else step
        return step == 1 or step % self.every == 0

    def _arm(self) -> None:
        """Hook the forward passes of the step under way, if it is recorded. Between
        recorded steps the modules carry no hook at all: a hooked module takes
        PyTorch's slow call path, which cost 6% of the benchmark MLP's step."""
        if self._forward_handles or not self.recording():
            return
        for layer in self.layers:
            hook = layer.module.register_forward_hook(self._on_layer_forward(layer))
            self._forward_handles.append(hook)
            if layer.activation is not None:
                hook = layer.activation.register_forward_hook(self._on_activation(layer))
                self._forward_handles.append(hook)

    def _disarm(self) -> None:
        for handle in self._forward_handles:
            handle.remove()
        self._forward_handles.clear()

    # -- hooks ----------------------------------------------------------------------

    def _on_layer_forward(self, layer: _Layer) -> Any:
        def hook(_module: nn.Module, _inputs: Any, out: Any) -> None:
            # no_grad passes (evaluation) are not the training step's
            if not (
                torch.is_grad_enabled() and isinstance(out, torch.Tensor) and out.requires_grad
            ):
                return

            def on_grad(grad: torch.Tensor) -> None:
                layer.error_signal = grad.detach()  # dL/dz; its norm is taken with the rest

            out.register_hook(on_grad)

        return hook

    def _on_activation(self, layer: _Layer) -> Any:
        def hook(_module: nn.Module, _inputs: Any, out: Any) -> None:
            if torch.is_grad_enabled() and isinstance(out, torch.Tensor):
                layer.out = out.detach()

        return hook

    def _before_update(self, *_args: Any) -> None:
        """Optimizer pre-step: gradients before clipping, clipping, W before the update."""
        self._flush()  # the previous step's event, if step() was not called for it
        recording = self.recording()
        if recording:
            self._stats = self._gradient_stats()
            weights = [layer.weight.detach() for layer in self.layers]
            if self._before is None:  # kept between recorded steps: no allocation each time
                self._before = [torch.empty_like(w) for w in weights]
            torch._foreach_copy_(self._before, weights)
            self._before_norms = _norms(weights)
        if self.clip is not None:
            params = [p for p in self.model.parameters() if p.grad is not None]
            total = float(nn.utils.clip_grad_norm_(params, self.clip))
            # clip_grad_norm_ scales by clip / (total + 1e-6) when that is below 1
            self._clipped = math.isfinite(total) and total + 1e-6 > self.clip
            self._global = total

    def _after_update(self, *_args: Any) -> None:
        """Optimizer post-step: the update's size per layer; the step is complete and
        its event waits for ``step(loss=...)`` (or the next step) to be written."""
        self.clip_steps += self._clipped
        self.step_count += 1
        if self._stats is not None and self.recording(self.step_count):
            weights = [layer.weight.detach() for layer in self.layers]
            assert self._before is not None and self._before_norms is not None
            torch._foreach_sub_(self._before, weights)  # W_before - W_after, in place
            both = _norms([*self._before, *weights])
            n = len(weights)
            self._stats["weight_norm"] = both[n:]
            self._stats["update_ratio"] = [
                _ratio(u, b) for u, b in zip(both[:n], self._before_norms, strict=True)
            ]
            self._pending = self._event(self.step_count)
        self._reset()

    # -- measurements ---------------------------------------------------------------

    def _gradient_stats(self) -> dict[str, Any]:
        """Norms of every gradient (one fused call), the error signals and the
        activation statistics caught by the hooks; ``self._global`` from the same norms."""
        grads = [p.grad for p in self._params]
        norms = dict(zip(self._param_ids, _norms(grads), strict=True))
        present = [v for v in norms.values() if v is not None]
        self._global = math.sqrt(math.fsum(v * v for v in present)) if present else 0.0
        signals = _norms([layer.error_signal for layer in self.layers])
        stats: dict[str, Any] = {
            "grad_norm": [norms.get(id(layer.weight)) for layer in self.layers],
            "bias_grad_norm": [
                norms.get(id(layer.bias)) if layer.bias is not None else None
                for layer in self.layers
            ],
            "error_signal": signals,
        }
        fprime: list[float | None] = []
        dead: list[int | None] = []
        saturated: list[float | None] = []
        for layer in self.layers:
            if layer.out is None:
                fprime.append(None)
                dead.append(None)
                saturated.append(None)
                continue
            slope = float(getattr(layer.activation, "negative_slope", 0.01))
            f, d, s = _activation_stats(layer.out, layer.activation_name, slope)
            fprime.append(f)
            dead.append(d)
            saturated.append(s)
        stats.update(fprime_mean=fprime, dead=dead, saturated=saturated)
        return stats

    # -- the user's calls -----------------------------------------------------------

    def step(self, loss: Any = None) -> None:
        """End a training step: call it after ``optimizer.step()``. ``loss``: this
        step's loss (a tensor or a number), read only on recorded steps."""
        if self._writer is None:
            raise ValueError(f"{self.path}: the watch is closed")
        if self.optimizer is None:  # no hooks ran: this call is the end of the step
            self.step_count += 1
            if self.recording(self.step_count):
                self._stats = self._gradient_stats()
                self._stats["weight_norm"] = _norms([layer.weight for layer in self.layers])
                self._stats["update_ratio"] = [None] * len(self.layers)  # needs the optimizer
                self._pending = self._event(self.step_count)
            self._reset()
        if self._pending is not None and loss is not None:
            self._pending["loss"] = float(loss.detach() if hasattr(loss, "detach") else loss)
        self._flush()

    @property
    def path(self) -> str:
        return str(self._path)

    def _event(self, step: int) -> dict[str, Any]:
        assert self._stats is not None
        return {
            "step": step,
            "loss": None,
            "lr": self._lr(),
            **self._stats,
            "global_grad_norm": self._global,
            "clip_threshold": self.clip,
            "clipped": self._clipped,
            "clip_steps": self.clip_steps,
        }

    def _flush(self) -> None:
        """Write the pending step event (and keep it as ``last``)."""
        event, self._pending = self._pending, None
        if event is None or self._writer is None:
            return
        self.last = {"type": "step", **event}
        fields = {k: v for k, v in event.items() if k not in ("step", "loss")}
        self._writer.step(event["step"], event["loss"], **fields)

    def _lr(self) -> float | None:
        if self.optimizer is None or not self.optimizer.param_groups:
            return None
        lr = self.optimizer.param_groups[0].get("lr")
        if isinstance(lr, numbers.Real | torch.Tensor):  # NumPy scalars, tensors too
            return float(lr)
        return None

    def _reset(self) -> None:
        self._stats = None
        self._clipped = False
        self._global = None
        for layer in self.layers:
            layer.error_signal = None
            layer.out = None
        self._disarm()
        if self._writer is not None:
            self._arm()  # for the next step, if it is recorded

    def close(self, reason: str = "completed") -> None:
        """Remove the hooks and write the end event (``completed`` / ``stopped`` /
        ``diverged``). Idempotent."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._disarm()
        if self._writer is not None:
            self._flush()
            self._writer.close(reason)
            self._writer = None

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("completed" if exc_type is None else "stopped")

    def __iter__(self) -> Iterator[_Layer]:
        return iter(self.layers)


def watch(model: nn.Module, path: str | os.PathLike[str], **options: Any) -> Watch:
    """Watch ``model``'s training and write the bp-tui stream to ``path``.

    ``options`` (keywords): ``optimizer`` hooks its ``step()`` (update ratio and
    clipping; recommended); ``every`` (default 10) records one step in ``every`` and
    step 1; ``clip`` clips the global gradient norm at this threshold just before each
    ``optimizer.step()`` (drop your own ``clip_grad_norm_`` call, or the recorded norms
    are the clipped ones); ``title`` and ``config`` (a JSON-able dict) for the run event.
    """
    return Watch(model, path, **options)


__all__ = ["LAYER_KEYS", "Watch", "watch"]
