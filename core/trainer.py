"""The trainer: one scenario, one network, one update per ``step()``, one event per step.

``Trainer(scenario)`` builds the data set, the network and the optimiser from the
scenario and its seed; ``step()`` runs ONE minibatch update and returns the
``StepEvent`` that describes it (see ``docs/internals.md`` and the design's event
format). Same scenario and seed, same events, byte for byte.

Cost. The per-step statistics are one BLAS dot per array (``||dW_i||``, ``||db_i||``
before clipping, ``||W_i||`` after the update; ``diagnostics.SquaredNorms``); the error
signal ``||dL/dZ_i||`` and mean |f'(Z_i)| are read from backward's own buffers
(``error_signal.py``). ``request_trace()`` has the next step also write its forward
and backward pass down (``backprop_trace.py``) for the backprop view. The full-data
probe (accuracy, dead and saturated units) runs every ``probe_every`` steps, and with
it one over the decision-boundary grid (``core/boundary.py``; the probe step's
``boundary`` field, ``boundary=False`` leaves it out). ``Trainer(s, diagnostics=False)``
skips all of it (the benchmark's baseline) and still reports loss and finiteness.
"""

from __future__ import annotations

import math
import os
from typing import Any, cast

import numpy as np

from bp_tui.core import events
from bp_tui.core.backprop_trace import backprop_trace
from bp_tui.core.boundary import BoundaryProbe
from bp_tui.core.clipping import clip_by_value
from bp_tui.core.clipping import global_norm as global_grad_norm
from bp_tui.core.config import CLIP_MODES, Scenario
from bp_tui.core.datasets import make_dataset
from bp_tui.core.diagnostics import SATURATING, SquaredNorms, dead_units, saturated_fraction
from bp_tui.core.error_signal import error_signals, fprime_means
from bp_tui.core.events import StepEvent
from bp_tui.core.losses import get_loss, n_outputs, predict, targets_for
from bp_tui.core.mlp import MLP
from bp_tui.core.optim import make_optimizer

# Seeds of the independent random streams drawn from ``scenario.seed``: the network
# and the data take the seed itself (as their own modules document), the minibatch
# order gets a stream of its own so that changing the batch size leaves the weights alone.
_BATCH_STREAM = 1


class Trainer:
    """Trains ``MLP([2, *hidden, n_out])`` on the scenario's data set, step by step.

    Attributes: ``X`` (m, 2) float64 inputs, ``y`` (m,) int64 labels, ``Y`` (m, n_out)
    float64 targets, ``net``, ``opt``, ``step_count`` (updates done), ``finished``,
    ``end_reason`` (``None`` while running, then ``"completed"`` / ``"diverged"`` /
    ``"stopped"``), ``lr``, ``clip_mode``, ``clip_threshold``.
    """

    def __init__(self, scenario: Scenario, diagnostics: bool = True, boundary: bool = True) -> None:
        self.scenario = scenario
        self.diagnostics = diagnostics
        data, model, train = scenario.data, scenario.model, scenario.train
        self.X, self.y = make_dataset(data, scenario.seed)
        self.loss_name = model.loss
        self.Y = targets_for(model.loss, self.y, data.classes)
        sizes = [self.X.shape[1], *model.hidden, n_outputs(model.loss, data.classes)]
        self.net = MLP(
            sizes,
            activation=model.activation,
            init=model.init,
            init_scale=model.init_scale,
            bias_init=model.bias_init,
            seed=scenario.seed,
        )
        self.opt = make_optimizer(train.optimizer, train.lr)
        # The scenario's lr_schedule: the rate to set at each of its steps. A live
        # set_lr() holds until the schedule's next entry.
        self._lr_at = dict(train.lr_schedule)
        self._loss_fn = get_loss(model.loss)
        self.clip_mode = "none"
        self.clip_threshold = float(train.clip_threshold)
        self.set_clip(train.clip, train.clip_threshold)

        self.step_count = 0
        self.clip_steps = 0
        self.finished = False
        self.end_reason: str | None = None

        # Minibatches: seeded shuffled epochs; the incomplete tail of an epoch is
        # dropped so every batch has the same shape (and reuses the same buffers).
        m = len(self.y)
        self._batch = min(int(train.batch_size), m)
        self._rng = np.random.default_rng([scenario.seed, _BATCH_STREAM])
        self._order = self._rng.permutation(m)
        self._pos = 0
        self._Xb = np.empty((self._batch, self.X.shape[1]))
        self._Yb = np.empty((self._batch, self.Y.shape[1]))

        # The per-layer statistics read each array once with a BLAS dot, right after
        # backward or the update wrote it, and write nothing (diagnostics.SquaredNorms).
        # Squaring the flat vectors into a scratch array and summing its segments with
        # one reduceat cost twice as much in the step (measured in place: 3 layers of
        # 64, 7.6 us against 3-4).
        self._params = self.net.params()
        self._grads = self.net.grads()
        n_flat = self._params.flat.size
        self._seg = np.cumsum([0, *[a.size for a in self._params][:-1]])  # array starts
        self._scratch = np.empty(n_flat)
        flat_g = [a.reshape(-1) for a in self._grads]  # dW0, db0, dW1, db1, ...
        self._g_sq = SquaredNorms(flat_g)
        self._w_sq = SquaredNorms([a.reshape(-1) for a in self._params[0::2]])
        self._gw_sq = SquaredNorms(flat_g[0::2])  # ||dW_i||^2 after clipping by value
        # The update p_new - p_old, for optimisers whose step is not just lr * g.
        self._prev = np.empty(n_flat) if self.opt.name != "sgd" else None
        self._u_sq = SquaredNorms(
            [
                self._scratch[i : i + a.size]
                for i, a in zip(self._seg[0::2], flat_g[0::2], strict=True)
            ]
        )
        self._n_layers = len(self.net.layers)
        self._w_norm = self._segment_norms(self._params.flat)[0::2].tolist()  # ||W_i||
        self._probe_every = scenario.train.probe_every
        self._ones = np.ones(len(self.y))  # column sums of the probe's activations
        hidden = list(enumerate(self.net.layers))[:-1]
        self._relu_layers = [i for i, lay in hidden if lay.activation.name == "relu"]
        self._leaky_layers = [i for i, lay in hidden if lay.activation.name == "leaky_relu"]
        self._sat_layers = [i for i, lay in hidden if lay.activation.name in SATURATING]

        # The backprop view's trace: asked for with request_trace(), taken by the next
        # step right after backward (before clipping and the update), then kept here.
        self._trace_requested = False
        self.last_trace: dict[str, Any] | None = None

        # Latest full-data probe, repeated between probes.
        self._accuracy: float | None = None
        self._dead: list[int | None] = [None] * self._n_layers
        self._saturated: list[float | None] = [None] * self._n_layers
        # The decision boundary: sent on probe steps only (it is ~1 KB), None otherwise.
        self._grid = BoundaryProbe(self.X, model.loss, data.classes) if boundary else None
        self._boundary: dict[str, Any] | None = None

    # -- live controls --------------------------------------------------------------

    @property
    def lr(self) -> float:
        return float(self.opt.lr)

    def set_lr(self, lr: float) -> None:
        """Use learning rate ``lr`` from the next step on (it is reported there)."""
        lr = float(lr)
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, found {lr}")
        self.opt.lr = lr

    def set_clip(self, mode: str, threshold: float | None = None) -> None:
        """Clip by ``mode`` (``none`` | ``norm`` | ``value``) from the next step on.

        ``threshold`` ``None`` keeps the current one (also kept while clipping is off).
        """
        if mode not in CLIP_MODES:
            raise ValueError(f"clip mode must be one of {', '.join(CLIP_MODES)}, found {mode!r}")
        if threshold is not None:
            threshold = float(threshold)
            if not math.isfinite(threshold) or threshold <= 0:
                raise ValueError(f"clip threshold must be a positive number, found {threshold}")
            self.clip_threshold = threshold
        self.clip_mode = mode

    def request_trace(self) -> None:
        """Have the next ``step()`` record its forward and backward pass in ``last_trace``."""
        self._trace_requested = True

    # -- events ---------------------------------------------------------------------

    def run_event(self) -> dict[str, Any]:
        """The ``run`` event: scenario, seed, one entry per layer, the resolved config."""
        layers = [
            {
                "name": f"L{i + 1}",
                "fan_in": layer.fan_in,
                "fan_out": layer.fan_out,
                "activation": layer.activation.name,
            }
            for i, layer in enumerate(self.net.layers)
        ]
        s = self.scenario
        return events.run_event(
            scenario=s.name,
            title=s.title,
            seed=s.seed,
            fix=s.fix,
            layers=layers,
            # the file's name only: a recording is shared, its author's folders are not
            config=s.with_(source=os.path.basename(s.source)).to_dict(),
        )

    def end_event(self, reason: str | None = None) -> dict[str, Any]:
        """The ``end`` event; ``reason`` defaults to why the run finished (else "stopped")."""
        return events.end_event(self.step_count, reason or self.end_reason or "stopped")

    def stop(self) -> None:
        """End the run early (reason ``stopped``); ``step()`` refuses from now on."""
        if not self.finished:
            self.finished, self.end_reason = True, "stopped"

    # -- training -------------------------------------------------------------------

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next minibatch, copied into the trainer's buffers: (B, 2), (B, n_out)."""
        if self._pos + self._batch > len(self._order):
            self._order = self._rng.permutation(len(self._order))
            self._pos = 0
        idx = self._order[self._pos : self._pos + self._batch]
        self._pos += self._batch
        self.X.take(idx, axis=0, out=self._Xb)  # the method: np.take's wrapper costs 1 us
        self.Y.take(idx, axis=0, out=self._Yb)
        return self._Xb, self._Yb

    def _segment_norms(self, flat: np.ndarray) -> np.ndarray:
        """Norms of every array of ``[W0, b0, W1, b1, ...]`` held in ``flat``: (2L,).

        Robust to overflow: if the squares overflow although the entries are finite,
        the entries are divided by the largest one first.
        """
        sq = self._scratch
        np.multiply(flat, flat, out=sq)
        norms = np.sqrt(np.add.reduceat(sq, self._seg))
        if not np.isfinite(norms).all():
            big = float(np.abs(flat).max())
            if math.isfinite(big) and big > 0:
                np.divide(flat, big, out=sq)
                np.multiply(sq, sq, out=sq)
                norms = big * np.sqrt(np.add.reduceat(sq, self._seg))
        return norms

    def step(self) -> StepEvent:
        """Run one update on the next minibatch and describe it (see module docstring)."""
        if self.finished:
            raise RuntimeError(f"the run has finished ({self.end_reason}); no more steps")
        # A diverging run is a result, not a crash: overflow and NaN stay silent.
        with np.errstate(all="ignore"):
            return self._step()

    def _step(self) -> StepEvent:
        self.step_count += 1
        if self.step_count in self._lr_at:
            self.opt.lr = self._lr_at[self.step_count]
        step, lr, diag = self.step_count, self.lr, self.diagnostics
        Xb, Yb = self._next_batch()
        loss, dlogits = self._loss_fn(self.net.forward(Xb), Yb)
        self.net.backward(dlogits, need_dx=False)
        g, p = self._grads.flat, self._params.flat
        if diag:  # from backward's own buffers, before the probe's forward reuses them
            error_signal: list[float | None] = [*error_signals(self.net.layers)]
            fprime = fprime_means(self.net.layers)
        if self._trace_requested:
            self._trace_requested = False
            self.last_trace = backprop_trace(
                self.net, step=step, loss=loss, loss_name=self.loss_name
            )

        global_norm = math.sqrt(float(g.dot(g)))
        g_norms: list[float] | None = None  # [||dW0||, ||db0||, ...] if squares overflow
        if not math.isfinite(global_norm):  # NaN/inf in g, or finite squares overflowing
            global_norm = global_grad_norm(self._grads)
            if diag and math.isfinite(global_norm):
                g_norms = self._segment_norms(g).tolist()
        finite = math.isfinite(loss) and math.isfinite(global_norm)
        if diag:  # before clipping changes g (squares that overflow: g_norms above)
            g_roots = self._g_sq.roots()

        n = self._n_layers
        clipped, clipped_values, scale = False, [0] * n, 1.0
        if finite and self.clip_mode == "norm":
            # clip_by_norm's rule on the norm measured above (it would measure it again):
            # at or over the threshold, g is scaled to exactly the threshold.
            clipped = global_norm >= self.clip_threshold
            if clipped and global_norm > 0.0:
                scale = self.clip_threshold / global_norm
                g *= scale
        elif finite and self.clip_mode == "value":
            counts = clip_by_value(self._grads, self.clip_threshold)
            clipped_values = [int(counts[2 * i] + counts[2 * i + 1]) for i in range(n)]
            clipped = any(clipped_values)
        self.clip_steps += clipped

        if not finite:
            self.finished, self.end_reason = True, "diverged"
        elif diag and self._prev is not None:
            np.copyto(self._prev, p)
            self.opt.step(self._params, self._grads)
            np.subtract(p, self._prev, out=self._scratch)  # the update, exactly
        else:
            self.opt.step(self._params, self._grads)
        if not self.finished and step >= self.scenario.steps:
            self.finished, self.end_reason = True, "completed"
        if not diag:
            return StepEvent(
                step=step, loss=loss, lr=lr, global_grad_norm=global_norm, finite=finite
            )

        if g_norms is None:
            g_norms = g_roots
        gw_norms, gb_norms = g_norms[0::2], g_norms[1::2]
        update_ratio: list[float | None]
        if finite:
            if self._prev is not None:  # ||p_new - p_old||
                u_norms, c = self._u_sq.norms(), 1.0
            elif clipped and self.clip_mode == "value":  # sgd: lr * ||clipped g||
                u_norms, c = self._gw_sq.norms(), lr
            else:  # sgd: lr * scale * ||g||, no pass of its own
                u_norms, c = gw_norms, lr * scale
            # ||W_i|| after the update (a diverged step keeps the last ones), finite
            # when W is (exploding weights reach 1e190 before anything is inf)
            w_before, self._w_norm = self._w_norm, self._w_sq.norms()
            update_ratio = [
                c * u / w if w > 0 else _ratio(c * u, w)
                for u, w in zip(u_norms, w_before, strict=True)
            ]
        else:
            update_ratio = [None] * n

        boundary = None
        if step == 1 or self.finished or step % self._probe_every == 0:
            self.probe()
            boundary = self._boundary
        return StepEvent(
            step=step,
            loss=loss,
            accuracy=self._accuracy,
            lr=lr,
            grad_norm=gw_norms,
            bias_grad_norm=gb_norms,
            weight_norm=list(self._w_norm),  # a copy: the next step reads self._w_norm
            update_ratio=update_ratio,
            dead=list(self._dead),
            saturated=list(self._saturated),
            global_grad_norm=global_norm,
            clip_threshold=self.clip_threshold if self.clip_mode != "none" else None,
            clipped=clipped,
            clip_steps=self.clip_steps,
            clipped_values=clipped_values,
            finite=finite,
            error_signal=error_signal,
            fprime_mean=fprime,
            boundary=boundary,
        )

    def probe(self) -> None:
        """Full-data forward pass: accuracy, dead ReLU units and saturation per layer.

        ``dead[i]`` / ``saturated[i]`` are ``None`` for layers they do not apply to (the
        output layer, and hidden layers of another activation). Exact, on all of the
        data: its cost is the forward pass's products (about 2.5 training steps for the
        built-ins), which is why it runs every ``probe_every`` steps, not every step.
        (Tried: the data in chunks of 128 rows, for OpenBLAS's small-matrix kernels and
        the L2 cache: within 2% in the step, so not kept.)
        """
        layers = self.net.layers
        with np.errstate(all="ignore"):
            logits = self.net.forward(self.X)
            # the forward pass just set every layer's Z and A
            Z = [cast(np.ndarray, layer.Z) for layer in layers]
            A = [cast(np.ndarray, layer.A) for layer in layers]
            hits = np.count_nonzero(predict(self.loss_name, logits) == self.y)
            self._accuracy = hits / len(self.y)
            for i in self._relu_layers:
                # A = max(Z, 0) >= 0, so a unit is dead exactly when its column of A
                # sums to 0 (NaN sums are not 0, as in dead_units): one GEMV, 5 times
                # faster than Z.max(axis=0) on 512 x 64, and no boolean matrix.
                self._dead[i] = int(np.count_nonzero(self._ones.dot(A[i]) == 0.0))
            for i in self._leaky_layers:
                self._dead[i] = dead_units(Z[i])
            for i in self._sat_layers:
                self._saturated[i] = saturated_fraction(A[i], layers[i].activation.name)
            if self._grid is not None:  # one more forward pass, over the grid's points
                self._boundary = self._grid.field(self._grid.logits(self.net.layers))


def _ratio(update: float, weight: float) -> float:
    """``update / weight`` without ZeroDivisionError (inf, or NaN for 0 / 0)."""
    if weight > 0:
        return update / weight
    return math.inf if update > 0 else math.nan
