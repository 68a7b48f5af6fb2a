"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["EXIT_BAD_INPUT", "EXIT_CONFIG", "EXIT_OK", "app", "err_console", "fail"]

EXIT_OK = 0
EXIT_BAD_INPUT = 1
"""The input (a file, a message, an expression) is wrong; the message names the place."""
EXIT_CONFIG = 2
"""The project, a flow file or the command line is wrong."""

app = typer.Typer(
    name="splice",
    help="Declarative, governed integration flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print a one-line error (never a traceback) and exit."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)
