"""The ``splice`` command line."""

from __future__ import annotations

import importlib

from splice.cli.app import app

__all__ = ["app", "main"]

_COMMAND_MODULES = ("convert", "map", "run", "init", "validate", "docs")


def main() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"splice.cli.{name}")
    app()
