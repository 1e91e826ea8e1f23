"""The key tables: one per screen, the single source of every key list.

The footer shows the bindings with ``show=True``; the help screen and the README's key
table are made from the same lists by ``key_rows`` (``description`` is the footer's
short label, ``tooltip`` the help's sentence; a binding without a tooltip is a second
key of a row already listed). ``python -m bp_tui.tui.screens.keys`` prints the README
table; ``tests/ui/test_keys_table.py`` checks that the README holds what it prints.

Each screen lists only the keys that work there: a replay cannot change lr, clip or
the fix, and a live run cannot seek.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from textual.binding import Binding

SPEED = Binding.Group("speed", compact=True)
LR = Binding.Group("lr", compact=True)

# First in the footer, so that a narrow terminal never cuts them. A binding with no
# description is never shown in the footer (Textual), grouped ones included.
HEAD = [
    Binding(
        "question_mark", "app.help", "help", key_display="?", tooltip="this help; escape closes it"
    ),
    Binding("q", "app.quit", "quit", tooltip="quit (exit status 0; ctrl+c quits with 130)"),
]

RUN = [
    Binding("space", "toggle_pause", "pause", tooltip="pause / resume"),
    Binding(
        "plus,equals_sign",
        "faster",
        "faster",
        key_display="+",
        group=SPEED,
        tooltip="faster: more training steps per second (to full speed)",
    ),
    Binding(
        "minus",
        "slower",
        "slower",
        key_display="-",
        group=SPEED,
        tooltip="slower: fewer training steps per second; kept across r, f, s",
    ),
    Binding("n", "single_step", "step", show=False, tooltip="one step (while paused)"),
]

LIVE = [
    Binding(
        "f",
        "toggle_fix",
        "fix",
        tooltip="toggle the scenario's fix: restarts with the remedy, "
        "the lesson pane says what it changed",
    ),
    Binding("r", "restart", "restart", tooltip="restart the run from step 1 (same speed)"),
    Binding(
        "left_square_bracket",
        "lr_half",
        "",
        key_display="[",
        group=LR,
        show=False,
        tooltip="halve the learning rate, live (held at 1e-6 at the least)",
    ),
    Binding(
        "right_square_bracket",
        "lr_double",
        "",
        key_display="]",
        group=LR,
        show=False,
        tooltip="double the learning rate, live (held at 1000 at the most)",
    ),
    Binding(
        "c",
        "cycle_clip",
        "clip",
        show=False,
        tooltip="cycle gradient clipping: none → norm → value, live",
    ),
    Binding(
        "m",
        "compare",
        "",
        show=False,
        tooltip="compare: the scenario beside its fix, both live in the same panes "
        "(escape comes back; this run pauses meanwhile)",
    ),
]

RECORDED = [
    Binding("r", "restart", "restart", tooltip="read the file again from its start"),
]

# Priority bindings, so that a focused table or scroll view does not take the arrows.
SEEK = [
    Binding(
        "left",
        "seek('seek_rel', -1)",
        "",
        key_display="←",
        priority=True,
        show=False,
        tooltip="back one recorded step",
    ),
    Binding(
        "right",
        "seek('seek_rel', 1)",
        "",
        key_display="→",
        priority=True,
        show=False,
        tooltip="forward one recorded step",
    ),
    Binding(
        "pageup",
        "seek('seek_frac', -0.1)",
        "",
        key_display="PgUp",
        priority=True,
        show=False,
        tooltip="back 10 % of the recording",
    ),
    Binding(
        "pagedown",
        "seek('seek_frac', 0.1)",
        "",
        key_display="PgDn",
        priority=True,
        show=False,
        tooltip="forward 10 % of the recording",
    ),
    Binding(
        "home",
        "seek('home')",
        "",
        key_display="Home",
        priority=True,
        show=False,
        tooltip="to the first step",
    ),
    Binding(
        "end",
        "seek('end')",
        "",
        key_display="End",
        priority=True,
        show=False,
        tooltip="to the last step",
    ),
]

PANES = ("loss", "grad-norms", "dead", "clipping", "flow", "table", "lesson")

VIEW = [
    Binding(
        "v",
        "cycle_view",
        "view",
        tooltip="small terminals: cycle the view: plots → gradient flow + table → decision "
        "boundary → lesson",
    ),
    Binding(
        "z",
        "zoom",
        "zoom",
        tooltip="zoom the selected pane to the whole screen and back (or click its title)",
    ),
    Binding(
        "1",
        "select_pane(0)",
        "",
        key_display="1-7",
        show=False,
        tooltip="select a pane: loss, ‖dW‖, dead, clipping, flow, table, lesson "
        "(tab cycles; arrows and PgUp/PgDn scroll the lesson and the table)",
    ),
    *[Binding(str(i + 1), f"select_pane({i})", "", show=False) for i in range(1, len(PANES))],
    Binding("l", "toggle_log", "log", show=False, tooltip="log scale on the loss plot"),
    Binding(
        "w",
        "app.screenshot",
        "svg",
        show=False,
        tooltip="save an SVG screenshot (current folder or --screenshot-dir) and say where",
    ),
    Binding("s", "picker", "scenarios", tooltip="back to the scenario picker"),
]

# The mechanism views. A recording carries the per-layer fields the backprop view
# shows; the gradient check needs the live trainer's network.
MECHANISM = [
    Binding(
        "e",
        "toggle_signal",
        "",
        show=False,
        tooltip="gradient panes: weight gradient ‖dW‖ ↔ error signal ‖δ‖ = ‖dL/dz‖",
    ),
    Binding(
        "b",
        "backprop",
        "",
        show=False,
        tooltip="backprop view: one step, forward then backward "
        "(n next, p play, t trace a step, x next example)",
    ),
]
GRADCHECK = Binding(
    "g",
    "gradcheck",
    "",
    show=False,
    tooltip="gradient check: backprop vs finite differences per layer, and what each costs",
)

LIVE_KEYS = [*HEAD, *RUN, *VIEW, *LIVE, *MECHANISM, GRADCHECK]
WATCH_KEYS = [*HEAD, RUN[0], *RECORDED, *VIEW, *MECHANISM]  # a followed file has no pace
REPLAY_KEYS = [*HEAD, *RUN, *SEEK, *RECORDED, *VIEW, *MECHANISM]


def on_both(action: str, description: str, tooltip: str) -> Binding:
    """The live dashboard's key for ``action`` in compare mode, where it acts on both
    runs: the same key, in the footer with ``description``, in the help with ``tooltip``."""
    live = next(b for b in LIVE_KEYS if b.action == action)
    return replace(live, description=description, tooltip=tooltip, show=True, group=None)


# Compare mode (`bp-tui compare`, `m`): every key acts on both runs.
COMPARE = [
    on_both("toggle_pause", "pause both", "pause / resume both runs"),
    on_both("cycle_view", "view", "small terminals: the plots ↔ the two decision boundaries"),
    on_both("single_step", "step", "one step of each run (while paused)"),
    on_both("restart", "restart", "restart both runs from step 1 (same speed)"),
    on_both("faster", "faster", "faster: more training steps per second, both runs"),
    on_both("slower", "slower", "slower: fewer training steps per second, both runs"),
    on_both("lr_half", "lr/2", "halve each run's own learning rate, live"),
    on_both("lr_double", "lr×2", "double each run's own learning rate, live"),
    on_both("cycle_clip", "clip", "cycle both runs' gradient clipping: none → norm → value"),
    on_both("toggle_log", "log", "log scale on the loss plot"),
    # opened from the dashboard (m): back to it; `bp-tui compare` has nothing below
    Binding("escape", "back", "back", tooltip="opened with m: back to the dashboard's run"),
]
# ? and q last: the footer keeps the order it had before compare used this table.
COMPARE_KEYS = [*COMPARE, *HEAD]
# Textual's own key the help lists too (ctrl+c quits as well as q: see app.py): what its
# palette offers on each screen.
PALETTE_ROW = (
    "ctrl+p",
    "command palette: start any scenario, change the theme, the backprop view, the gradient check",
)
COMPARE_PALETTE_ROW = (
    "ctrl+p",
    "command palette: change the theme (opened with m: also start any scenario)",
)


def key_label(binding: Binding) -> str:
    """How a key is written in the help and the README: its display, else its name."""
    return binding.key_display or binding.key.split(",")[0]


def key_rows(
    bindings: Iterable[Binding], palette: tuple[str, str] = PALETTE_ROW
) -> list[tuple[str, str]]:
    """(key, what it does) for every binding with a tooltip, in table order, then the
    palette's row."""
    return [(key_label(b), b.tooltip) for b in bindings if b.tooltip] + [palette]


def markdown_table(bindings: Iterable[Binding], palette: tuple[str, str] = PALETTE_ROW) -> str:
    """The rows as a Markdown table (the help screen's and the README's)."""
    lines = ["| key | what it does |", "|---|---|"]
    lines += [f"| `{key}` | {text} |" for key, text in key_rows(bindings, palette)]
    return "\n".join(lines)


def readme_tables() -> str:
    """The README's key section body: the live dashboard's keys, then what replay changes."""
    seek = markdown_table(SEEK).split("\n")
    return "\n".join(
        [
            markdown_table(LIVE_KEYS),
            "",
            "`bp-tui replay` and `bp-tui watch` have no `f`, `[`, `]`, `c` or `g` (a recorded run "
            "cannot change) and `r` reads the file again; replay adds the seek keys:",
            "",
            "\n".join(seek[:-1]),  # without the ctrl+p row, listed above
            "",
            "`bp-tui compare` (and `m` in the dashboard) has these keys, besides `?` and `q`:",
            "",
            "\n".join(markdown_table(COMPARE).split("\n")[:-1]),
        ]
    )


if __name__ == "__main__":
    print(readme_tables())
