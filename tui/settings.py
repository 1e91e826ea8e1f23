"""What the dashboard remembers between launches (the theme), in the user's config folder.

``$XDG_CONFIG_HOME/bp-tui/settings.json`` (``~/.config/bp-tui/`` when the variable is
unset). A missing or unreadable file is the defaults; a failed write is ignored (the
choice is then not remembered, nothing else changes). Only the command line reads and
writes it: an app built in a test remembers nothing unless given a ``Settings``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "bp-tui" / "settings.json"


@dataclass
class Settings:
    theme: str | None = None
    path: Path | None = None  # where ``save`` writes; None: nowhere

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or settings_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        theme = data.get("theme") if isinstance(data, dict) else None
        return cls(theme=theme if isinstance(theme, str) else None, path=path)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"theme": self.theme}) + "\n", encoding="utf-8")
        except OSError:
            pass  # not remembered; the run itself is unaffected
