"""The ``splice`` command line.

Every public module of this package (a name without a leading underscore, other than
``app``) holds commands registered on :data:`splice.cli.app.app`; they are imported here,
so adding a command is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from splice.cli.app import app

__all__ = ["app", "main"]


def load_commands() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_") and module.name != "app":
            importlib.import_module(f"splice.cli.{module.name}")


def main() -> None:
    load_commands()
    app()
