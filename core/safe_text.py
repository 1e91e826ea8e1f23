"""Text from a file, made safe to show on a terminal.

Scenario files and recordings are data that people share. A string in one of them may
hold terminal control sequences (``ESC ] 2 ; ... BEL`` retitles the window, ``ESC [ 2 J``
clears the screen) that would act if written raw to the terminal. Like ``less`` and
tmux, we show such characters instead of sending them: C0 controls and DEL in caret
notation (ESC as ``^[``, BEL as ``^G``, DEL as ``^?``), C1 controls, Unicode
bidirectional overrides (which reorder what is shown, "Trojan source") and unpaired
surrogates (which cannot be encoded for the terminal at all) as ``<U+XXXX>``.

``safe_text`` is applied once, at the boundary: when the loader builds a ``Scenario``
and when the stream reader accepts a ``run`` or ``end`` event. Everything after that
(summaries, dashboard, replay, watch) shows the result as it is. NumPy-free.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls, the bidi embedding/override/isolate controls, and
# lone surrogates (JSON's "\ud800" decodes to one; the terminal's encoder rejects it).
_ALWAYS = "\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x0a{_ALWAYS}]")
_UNSAFE_PROSE = re.compile(f"[\x00-\x08{_ALWAYS}]")  # keeps \t and \n
# When a text run is longer than ``max_len`` it is cut and ends with this.
ELLIPSIS = "…"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)  # ESC -> ^[, BEL -> ^G, DEL -> ^?
    return f"<U+{code:04X}>"


def safe_text(text: str, *, prose: bool = False, max_len: int | None = None) -> str:
    """``text`` with every control character made visible.

    ``prose=True`` keeps newlines and tabs (a lesson's paragraphs); elsewhere they are
    shown as ``^J`` / ``^I`` too, since a title or a name is one line. ``max_len`` cuts
    the result to that many characters, the last being ``…``.
    """
    pattern = _UNSAFE_PROSE if prose else _UNSAFE
    if pattern.search(text) is not None:
        text = pattern.sub(_visible, text)
    if max_len is not None and len(text) > max_len:
        text = text[: max(max_len - 1, 0)] + ELLIPSIS
    return text


def is_safe(text: str, *, prose: bool = False) -> bool:
    """Whether ``safe_text`` would leave ``text`` unchanged (for tests and checks)."""
    return (_UNSAFE_PROSE if prose else _UNSAFE).search(text) is None


def safe_strings(
    value: Any,
    *,
    prose_keys: frozenset[str] = frozenset(),
    max_len: int | None = None,
    prose_max_len: int | None = None,
) -> Any:
    """``value`` (decoded JSON: dicts, lists, scalars) with ``safe_text`` applied to every
    string in it, dict keys included, each cut to ``max_len``. Strings under a key in
    ``prose_keys`` keep their newlines and tabs and are cut to ``prose_max_len``.
    Callers bound the nesting depth first (``json_depth``)."""

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return safe_text(item, max_len=max_len)
        if isinstance(item, dict):
            return {
                safe_text(str(k), max_len=max_len): (
                    safe_text(v, prose=True, max_len=prose_max_len)
                    if k in prose_keys and isinstance(v, str)
                    else walk(v)
                )
                for k, v in item.items()
            }
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def json_depth(value: Any, limit: int) -> int:
    """How deeply ``value``'s lists and dicts nest (a scalar: 0), counted without
    recursion and only up to ``limit + 1``: enough to say that it is too deep."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((v, depth) for v in item if isinstance(v, list | dict))
    return deepest
