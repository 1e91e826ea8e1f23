"""One colour per layer, the same in every pane (lines, end labels, flow bars, table).

Colours are 256-colour palette indices from 17 up: a terminal with 256 colours shows
exactly these, a truecolor one their fixed RGB values (the 16 ANSI colours below 17
change with the terminal's and Textual's theme: "red" and "magenta" can look alike and
"white" vanishes on a light background). Each is a mid-luminance colour, readable on
dark and light backgrounds.

Up to ``len(PALETTE)`` layers get the categorical palette (hues far apart); deeper
nets get evenly spaced stops of ``RAMP``, blue at the input to red at the output, so
depth order stays readable with many lines.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color as RichColor

# blue, orange, green, magenta, gold, teal, red, violet
PALETTE = (33, 208, 35, 163, 178, 37, 160, 98)
# blue -> cyan -> green -> yellow -> orange -> red, 16 distinct stops
RAMP = (63, 69, 33, 39, 38, 37, 36, 35, 34, 70, 106, 142, 178, 172, 166, 160)


def layer_colors(n: int) -> list[int]:
    """The colour of each of ``n`` layers, input side first (256-colour indices)."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    stops = np.linspace(0, len(RAMP) - 1, n).round().astype(int)
    return [RAMP[i] for i in stops]


def hex_color(index: int) -> str:
    """The RGB of a palette index as "#rrggbb": what a truecolor terminal shows for it,
    and what Textual maps back to the same index on a 256-colour one."""
    r, g, b = RichColor.from_ansi(index).get_truecolor()
    return f"#{r:02x}{g:02x}{b:02x}"
