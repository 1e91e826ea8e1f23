"""Event sources behind one interface (``EventSource``): live child process, replay, follow.

Only the protocol is imported here, so that importing ``tui.sources`` (which the
trainer child process does) stays cheap and never pulls in textual.
"""

from __future__ import annotations

from bp_tui.tui.sources.base import COMMANDS, EventSource

__all__ = ["COMMANDS", "EventSource"]
