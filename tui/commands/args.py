"""The argument parser every ``bp-tui`` command builds on, and its number types.

argparse prints usage and exits on a bad argument; our commands report every user
error the same way instead: one line ``bp-tui: error: KEY: problem``, exit status 2
(``CliError``, caught by the caller).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from bp_tui.tui.errors import CliError


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error raises ``CliError`` (one line, exit 2) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise CliError(None, self.prog, f"{message} (see {self.prog} --help)")


def positive(kind: type[float] | type[int], name: str) -> Callable[[str], float]:
    """An argparse ``type`` that accepts numbers > 0 and words the error our way."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise CliError(None, name, f"found {text!r}, expected a number") from None
        if not value > 0:
            raise CliError(None, name, f"found {text}, expected a number > 0")
        return value

    return parse


def non_negative(name: str) -> Callable[[str], float]:
    """An argparse ``type`` for numbers >= 0 (0 meaning "no limit")."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise CliError(None, name, f"found {text!r}, expected a number") from None
        if not value >= 0:
            raise CliError(None, name, f"found {text}, expected a number >= 0 (0: no limit)")
        return value

    return parse
