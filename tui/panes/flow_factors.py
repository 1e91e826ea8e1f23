"""The factor of each step down the gradient-flow bars: "×0.24 = f' 0.24 × W 1.0".

Backprop takes the error signal of layer l to layer l-1 as
``delta_{l-1} = (delta_l @ W_l) * f'(Z_{l-1})``: one factor from the weights, one from
the activation's slope. The label splits the measured factor
``||delta_{l-1}|| / ||delta_l||`` into the mean slope ``mean |f'(Z_{l-1})|`` and the
weight gain, defined as their quotient (``core.error_signal.layer_factors``), so the
product holds exactly. Sigmoid's slope is at most 0.25, so "f' 0.24" is vanishing's
×0.24 per layer; exploding's ×3 sits in the weight gain.
"""

from __future__ import annotations

from bp_tui.core.error_signal import layer_factors
from bp_tui.tui.panes.view import RunView, fmt_num

FULL_MIN_WIDTH = 24  # characters a label needs to show its two parts


def factor_label(factor: float | None, fprime: float | None, gain: float | None, width: int) -> str:
    """``×factor = f' fprime × W gain`` in ``width`` characters, or just ``×factor``."""
    if factor is None:
        return ""
    full = f"×{fmt_num(factor)} = f' {fmt_num(fprime)} × W {fmt_num(gain)}"
    if len(full) <= width:
        return full
    short = f"×{factor:.2g}"  # two digits: it has to fit beside the bars at 120 columns
    return short if len(short) <= width else ""


def factor_labels(view: RunView, width: int) -> list[str]:
    """Per layer, input side first: the label of the step that reached it from above.

    The output layer (nothing above it) and a run without ``error_signal`` (a version-1
    recording) get "".
    """
    n = len(view.layers)
    signal = [view.last("error_signal", i) for i in range(n)]
    fprime = [view.last("fprime_mean", i) for i in range(n)]
    if all(v is None for v in signal):
        return [""] * n
    steps = layer_factors(signal, fprime)
    return [factor_label(*step, width) for step in steps] + [""]
